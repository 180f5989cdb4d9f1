"""Credit notes from invoices, Post & Match, Match and undoing it, through the API (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    for body in (
        account_body("CUST01", "ACME"),
        account_body("VEND01", "ACME", kind="vendor", trading_currencies=["GBP"]),
        account_body("VEND02", "ACME", kind="vendor", trading_currencies=["GBP"]),
    ):
        assert invoke_api(api, "POST", "/accounts", "admin", body).status == 201
    return api


def line(amount: str, tax_code: str = "ZERO") -> dict[str, Any]:
    return {"description": "Goods", "quantity": "1", "unit_price": amount, "tax_code": tax_code}


def posted_invoice(api: Any, doc_type: str = "payable_invoice", **overrides: Any) -> dict[str, Any]:
    """A Complete invoice of 1,200.00 (1,000.00 + 20% tax) unless told otherwise."""
    body = document_body(doc_type, lines=[line("1000.00", "STD")], **overrides)
    created = invoke_api(api, "POST", "/documents", "clerk", body)
    assert created.status == 201, created.body
    posted = invoke_api(api, "POST", f"/documents/{created.body['id']}/post", "clerk")
    assert posted.status == 200, posted.body
    return dict(posted.body)


def credit_note(api: Any, invoice: dict[str, Any], amount: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"document_date": "2026-11-25"}
    if amount is not None:
        body["lines"] = [line(amount)]
    answer = invoke_api(api, "POST", f"/documents/{invoice['id']}/credit-note", "clerk", body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def read(api: Any, document: dict[str, Any]) -> dict[str, Any]:
    return dict(invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body)


def test_a_posted_invoice_has_its_gross_outstanding_and_no_matches(acme: Any) -> None:
    invoice = posted_invoice(acme)
    assert invoice["outstanding"] == "1200.00"
    assert invoice["matches"] == []
    journal = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal")).body
    posted = invoke_api(acme, "POST", f"/documents/{journal['id']}/post", "clerk").body
    assert posted["outstanding"] is None  # a journal has nothing outstanding


def test_a_credit_note_from_an_invoice_copies_it_and_names_its_source(acme: Any) -> None:
    # Given a Complete sales invoice
    invoice = posted_invoice(acme, "sales_invoice")
    # When a credit note is made from it without lines
    note = credit_note(acme, invoice)
    # Then it is an In Progress SCR for the same company, account, currency and lines
    assert note["type"] == "sales_credit_note" and note["number"] == "SCR000001"
    assert note["status"] == "In Progress"
    assert (note["company"], note["account"], note["currency"]) == ("ACME", "CUST01", "GBP")
    assert note["source_document"] == invoice["id"]
    assert note["reference"] == invoice["number"]
    assert [(ln["quantity"], ln["unit_price"], ln["tax_code"]) for ln in note["lines"]] == [
        ("1", "1000.00", "STD")
    ]


def test_a_credit_note_is_made_only_from_a_complete_invoice(acme: Any) -> None:
    draft = invoke_api(acme, "POST", "/documents", "clerk", document_body("payable_invoice")).body
    answer = invoke_api(acme, "POST", f"/documents/{draft['id']}/credit-note", "clerk")
    assert answer.status == 409 and answer.error_code == "document_in_progress"
    journal = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal")).body
    invoke_api(acme, "POST", f"/documents/{journal['id']}/post", "clerk")
    answer = invoke_api(acme, "POST", f"/documents/{journal['id']}/credit-note", "clerk")
    assert answer.status == 409 and answer.error_code == "not_an_invoice"


def test_post_and_match_posts_the_credit_note_and_matches_both(acme: Any) -> None:
    # Given a payable invoice of 1,200.00 and a credit note of 200.00 made from it
    invoice = posted_invoice(acme)
    note = credit_note(acme, invoice, "200.00")
    # When it is Post & Matched
    answer = invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    # Then the credit note is Complete with nothing outstanding, the invoice has 1,000.00
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "Complete" and answer.body["number"] == "PCR000001"
    assert answer.body["outstanding"] == "0.00"
    assert answer.body["matched_with"]["outstanding"] == "1000.00"
    invoice_now, note_now = read(acme, invoice), read(acme, note)
    assert invoice_now["outstanding"] == "1000.00" and note_now["outstanding"] == "0.00"
    # and one match on both, naming each other
    [on_invoice], [on_note] = invoice_now["matches"], note_now["matches"]
    assert on_invoice["id"] == on_note["id"]
    assert (on_invoice["with"], on_note["with"]) == (note["id"], invoice["id"])
    assert on_invoice["amount"] == on_note["amount"] == "200.00"
    # and the transaction and the print view show it
    transaction = invoke_api(acme, "GET", f"/documents/{invoice['id']}/transaction", "clerk")
    assert transaction.body["outstanding"] == "1000.00"
    assert transaction.body["matches"][0]["with"] == note["id"]
    printed = invoke_api(acme, "GET", f"/documents/{invoice['id']}/print", "clerk")
    assert "Matched" in printed.body and "PCR000001" in printed.body and "£1,000.00" in printed.body


def test_post_and_match_refuses_a_credit_note_bigger_than_the_invoice_outstanding(
    acme: Any,
) -> None:
    invoice = posted_invoice(acme)
    note = credit_note(acme, invoice, "1500.00")
    answer = invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    assert answer.status == 409 and answer.error_code == "not_outstanding", answer.body
    assert "1200.00" in answer.body["error"]["message"]
    assert read(acme, note)["status"] == "In Progress"
    assert read(acme, note)["version"] == note["version"]
    assert read(acme, invoice)["outstanding"] == "1200.00"
    assert read(acme, invoice)["matches"] == []
    # It can still be posted, and matched later for what the invoice has
    invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk")
    matched = invoke_api(
        acme, "POST", f"/documents/{note['id']}/match", "clerk", {"with": invoice["id"]}
    )
    assert matched.status == 200, matched.body
    assert matched.body["outstanding"] == "300.00"  # the credit note keeps 300.00 of credit
    assert matched.body["matched_with"]["outstanding"] == "0.00"


def test_post_and_match_refuses_an_invoice_matched_already(acme: Any) -> None:
    invoice = posted_invoice(acme)
    first, second = credit_note(acme, invoice, "100.00"), credit_note(acme, invoice, "50.00")
    assert (
        invoke_api(acme, "POST", f"/documents/{first['id']}/post-and-match", "clerk").status == 200
    )
    answer = invoke_api(acme, "POST", f"/documents/{second['id']}/post-and-match", "clerk")
    assert answer.status == 409 and answer.error_code == "invoice_already_matched"
    assert read(acme, second)["status"] == "In Progress"
    assert read(acme, invoice)["outstanding"] == "1100.00"


def test_post_and_match_refuses_a_credit_note_failing_validation_and_changes_nothing(
    acme: Any,
) -> None:
    invoice = posted_invoice(acme)
    note = credit_note(acme, invoice, "200.00")
    invoke_api(acme, "PATCH", f"/documents/{note['id']}", "clerk", {"document_date": "2026-10-15"})
    answer = invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    assert answer.status == 422 and answer.error_code == "posting_validation_failed"
    assert read(acme, note)["status"] == "In Progress"
    assert read(acme, invoice)["outstanding"] == "1200.00" and read(acme, invoice)["matches"] == []


def test_post_and_match_refuses_a_credit_note_that_would_post_in_the_background(
    acme: Any,
) -> None:
    invoke_api(
        acme,
        "PUT",
        "/companies/ACME/settings",
        "admin",
        {"line_thresholds": {"payable_credit_note": 1}},
    )
    invoice = posted_invoice(acme)
    answer = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/credit-note",
        "clerk",
        {"document_date": "2026-11-25", "lines": [line("10.00"), line("20.00")]},
    )
    refused = invoke_api(acme, "POST", f"/documents/{answer.body['id']}/post-and-match", "clerk")
    assert refused.status == 409
    assert refused.error_code == "post_and_match_needs_immediate_posting"
    assert "Post it, then Match it" in refused.body["error"]["message"]
    assert read(acme, answer.body)["status"] == "In Progress"


def test_post_and_match_needs_a_credit_note_made_from_an_invoice(acme: Any) -> None:
    note = invoke_api(
        acme, "POST", "/documents", "clerk", document_body("payable_credit_note")
    ).body
    answer = invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    assert answer.status == 409 and answer.error_code == "no_source_invoice"


def test_match_refuses_documents_of_other_accounts_or_not_complete(acme: Any) -> None:
    invoice = posted_invoice(acme)
    other_vendor = posted_invoice(acme, account="VEND02")
    note = credit_note(acme, other_vendor, "10.00")
    refused = invoke_api(
        acme, "POST", f"/documents/{invoice['id']}/match", "clerk", {"with": note["id"]}
    )
    assert refused.status == 409 and refused.error_code == "documents_not_matchable"
    same = credit_note(acme, invoice, "10.00")
    refused = invoke_api(
        acme, "POST", f"/documents/{invoice['id']}/match", "clerk", {"with": same["id"]}
    )
    assert refused.status == 409 and refused.error_code == "document_in_progress"
    assert read(acme, invoice)["matches"] == []


def test_a_match_of_part_and_its_undoing_restore_both(acme: Any) -> None:
    invoice = posted_invoice(acme)
    note = credit_note(acme, invoice, "200.00")
    invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk")
    matched = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/match",
        "clerk",
        {"with": note["id"], "amount": "50.00"},
    )
    assert matched.status == 200, matched.body
    assert matched.body["outstanding"] == "1150.00"
    assert matched.body["matched_with"]["outstanding"] == "150.00"
    too_much = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/match",
        "clerk",
        {"with": note["id"], "amount": "150.01"},
    )
    assert too_much.status == 409 and too_much.error_code == "not_outstanding"
    match_id = matched.body["matches"][0]["id"]
    undone = invoke_api(acme, "DELETE", f"/matches/{match_id}", "clerk")
    assert undone.status == 200, undone.body
    assert undone.body["invoice"]["outstanding"] == "1200.00"
    assert undone.body["credit_note"]["outstanding"] == "200.00"
    assert read(acme, invoice)["matches"] == [] and read(acme, note)["matches"] == []
    again = invoke_api(acme, "DELETE", f"/matches/{match_id}", "clerk")
    assert again.status == 404 and again.error_code == "match_not_found"


def test_an_amount_in_more_decimals_than_the_currency_is_refused(acme: Any) -> None:
    invoice = posted_invoice(acme)
    note = credit_note(acme, invoice, "200.00")
    invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk")
    answer = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/match",
        "clerk",
        {"with": note["id"], "amount": "1.001"},
    )
    assert (
        answer.status == 422 and answer.body["error"]["details"]["errors"][0]["field"] == "amount"
    )


def test_the_open_items_list_shows_an_accounts_outstanding_documents(acme: Any) -> None:
    first, second = posted_invoice(acme), posted_invoice(acme)
    posted_invoice(acme, account="VEND02")
    invoke_api(acme, "POST", "/documents", "clerk", document_body("payable_invoice"))  # draft
    note = credit_note(acme, first, "1200.00")
    invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    answer = invoke_api(
        acme, "GET", "/documents?company=ACME&account=VEND01&outstanding=true", "clerk"
    )
    assert answer.status == 200, answer.body
    assert [d["number"] for d in answer.body["documents"]] == [second["number"]]
    everything = invoke_api(acme, "GET", "/documents?company=ACME&account=VEND01&limit=2", "clerk")
    assert len(everything.body["documents"]) == 2 and everything.body["next"]
    rest = invoke_api(
        acme,
        "GET",
        f"/documents?company=ACME&account=VEND01&limit=2&next={everything.body['next']}",
        "clerk",
    )
    numbers = [d["number"] for d in everything.body["documents"] + rest.body["documents"]]
    assert sorted(numbers) == ["PCR000001", "PIN000001", "PIN000002", "PIN000004"]


def test_documents_of_a_company_the_user_may_not_use_are_not_found(acme: Any) -> None:
    invoice = posted_invoice(acme)
    claims = {"sub": "beta", "email": "b@example.com", "custom:companies": "BETA"}
    from tests.support.api import invoke_api as call

    answer = call(acme, "POST", f"/documents/{invoice['id']}/credit-note", None, {}, claims=claims)
    assert answer.status == 404 and answer.error_code == "document_not_found"


def test_the_openapi_document_lists_the_payables_routes(api: Any) -> None:
    paths = invoke_api(api, "GET", "/openapi.json", user=None).body["paths"]
    assert set(paths["/documents/{document_id}/credit-note"]) == {"post"}
    assert set(paths["/documents/{document_id}/post-and-match"]) == {"post"}
    assert set(paths["/documents/{document_id}/match"]) == {"post"}
    assert set(paths["/matches/{match_id}"]) == {"delete"}
    assert set(paths["/documents/save-and-post"]) == {"post"}
    assert set(paths["/recurring-invoices"]) == {"post"}
    assert set(paths["/recurring-invoices/{template_id}"]) == {"get", "delete"}
    listed = {p["name"] for p in paths["/documents"]["get"]["parameters"]}
    assert {"account", "outstanding"} <= listed


def _note_of(api: Any, invoice: dict[str, Any], quantity: str, price: str) -> dict[str, Any]:
    body = {
        "document_date": "2026-11-25",
        "lines": [
            {"description": "Goods", "quantity": quantity, "unit_price": price, "tax_code": "STD"}
        ],
    }
    answer = invoke_api(api, "POST", f"/documents/{invoice['id']}/credit-note", "clerk", body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_post_and_match_refuses_a_credit_note_that_charges_the_account(acme: Any) -> None:
    # Given an invoice of 1,200.00 and a credit note from it of -1 x 50.00 (+ tax: -60.00)
    invoice = posted_invoice(acme, "sales_invoice")
    note = _note_of(acme, invoice, "-1", "50.00")
    # When it is Post & Matched
    answer = invoke_api(acme, "POST", f"/documents/{note['id']}/post-and-match", "clerk")
    # Then it is refused, naming why, and nothing changed
    assert answer.status == 409 and answer.error_code == "nothing_to_credit", answer.body
    assert "charges the account" in answer.body["error"]["message"]
    assert read(acme, invoice)["outstanding"] == "1200.00"
    assert read(acme, note)["status"] == "In Progress"


def test_post_and_match_refuses_a_zero_credit_note_so_the_real_one_can_follow(acme: Any) -> None:
    invoice = posted_invoice(acme, "sales_invoice")
    zero = _note_of(acme, invoice, "0", "50.00")
    answer = invoke_api(acme, "POST", f"/documents/{zero['id']}/post-and-match", "clerk")
    assert answer.status == 409 and answer.error_code == "nothing_to_credit"
    # and the invoice is not blocked by a match of nothing
    real = _note_of(acme, invoice, "1", "100.00")
    matched = invoke_api(acme, "POST", f"/documents/{real['id']}/post-and-match", "clerk")
    assert matched.status == 200, matched.body
    assert read(acme, invoice)["outstanding"] == "1080.00"


def test_a_posted_credit_note_that_charges_has_a_negative_outstanding_no_match_takes(
    acme: Any,
) -> None:
    # Given an invoice and a credit note from it that charges 60.00 more, posted plainly
    invoice = posted_invoice(acme, "sales_invoice")
    note = _note_of(acme, invoice, "-1", "50.00")
    posted = invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk")
    assert posted.status == 200, posted.body
    assert posted.body["outstanding"] == "-60.00"
    # When it is matched with the invoice, then it is refused and both keep what they had
    answer = invoke_api(
        acme, "POST", f"/documents/{invoice['id']}/match", "clerk", {"with": note["id"]}
    )
    assert answer.status == 409 and answer.error_code == "not_outstanding", answer.body
    assert read(acme, invoice)["outstanding"] == "1200.00"
    assert read(acme, note)["outstanding"] == "-60.00"
