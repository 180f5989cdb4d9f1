"""Background invoice verification through the API, the run and the worker (moto, SQS, SES).

Purchase orders and goods receipts, payable invoices that reference order lines, verified in
a run against what was received: the source's example, tolerances (accept, reduce), the
invoice verified with errors (tried again in every run without counting attempts; rescheduled,
set back to In Progress, discarded) and who may do what.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from background_posting.config import Settings
from infra.emails import sent_emails
from tests.support.api import Answer, invoke_api
from tests.support.data import account_body, company_body
from tests.support.purchasing import ORDER_ID, invoice_body, order_body, receipt_body
from tests.support.queues import Drain


class Purchasing:
    """A company with a vendor and the source's purchase order, through the API."""

    def __init__(self, api: Any, settings: Settings, **settings_body: Any):
        self.api = api
        self.drain = Drain(settings)
        self.call("POST", "/companies", "admin", company_body("ACME"))
        vendor = account_body("VEND01", kind="vendor", trading_currencies=["GBP"])
        self.call("POST", "/accounts", "admin", vendor)
        if settings_body:
            answer = self.call("PUT", "/companies/ACME/settings", "admin", settings_body)
            assert answer.status == 200, answer.body
        created = self.call("POST", "/purchase-orders", "clerk", order_body())
        assert created.status == 201, created.body

    def call(self, method: str, path: str, user: str = "clerk", body: Any = None) -> Answer:
        return invoke_api(self.api, method, path, user, body)

    def receive(self, line: int, quantity: str) -> Answer:
        answer = self.call("POST", "/goods-receipts", "clerk", receipt_body(line, quantity))
        assert answer.status == 201, answer.body
        return answer

    def invoice(self, lines: list[tuple[str, str, int]] | None = None) -> dict[str, Any]:
        answer = self.call("POST", "/documents", "clerk", invoice_body(lines))
        assert answer.status == 201, answer.body
        return dict(answer.body)

    def post(self, document: dict[str, Any]) -> Answer:
        return self.call("POST", f"/documents/{document['id']}/post", "clerk", {"mode": "auto"})

    def post_online(self, document: dict[str, Any]) -> Answer:
        path = f"/documents/{document['id']}/post"
        return self.call("POST", path, "clerk", {"mode": "immediate"})

    def run(self) -> dict[str, Any]:
        """Run Now, with the run, worker and notification functions until the queues drain."""
        run_id = self.call("POST", "/scheduler/run", "runner").body["run_id"]
        self.drain.all()
        return dict(self.call("GET", f"/runs/{run_id}", "runner").body)

    def read(self, document: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("GET", f"/documents/{document['id']}").body)

    def order(self) -> dict[int, dict[str, Any]]:
        body = self.call("GET", f"/purchase-orders/{ORDER_ID}").body
        return {line["line"]: line for line in body["lines"]}

    def items(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        number = self.read(document)["number"]
        return list(self.call("GET", f"/worker-items?reference={number}").body["worker_items"])

    def transaction(self, document: dict[str, Any]) -> dict[str, Any]:
        return dict(self.call("GET", f"/documents/{document['id']}/transaction").body)


def analysis(transaction: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (line["gl_account"], line["document_value"])
        for line in transaction["lines"]
        if line["kind"] == "analysis"
    ]


def test_the_source_example_fails_while_goods_are_missing_and_posts_after_the_second_receipt(
    api: Any, aws: Settings
) -> None:
    # Given the order, the first goods receipt (100 x 10.00) and the vendor's invoice of 1,600
    office = Purchasing(api, aws)
    office.call("PUT", "/settings/background-posting", "admin", {"max_attempts": 2})
    office.receive(1, "100")
    invoice = office.invoice()

    # When the clerk presses Post
    posted = office.post(invoice)

    # Then it goes to the background to be verified before it posts
    assert posted.status == 202, posted.body
    assert posted.body["status"] == "Ready to Post"
    assert posted.body["verification"]["status"] == "pending"
    assert [i["action"] for i in office.items(invoice)] == ["verify_invoice", "post_document"]

    # When three runs find only the first receipt (more runs than the maximum attempts)
    for _ in range(3):
        run = office.run()
        assert run["counts"]["failed"] == 1 and run["counts"]["returned_to_in_progress"] == 0
        assert run["counts"]["waiting_for_goods"] == 1  # of the failed: waiting for goods

    # Then the invoice waits, verified with errors that say what is expected and missing
    waiting = office.read(invoice)
    assert waiting["status"] == "Ready to Post"
    verification = waiting["verification"]
    assert verification["status"] == "with_errors"
    assert (verification["expected"], verification["invoiced"]) == ("1000.00", "1600.00")
    assert verification["difference"] == "600.00"
    codes = [e["code"] for e in verification["errors"]]
    assert codes == [
        "invoice_verification_failed",
        "order_line_difference",
        "order_line_difference",
    ]
    line_two = verification["errors"][2]
    assert line_two["field"] == "lines[1]" and line_two["not_received"] == "50"
    assert "50 of 50 not received yet" in line_two["message"]
    # ...its tries were not counted as attempts
    assert [i["attempts"] for i in office.items(invoice)] == [0, 0]
    # ...and the worker log group has one entry per run, each with every error
    group_id = office.call("GET", "/worker-log-groups").body["worker_log_groups"][0]["id"]
    entries = office.call("GET", f"/worker-log-groups/{group_id}").body["entries"]
    failures = [e for e in entries if e["outcome"] == "failed"]
    assert len(failures) == 3 and all(len(e["errors"]) == 3 for e in failures)
    # ...and the first run's e-mail said what is missing; the repeats sent nothing more
    mails = [m for m in sent_emails() if "clerk" in m["to"][0]]
    assert len(mails) == 1, [m["subject"] for m in mails]
    assert "GBP 1,000.00" in mails[0]["text"] and "not received yet" in mails[0]["text"]
    assert "Waiting for goods receipts: verified again in every run" in mails[0]["text"]

    # When the second receipt (50 x 12.00) arrives and the next run verifies again
    office.receive(2, "50")
    run = office.run()

    # Then the invoice posts: its lines' differences cancel out
    assert run["counts"]["posted"] == 1
    done = office.read(invoice)
    assert done["status"] == "Complete"
    assert done["verification"]["status"] == "verified"
    assert done["verification"]["outcome"] == "matched"
    assert done["verification"]["expected"] == "1600.00"
    assert office.items(invoice) == []
    assert analysis(office.transaction(invoice)) == [("5000", "1100.00"), ("5000", "500.00")]
    # ...and the order lines are invoiced for what was received
    lines = office.order()
    assert (lines[1]["received_quantity"], lines[1]["invoiced_quantity"]) == ("100", "100")
    assert (lines[2]["received_quantity"], lines[2]["invoiced_quantity"]) == ("50", "50")


@pytest.mark.parametrize(
    ("within", "expected_lines", "gross"),
    [
        ("accept", [("5000", "1003.00"), ("7910", "3.00"), ("5000", "-3.00")], "-1003.00"),
        ("reduce", [("5000", "1003.00"), ("5000", "-3.00")], "-1000.00"),
    ],
)
def test_a_difference_within_tolerance_is_accepted_or_reduced_by_setting(
    api: Any, aws: Settings, within: str, expected_lines: list[tuple[str, str]], gross: str
) -> None:
    # Given a tolerance of 5.00 or 0.1 %, and an invoice 3.00 over what was received
    tolerance = {"tolerance_amount": "5.00", "tolerance_percent": "0.1", "within_tolerance": within}
    office = Purchasing(api, aws, invoice_verification=tolerance)
    office.receive(1, "100")
    invoice = office.invoice([("100", "10.03", 1)])
    assert office.post(invoice).status == 202

    # When a run verifies it
    office.run()

    # Then it posts: the difference on small differences, or the invoice reduced by it
    done = office.read(invoice)
    assert done["status"] == "Complete", done["verification"]
    assert done["verification"]["difference"] == "3.00"
    assert done["verification"]["tolerance"] == "5.00"
    if within == "accept":
        assert done["verification"]["outcome"] == "accepted"
        assert done["verification"]["small_difference"] == "3.00"
    else:
        assert done["verification"]["outcome"] == "reduced"
        assert done["verification"]["reduced_by"] == "3.00"
    transaction = office.transaction(invoice)
    assert analysis(transaction) == expected_lines
    control = [line for line in transaction["lines"] if line["kind"] == "control"]
    assert [line["document_value"] for line in control] == [gross]
    assert office.order()[1]["invoiced_quantity"] == "100"


def test_a_difference_beyond_tolerance_fails_by_the_larger_of_amount_and_percent(
    api: Any, aws: Settings
) -> None:
    # Given a tolerance of 2.00 or 0.5 % (5.00 of 1,000.00), and an invoice 5.01 over
    tolerance = {"tolerance_amount": "2.00", "tolerance_percent": "0.5"}
    office = Purchasing(api, aws, invoice_verification=tolerance)
    office.receive(1, "100")
    over = office.invoice([("1", "1005.01", 1)])
    office.post(over)

    office.run()

    verification = office.read(over)["verification"]
    assert verification["status"] == "with_errors"
    assert verification["tolerance"] == "5.00"
    assert "beyond the tolerance of GBP 5.00" in verification["errors"][0]["message"]


def test_goods_receipts_past_the_order_for_unknown_lines_or_other_companies_are_refused(
    api: Any, aws: Settings
) -> None:
    # Given the order with 60 of line 1's 100 received
    office = Purchasing(api, aws)
    office.call("POST", "/companies", "admin", company_body("BETA"))
    office.receive(1, "60")

    # When receipts ask for too much, a line the order lacks, or name another company
    too_much = office.call("POST", "/goods-receipts", "clerk", receipt_body(1, "40.5"))
    no_line = office.call("POST", "/goods-receipts", "clerk", receipt_body(3, "1"))
    other = office.call("POST", "/goods-receipts", "clerk", receipt_body(1, "1", company="BETA"))
    negative = office.call("POST", "/goods-receipts", "clerk", receipt_body(1, "-1"))
    floating = office.call(
        "POST",
        "/goods-receipts",
        "clerk",
        {**receipt_body(1, "1"), "lines": [{"line": 1, "quantity": 1.5}]},
    )

    # Then each is refused with the field named, and nothing was received
    assert (too_much.status, too_much.error_code) == (409, "over_receipt")
    assert too_much.body["error"]["details"]["errors"][0]["field"] == "lines[0].quantity"
    assert (no_line.status, no_line.error_code) == (422, "purchase_order_line_not_found")
    assert no_line.body["error"]["details"]["errors"][0]["field"] == "lines[0].line"
    assert (other.status, other.error_code) == (422, "purchase_order_not_found")
    assert negative.status == 400 and floating.status == 400
    assert office.order()[1]["received_quantity"] == "60"
    # ...while exactly the rest is accepted, and a receipt number is recorded once only
    receipt = receipt_body(1, "40", id="GR-1")
    assert office.call("POST", "/goods-receipts", "clerk", receipt).status == 201
    again = office.call(
        "POST", "/goods-receipts", "clerk", {**receipt, "lines": [{"line": 2, "quantity": "1"}]}
    )
    assert (again.status, again.error_code) == (409, "goods_receipt_exists")
    assert office.order()[1]["received_quantity"] == "100"
    assert office.order()[2]["received_quantity"] == "0"


def test_purchase_orders_are_checked_and_seen_only_in_their_company(
    api: Any, aws: Settings
) -> None:
    office = Purchasing(api, aws)
    duplicate = office.call("POST", "/purchase-orders", "clerk", order_body())
    customer = office.call("POST", "/purchase-orders", "clerk", order_body("PO-2", vendor="CUST01"))
    dollars = office.call("POST", "/purchase-orders", "clerk", order_body("PO-3", currency="USD"))
    assert (duplicate.status, duplicate.error_code) == (409, "purchase_order_exists")
    assert (customer.status, customer.error_code) == (422, "account_not_found")
    assert (dollars.status, dollars.error_code) == (422, "currency_not_traded")
    # A user logged into another company neither reads nor receives against it
    office.call("POST", "/companies", "admin", company_body("BETA"))
    office.call("PUT", "/me/companies", "lister", {"companies": ["BETA"]})
    assert office.call("GET", f"/purchase-orders/{ORDER_ID}", "lister").status == 404
    refused = office.call("POST", "/goods-receipts", "lister", receipt_body(1, "1"))
    assert (refused.status, refused.error_code) == (403, "company_not_allowed")
    assert office.call("POST", "/purchase-orders", "lister", order_body("PO-9")).status == 403
    # A new order shows nothing received or invoiced
    order = office.call("GET", f"/purchase-orders/{ORDER_ID}").body
    assert [(ln["received_quantity"], ln["invoiced_quantity"]) for ln in order["lines"]] == [
        ("0", "0"),
        ("0", "0"),
    ]


def test_an_invoice_referencing_orders_is_checked_at_post(api: Any, aws: Settings) -> None:
    office = Purchasing(api, aws)
    unknown = office.call("POST", "/documents", "clerk", invoice_body([("1", "10.00", 9)])).body
    good = office.invoice()
    # An unknown order line: 422 naming the line, and the invoice stays In Progress
    refused = office.post(unknown)
    assert (refused.status, refused.error_code) == (422, "posting_validation_failed")
    assert refused.body["error"]["details"]["errors"][0]["field"] == "lines[0].purchase_order_line"
    assert office.read(unknown)["status"] == "In Progress"
    # Posted online (the integration API) it is verified now: no goods yet, so 422 and nothing
    immediate = office.post_online(good)
    assert (immediate.status, immediate.error_code) == (422, "invoice_verification_failed")
    assert office.read(good)["status"] == "In Progress"
    # Only payable invoices reference purchase orders; both fields or none
    sales = {**invoice_body(), "type": "sales_invoice", "account": "CUST01"}
    assert office.call("POST", "/documents", "clerk", sales).status == 400
    half = invoice_body()
    del half["lines"][0]["purchase_order_line"]
    assert office.call("POST", "/documents", "clerk", half).status == 400


def test_an_invoice_verified_with_errors_can_be_rescheduled_set_back_or_discarded(
    api: Any, aws: Settings
) -> None:
    # Given three invoices verified with errors (no goods received yet)
    office = Purchasing(api, aws)
    rescheduled, changed, discarded = office.invoice(), office.invoice(), office.invoice()
    for invoice in (rescheduled, changed, discarded):
        office.post(invoice)
    office.run()
    assert {office.read(d)["verification"]["status"] for d in (rescheduled, changed)} == {
        "with_errors"
    }

    # When the clerk reschedules the first after the goods arrived
    office.receive(1, "100")
    office.receive(2, "50")
    again = office.call("POST", f"/documents/{rescheduled['id']}/reschedule-verification")
    assert again.status == 200 and again.body["verification"]["status"] == "pending"
    # ...sets the second back to In Progress (its worker items go with that action)
    back = office.call(
        "PUT", f"/documents/{changed['id']}/status", "clerk", {"status": "In Progress"}
    )
    assert back.status == 200, back.body
    assert back.body["status"] == "In Progress" and office.items(changed) == []
    # ...and discards the third, entered twice
    gone = office.call("POST", f"/documents/{discarded['id']}/discard")
    assert gone.status == 200 and gone.body["status"] == "Discarded"
    assert office.items(discarded) == []

    # Then the next run posts the rescheduled invoice; the others are left alone
    office.run()
    assert office.read(rescheduled)["status"] == "Complete"
    assert office.read(changed)["status"] == "In Progress"
    assert office.read(discarded)["status"] == "Discarded"
    # ...and the order's receipts are used up: the changed invoice, posted again, fails
    assert office.post(changed).status == 202
    office.run()
    assert office.read(changed)["verification"]["status"] == "with_errors"
    assert office.read(changed)["verification"]["expected"] == "0.00"
    # Rescheduling what is not verified with errors is refused
    not_waiting = office.call("POST", f"/documents/{rescheduled['id']}/reschedule-verification")
    assert (not_waiting.status, not_waiting.error_code) == (409, "verification_not_with_errors")
    assert Decimal(office.order()[1]["invoiced_quantity"]) == 100


def test_the_openapi_document_describes_purchasing_and_verification(api: Any) -> None:
    document = invoke_api(api, "GET", "/openapi.json", user=None).body
    paths = document["paths"]
    assert {"post"} <= set(paths["/purchase-orders"])
    assert {"get"} <= set(paths["/purchase-orders/{order_id}"])
    assert {"post"} <= set(paths["/goods-receipts"])
    assert {"post"} <= set(paths["/documents/{document_id}/reschedule-verification"])
    schemas = document["components"]["schemas"]
    assert {"purchase_order", "purchase_order_line"} <= set(schemas["DocumentLine"]["properties"])
    assert {"status", "expected", "invoiced", "difference", "checked_at", "errors"} <= set(
        schemas["Verification"]["properties"]
    )
    assert {
        "tolerance_amount",
        "tolerance_percent",
        "within_tolerance",
        "after_posting",
        "post_values",
    } == set(schemas["InvoiceVerificationSettings"]["properties"])
    assert {"post"} <= set(paths["/documents/{document_id}/complete-verification"])


def test_online_verification_says_what_the_background_would_and_changes_nothing_until_verified(
    api: Any, aws: Settings
) -> None:
    # Given the source's order with only the first receipt, and the vendor's invoice of 1,600
    office = Purchasing(api, aws)
    office.receive(1, "100")
    invoice = office.invoice()
    before = office.read(invoice)

    # When the clerk previews it: the preview says what verification would say
    preview = office.call("POST", f"/documents/{invoice['id']}/preview").body
    assert preview["verification"]["status"] == "with_errors"
    assert preview["verification"]["expected"] == "1000.00"

    # When the clerk posts it online
    refused = office.post_online(invoice)

    # Then 422 with the same errors the background run gives, and nothing changed
    assert (refused.status, refused.error_code) == (422, "invoice_verification_failed"), (
        refused.body
    )
    errors = refused.body["error"]["details"]["errors"]
    assert [e["code"] for e in errors] == [
        "invoice_verification_failed",
        "order_line_difference",
        "order_line_difference",
    ]
    assert "Nothing was posted" in errors[0]["message"]
    assert errors[2]["field"] == "lines[1]" and errors[2]["not_received"] == "50"
    after = office.read(invoice)
    assert (after["status"], after["version"]) == ("In Progress", before["version"])
    assert after.get("verification") is None and office.items(invoice) == []
    order = office.order()
    assert [order[n]["invoiced_quantity"] for n in (1, 2)] == ["0", "0"]

    # When the second receipt arrives and the clerk posts it online again
    office.receive(2, "50")
    assert (
        office.call("POST", f"/documents/{invoice['id']}/preview").body["verification"]["status"]
        == "verified"
    )
    posted = office.post_online(invoice)

    # Then it is verified and Complete at once, its order lines invoiced, nothing queued
    assert posted.status == 200, posted.body
    assert posted.body["status"] == "Complete"
    assert posted.body["verification"]["status"] == "verified"
    assert office.items(invoice) == []
    order = office.order()
    assert [order[n]["invoiced_quantity"] for n in (1, 2)] == ["100", "50"]
    # ...and the receipts cannot be invoiced again, online or in the background
    second = office.invoice()
    again = office.post_online(second)
    assert (again.status, again.error_code) == (422, "invoice_verification_failed")


def test_a_company_may_post_verified_invoices_not_completed_until_someone_completes_them(
    api: Any, aws: Settings
) -> None:
    # Given a company that wants a second look at verified invoices before they are done
    office = Purchasing(api, aws, invoice_verification={"after_posting": "posted_not_completed"})
    office.receive(1, "100")
    office.receive(2, "50")
    queued, online = office.invoice(), office.invoice([("1", "10.00", 1)])

    # When one invoice is verified in a run and... (the receipts cover only one of them)
    office.post(queued)
    office.run()

    # Then it is posted, its verification not completed, and the list finds it
    posted = office.read(queued)
    assert posted["status"] == "Complete" and posted["transaction_number"]
    assert posted["verification"]["status"] == "posted_not_completed"
    waiting = office.call(
        "GET", "/documents?company=ACME&type=payable_invoice&verification=posted_not_completed"
    ).body["documents"]
    assert [d["id"] for d in waiting] == [queued["id"]]

    # When the clerk completes it
    done = office.call("POST", f"/documents/{queued['id']}/complete-verification")

    # Then its verification is posted, with who and when; once only
    assert done.status == 200, done.body
    assert done.body["verification"]["status"] == "posted"
    assert done.body["verification"]["completed_by"] == "clerk"
    assert done.body["verification"]["completed_at"]
    again = office.call("POST", f"/documents/{queued['id']}/complete-verification")
    assert (again.status, again.error_code) == (409, "verification_not_open")
    assert "posted_not_completed" not in str(
        office.call("GET", "/documents?company=ACME&verification=posted_not_completed").body[
            "documents"
        ]
    )
    # ...and an invoice with nothing left to verify against is refused online, unchanged
    refused = office.post_online(online)
    assert (refused.status, refused.error_code) == (422, "invoice_verification_failed")
    # ...nor can an In Progress invoice be completed
    open_one = office.call("POST", f"/documents/{online['id']}/complete-verification")
    assert (open_one.status, open_one.error_code) == (409, "verification_not_open")


def test_by_default_a_verified_invoice_is_posted_and_done(api: Any, aws: Settings) -> None:
    office = Purchasing(api, aws)
    office.receive(1, "100")
    office.receive(2, "50")
    posted = office.post_online(office.invoice())
    assert posted.status == 200, posted.body
    assert posted.body["verification"]["status"] == "verified"


def _invoice_of_orders(office: Purchasing, *orders: str) -> dict[str, Any]:
    body = invoice_body(purchase_orders=list(orders))
    body["lines"] = []
    answer = office.call("POST", "/documents", "clerk", body)
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_an_invoice_naming_only_its_orders_posts_the_suggested_lines(
    api: Any, aws: Settings
) -> None:
    # Given the order with 100 bolts received and 20 of the 50 nuts, and an invoice that names
    # the order but keys no lines
    office = Purchasing(api, aws)
    office.receive(1, "100")
    office.receive(2, "20")
    invoice = _invoice_of_orders(office, ORDER_ID)
    assert invoice["purchase_orders"] == [ORDER_ID] and invoice["lines"] == []
    # When it is posted, it is verified in the background and posted by a run
    posted = office.post(invoice)
    assert posted.status == 202, posted.body
    assert [i["action"] for i in office.items(invoice)] == ["verify_invoice", "post_document"]
    assert office.run()["counts"]["posted"] == 1
    # Then verification built its lines from what was received, at the order's prices
    done = office.read(invoice)
    assert done["status"] == "Complete"
    verification = done["verification"]
    assert verification["outcome"] == "matched"
    assert [
        (s["purchase_order_line"], s["quantity"], s["unit_price"])
        for s in verification["suggested"]
    ] == [(1, "100", "10.00"), (2, "20", "12.00")]
    # and the ledger posts those values: 1,000.00 and 240.00
    transaction = office.transaction(invoice)
    nets = sorted(
        line["document_value"] for line in transaction["lines"] if line["kind"] == "analysis"
    )
    assert nets == ["1000.00", "240.00"]
    # and the order lines are invoiced for what was received
    assert [(n, line["invoiced_quantity"]) for n, line in office.order().items()] == [
        (1, "100"),
        (2, "20"),
    ]


def test_an_invoice_naming_orders_with_nothing_received_waits_and_says_so(
    api: Any, aws: Settings
) -> None:
    office = Purchasing(api, aws)
    invoice = _invoice_of_orders(office, ORDER_ID)
    # Online: 422 and nothing changes
    online = office.post_online(invoice)
    assert online.status == 422, online.body
    assert "Nothing has been received" in online.body["error"]["message"]
    assert office.read(invoice)["status"] == "In Progress"
    # In the background: it waits for the goods
    assert office.post(invoice).status == 202
    office.run()
    waiting = office.read(invoice)
    assert waiting["status"] == "Ready to Post"
    assert waiting["verification"]["errors"][0]["field"] == "purchase_orders"


def test_purchase_orders_are_refused_where_they_do_not_belong(api: Any, aws: Settings) -> None:
    office = Purchasing(api, aws)
    unknown = _invoice_of_orders(office, "PO-NONE")
    refused = office.post(unknown)
    assert refused.status == 422, refused.body
    assert refused.body["error"]["details"]["errors"][0]["field"] == "purchase_orders[0]"
    sales = invoice_body(purchase_orders=[ORDER_ID], type="sales_invoice")
    sales["lines"] = []
    assert office.call("POST", "/documents", "clerk", sales).status == 400
    both = invoice_body(purchase_orders=[ORDER_ID])  # and lines referencing the order
    answer = office.call("POST", "/documents", "clerk", both)
    assert answer.status == 400 and "purchase_orders" in answer.body["error"]["message"]


def test_a_company_may_post_the_suggested_values_instead_of_the_vendor_s(
    api: Any, aws: Settings
) -> None:
    # Given a company that posts what verification suggests, and the source's receipts
    office = Purchasing(api, aws, invoice_verification={"post_values": "suggested"})
    office.receive(1, "100")
    office.receive(2, "50")
    # ...and the vendor's invoice of 1,100.00 and 500.00 for them
    invoice = office.invoice()

    # When it is posted online
    posted = office.post_online(invoice)

    # Then the ledger shows the items at their suggested values, 1,000.00 and 600.00
    assert posted.status == 200, posted.body
    assert posted.body["verification"]["posted_values"] == "suggested"
    values = sorted(value for _, value in analysis(office.transaction(invoice)))
    assert values == ["1000.00", "600.00"]
    # ...and a value the setting does not know is refused, naming the field, nothing changed
    refused = office.call(
        "PUT", "/companies/ACME/settings", "admin", {"invoice_verification": {"post_values": "x"}}
    )
    assert refused.status == 400 and "post_values" in str(refused.body)
    kept = office.call("GET", "/companies/ACME/settings", "admin").body
    assert kept["invoice_verification"]["post_values"] == "suggested"
