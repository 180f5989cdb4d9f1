"""Documents through the API function (moto): numbering, status rules, paging, printing."""

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
    ):
        assert invoke_api(api, "POST", "/accounts", "admin", body).status == 201
    return api


def test_documents_are_numbered_per_company_and_type(acme: Any) -> None:
    first = invoke_api(acme, "POST", "/documents", "clerk", document_body())
    second = invoke_api(acme, "POST", "/documents", "clerk", document_body())
    journal = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal"))
    payable = invoke_api(acme, "POST", "/documents", "clerk", document_body("payable_invoice"))
    assert first.status == 201, first.body
    assert (first.body["number"], second.body["number"]) == ("SIN000001", "SIN000002")
    assert journal.body["number"] == "JNL000001"
    assert payable.body["number"] == "PIN000001"
    assert first.body["status"] == "In Progress"
    assert first.body["lines"][0]["unit_price"] == "12.50"


def test_a_bad_line_is_named_and_nothing_is_created(acme: Any) -> None:
    body = document_body()
    body["lines"][1]["quantity"] = "lots"
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "lines[1].quantity"
    listed = invoke_api(acme, "GET", "/documents?company=ACME", "clerk")
    assert listed.body["documents"] == []


def test_an_unknown_account_is_refused(acme: Any) -> None:
    answer = invoke_api(acme, "POST", "/documents", "clerk", document_body(account="NOBODY"))
    assert answer.status == 422 and answer.error_code == "account_not_found"


def test_listing_filters_by_type_and_status_and_pages(acme: Any) -> None:
    for _ in range(3):
        invoke_api(acme, "POST", "/documents", "clerk", document_body())
    invoke_api(acme, "POST", "/documents", "clerk", document_body("journal"))
    page = invoke_api(acme, "GET", "/documents?company=ACME&type=sales_invoice&limit=2", "clerk")
    assert [d["number"] for d in page.body["documents"]] == ["SIN000001", "SIN000002"]
    assert "lines" not in page.body["documents"][0]
    rest = invoke_api(
        acme,
        "GET",
        f"/documents?company=ACME&type=sales_invoice&limit=2&next={page.body['next']}",
        "clerk",
    )
    assert [d["number"] for d in rest.body["documents"]] == ["SIN000003"]
    assert rest.body["next"] is None
    status = invoke_api(acme, "GET", "/documents?company=ACME&status=In%20Progress", "clerk")
    assert len(status.body["documents"]) == 4
    bad = invoke_api(acme, "GET", "/documents?company=ACME&status=Posted", "clerk")
    assert bad.status == 400 and bad.body["error"]["details"]["errors"][0]["field"] == "status"


def test_amend_then_discard_and_the_status_rules(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    doc = f"/documents/{created['id']}"
    amended = invoke_api(
        acme,
        "PATCH",
        doc,
        "clerk",
        {
            "reference": "PO-7",
            "lines": [{"description": "One", "quantity": "1", "unit_price": "9.99"}],
        },
    )
    assert amended.status == 200, amended.body
    assert amended.body["reference"] == "PO-7" and amended.body["line_count"] == 1
    assert invoke_api(acme, "GET", doc, "clerk").body["lines"] == [
        {
            "description": "One",
            "quantity": "1",
            "unit_price": "9.99",
            "gl_account": None,
            "tax_code": None,
            "income_schedule": None,
            "tax": None,
            "purchase_order": None,
            "purchase_order_line": None,
        }
    ]
    discarded = invoke_api(acme, "POST", f"{doc}/discard", "clerk")
    assert discarded.status == 200 and discarded.body["status"] == "Discarded"
    again = invoke_api(acme, "PATCH", doc, "clerk", {"reference": "late"})
    assert again.status == 409 and again.error_code == "document_discarded"
    assert invoke_api(acme, "POST", f"{doc}/discard", "clerk").status == 409
    assert invoke_api(acme, "GET", doc, "clerk").body["reference"] == "PO-7"


def test_posting_creates_one_balanced_transaction_and_locks_the_document(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    doc = f"/documents/{created['id']}"
    posted = invoke_api(acme, "POST", f"{doc}/post", "clerk", {"mode": "immediate"})
    assert posted.status == 200, posted.body
    assert posted.body["status"] == "Complete"
    assert posted.body["transaction_number"] == "TRN000001"

    transaction = invoke_api(acme, "GET", f"{doc}/transaction", "clerk").body
    assert transaction["number"] == "TRN000001" and transaction["period"] == "2026-11"
    for column in ("document_value", "home_value", "dual_value"):
        assert sum(float(line[column]) for line in transaction["lines"]) == pytest.approx(
            0, abs=1e-9
        )
    assert transaction["discount"] is not None

    assert invoke_api(acme, "POST", f"{doc}/post", "clerk", {"mode": "immediate"}).status == 409
    assert invoke_api(acme, "POST", f"{doc}/discard", "clerk").error_code == "document_complete"
    assert invoke_api(acme, "PATCH", doc, "clerk", {"reference": "x"}).status == 409
    printed = invoke_api(acme, "GET", f"{doc}/print", "clerk")
    assert printed.status == 200
    assert "Sales Invoice SIN000001" in printed.body and "TRN000001" in printed.body
    assert "£52.99" in printed.body


def test_posting_reports_every_problem_and_changes_nothing(acme: Any) -> None:
    body = document_body(document_date="2026-10-15", currency="JPY")
    body["lines"][0]["tax_code"] = "NOPE"
    created = invoke_api(acme, "POST", "/documents", "clerk", body).body
    answer = invoke_api(
        acme, "POST", f"/documents/{created['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert answer.status == 422
    codes = {problem["code"] for problem in answer.body["error"]["details"]["errors"]}
    assert {"period_closed", "currency_not_traded", "tax_code_unknown"} <= codes
    after = invoke_api(acme, "GET", f"/documents/{created['id']}", "clerk").body
    assert after["status"] == "In Progress" and after["transaction_number"] is None


def test_documents_of_other_companies_are_invisible(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    other = {"sub": "o", "email": "o@example.com", "custom:companies": "BETA"}
    assert invoke_api(acme, "GET", f"/documents/{created['id']}", claims=other).status == 404
    assert invoke_api(acme, "POST", "/documents", claims=other, body=document_body()).status == 403
