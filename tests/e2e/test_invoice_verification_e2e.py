"""End to end on the local stack: the source's example of invoice verification in the background.

Order of 100 pieces at 10.00 and 50 at 12.00; the first goods receipt arrives; the vendor's
invoice of 1,600.00 (lines of 1,100.00 and 500.00) is posted. Run Now verifies it with errors
(the e-mail says what is missing); the second receipt arrives; the next run posts it.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.api import http
from tests.support.data import account_body, company_body
from tests.support.http_steps import about, queues_idle
from tests.support.purchasing import invoice_body, order_body, receipt_body
from tests.support.stack import RunningStack
from tests.support.waiting import eventually


def test_the_source_example_posts_after_the_second_goods_receipt_with_the_emails(
    stack: RunningStack,
) -> None:
    url = stack.url
    company = f"IV{uuid.uuid4().hex[:8].upper()}"
    vendor, order_id = f"V-{company}", f"PO-{company}"
    assert http(url, "POST", "/companies", "admin", company_body(company)).status == 201
    vendor_body = account_body(vendor, company, kind="vendor", trading_currencies=["GBP"])
    assert http(url, "POST", "/accounts", "admin", vendor_body).status == 201
    order = order_body(order_id, company, vendor=vendor)
    assert http(url, "POST", "/purchase-orders", "clerk", order).status == 201

    def receive(line: int, quantity: str) -> None:
        body = receipt_body(line, quantity, order_id, company)
        answer = http(url, "POST", "/goods-receipts", "clerk", body)
        assert answer.status == 201, answer.body

    def run_now() -> None:
        assert http(url, "POST", "/scheduler/run", "runner").status == 202

    def invoice_now() -> dict[str, Any]:
        return dict(http(url, "GET", f"/documents/{invoice['id']}", "clerk").body)

    def emails() -> list[dict[str, Any]]:
        return about(company, "clerk@example.com", http(url, "GET", "/_local/emails", None).body)

    # Given the first goods receipt (100 x 10.00) and the invoice of 1,600.00, posted
    receive(1, "100")
    body = invoice_body(order_id=order_id, company=company, account=vendor)
    invoice = http(url, "POST", "/documents", "clerk", body).body
    posted = http(url, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
    assert posted.status == 202, posted.body
    assert posted.body["verification"]["status"] == "pending"

    # When Run Now runs
    run_now()

    # Then the invoice is verified with errors and the clerk's e-mail says what is missing
    eventually(lambda: invoice_now()["verification"]["status"] == "with_errors", 60)
    waiting = invoice_now()
    assert waiting["status"] == "Ready to Post"
    assert waiting["verification"]["expected"] == "1000.00"
    assert waiting["verification"]["invoiced"] == "1600.00"
    (first,) = eventually(emails, 60)
    assert invoice["number"] in first["text"]
    assert "50 of 50 not received yet" in first["text"]
    assert (
        "Waiting for goods receipts" in first["text"]
        and "Waiting for goods receipts" in (first["html"])
    )

    # When the second receipt (50 x 12.00) arrives and Run Now runs again
    receive(2, "50")
    eventually(lambda: queues_idle(url), 60)
    run_now()

    # Then the invoice posts (its lines' differences cancel out) and a second e-mail says so
    eventually(lambda: invoice_now()["status"] == "Complete", 60)
    done = invoice_now()
    assert done["verification"]["status"] == "verified"
    assert done["verification"]["outcome"] == "matched"
    transaction = http(url, "GET", f"/documents/{invoice['id']}/transaction", "clerk").body
    assert [ln["document_value"] for ln in transaction["lines"] if ln["kind"] == "analysis"] == [
        "1100.00",
        "500.00",
    ]
    order_now = http(url, "GET", f"/purchase-orders/{order_id}", "clerk").body
    assert [ln["invoiced_quantity"] for ln in order_now["lines"]] == ["100", "50"]
    mails = eventually(lambda: len(emails()) == 2 and emails(), 60)
    assert f"Posted as {done['transaction_number']}" in mails[-1]["text"]
