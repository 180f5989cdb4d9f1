"""A payable invoice verified with errors, in Chromium on the local stack, as the clerk: its page
shows what verification found (expected, invoiced and difference per order line, the errors)
and the clerk's three ways on: Reschedule verification, Set back to In Progress and Discard
(which asks first); no note that it will post at the next run."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.api import http
from tests.support.console import console_url, sign_in
from tests.support.data import account_body, company_body
from tests.support.purchasing import invoice_body, order_body, receipt_body
from tests.support.stack import RunningStack
from tests.support.waiting import eventually


def _document(stack: RunningStack, document: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = http(stack.url, "GET", f"/documents/{document['id']}", "clerk").body
    return body


def _items(stack: RunningStack, document: dict[str, Any]) -> list[dict[str, Any]]:
    items = http(stack.url, "GET", f"/worker-items?reference={document['number']}", "clerk")
    return [i for i in items.body["worker_items"] if i["document_id"] == document["id"]]


def given_invoices_verified_with_errors(stack: RunningStack, count: int) -> list[dict[str, Any]]:
    """`count` invoices of 1,600.00 on an order of which goods worth 1,000.00 were received
    (line 1: 100 x 10.00; line 2: none), posted by the clerk and verified with errors by a run."""
    url = stack.url
    company = f"VE{uuid.uuid4().hex[:8].upper()}"
    vendor, order_id = f"V-{company}", f"PO-{company}"
    assert http(url, "POST", "/companies", "admin", company_body(company)).status == 201
    vendor_body = account_body(vendor, company, kind="vendor", trading_currencies=["GBP"])
    assert http(url, "POST", "/accounts", "admin", vendor_body).status == 201
    order = order_body(order_id, company, vendor=vendor)
    assert http(url, "POST", "/purchase-orders", "clerk", order).status == 201
    receipt = receipt_body(1, "100", order_id, company)
    assert http(url, "POST", "/goods-receipts", "clerk", receipt).status == 201
    invoices = []
    for _ in range(count):
        body = invoice_body(order_id=order_id, company=company, account=vendor)
        invoice = http(url, "POST", "/documents", "clerk", body).body
        posted = http(url, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
        assert posted.status == 202, posted.body
        invoices.append(invoice)
    assert http(url, "POST", "/scheduler/run", "runner").status == 202
    for invoice in invoices:
        eventually(
            lambda i=invoice: _document(stack, i)["verification"]["status"] == "with_errors", 90
        )
    return invoices


def test_the_clerk_sees_what_verification_found_and_reschedules_sets_back_or_discards(
    page: Page, stack: RunningStack
) -> None:
    # Given three invoices verified with errors (each charges 1,600.00 for goods worth 1,000.00)
    rescheduled, set_back, discarded = given_invoices_verified_with_errors(stack, 3)
    number = rescheduled["number"]

    # When the clerk opens the first
    sign_in(page, stack.url, "clerk", f"/document/{rescheduled['id']}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Ready to Post")
    panel = page.get_by_role("region", name="Invoice verification")
    # Then its page shows the totals and, per order line, expected, invoiced and difference
    expect(panel).to_contain_text(f"{number} was verified with errors")
    for label, amount in (
        ("Expected", "1000.00"),
        ("Invoiced", "1600.00"),
        ("Difference", "600.00"),
    ):
        expect(panel.locator("dl.facts > div").filter(has_text=label)).to_contain_text(amount)
    order_id = _document(stack, rescheduled)["lines"][0]["purchase_order"]
    line_1 = panel.get_by_role("row", name=f"{order_id} line 1")
    expect(line_1).to_contain_text("1000.00")  # expected: 100 received at 10.00
    expect(line_1).to_contain_text("1100.00")  # invoiced
    expect(line_1).to_contain_text("100.00")  # difference
    line_2 = panel.get_by_role("row", name=f"{order_id} line 2")
    expect(line_2).to_contain_text("0.00")  # nothing received yet
    expect(line_2).to_contain_text("500.00")
    # and the errors in verification's words
    errors = panel.get_by_role("list", name="Verification errors")
    expect(errors).to_contain_text("beyond the tolerance")
    expect(errors).to_contain_text("50 of 50 not received yet")
    # and no note that the scheduler will post it at its next run, nor the stuck document's way
    expect(page.get_by_text("will post it at its next run")).to_have_count(0)
    expect(page.get_by_role("region", name="Waiting for background posting")).to_have_count(0)

    # When the clerk reschedules its verification
    panel.get_by_role("button", name="Reschedule verification").click()
    # Then the page says it is verified again in the next run, and it is pending again
    expect(
        page.get_by_role("status").filter(has_text="verified again in the next run")
    ).to_be_visible()
    assert _document(stack, rescheduled)["verification"]["status"] == "pending"

    # When the clerk sets the second back to In Progress
    page.goto(console_url(stack.url, f"/document/{set_back['id']}"))
    panel.get_by_role("button", name="Set back to In Progress").click()
    # Then it is In Progress, its worker items gone, to be changed and posted again
    expect(heading).to_contain_text("In Progress")
    expect(page.get_by_role("status").filter(has_text="In Progress again")).to_be_visible()
    assert _document(stack, set_back)["status"] == "In Progress"
    assert _items(stack, set_back) == []

    # When the clerk presses Discard on the third, it asks first; Keep it changes nothing
    page.goto(console_url(stack.url, f"/document/{discarded['id']}"))
    panel.get_by_role("button", name="Discard", exact=True).click()
    confirm = page.get_by_role("group", name="Confirm discard")
    expect(confirm).to_contain_text(f"Discard {discarded['number']} as it is?")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    assert _document(stack, discarded)["status"] == "Ready to Post"
    # When it is confirmed, the invoice is discarded with its worker items
    panel.get_by_role("button", name="Discard", exact=True).click()
    confirm.get_by_role("button", name=f"Discard {discarded['number']}").click()
    expect(heading).to_contain_text("Discarded")
    assert _document(stack, discarded)["status"] == "Discarded"
    assert _items(stack, discarded) == []
