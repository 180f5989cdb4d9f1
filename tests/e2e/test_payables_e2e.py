"""End to end on the local stack: Post & Match, and recurring invoices created by runs."""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from tests.support.api import http
from tests.support.data import account_body, company_body, document_body
from tests.support.http_steps import finished
from tests.support.stack import RunningStack
from tests.support.waiting import eventually


def open_periods(today: date, months_back: int) -> list[dict[str, str]]:
    """One open period per month from `months_back` months ago to this month."""
    periods = []
    for back in range(months_back, -1, -1):
        first = (today - relativedelta(months=back)).replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        periods.append(
            {
                "name": first.strftime("%Y-%m"),
                "start": first.isoformat(),
                "end": last.isoformat(),
                "status": "open",
            }
        )
    return periods


def given_company(url: str, today: date) -> str:
    company = f"PM{uuid.uuid4().hex[:8].upper()}"
    body = company_body(company, periods=open_periods(today, 4))
    assert http(url, "POST", "/companies", "admin", body).status == 201
    for account in (
        account_body(f"C-{company}", company),
        account_body(f"V-{company}", company, kind="vendor", trading_currencies=["GBP"]),
    ):
        assert http(url, "POST", "/accounts", "admin", account).status == 201
    return company


def goods(amount: str, tax_code: str) -> dict[str, str]:
    return {"description": "Goods", "quantity": "1", "unit_price": amount, "tax_code": tax_code}


def get(url: str, document: dict[str, Any]) -> dict[str, Any]:
    return dict(http(url, "GET", f"/documents/{document['id']}", "clerk").body)


def test_a_credit_note_is_post_and_matched_and_a_too_big_one_refused(stack: RunningStack) -> None:
    url, today = stack.url, date.today()
    company = given_company(url, today)
    # Given a payable invoice of 1,200.00 (1,000.00 and 20% tax), posted
    body = document_body(
        "payable_invoice",
        company=company,
        account=f"V-{company}",
        document_date=today.isoformat(),
        lines=[goods("1000.00", "STD")],
    )
    invoice = http(url, "POST", "/documents", "clerk", body).body
    posted = http(url, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
    assert posted.status == 200 and posted.body["outstanding"] == "1200.00", posted.body
    # When a credit note of 200.00 made from it is Post & Matched
    note = http(
        url,
        "POST",
        f"/documents/{invoice['id']}/credit-note",
        "clerk",
        {"lines": [goods("200.00", "ZERO")]},
    )
    assert note.status == 201 and note.body["type"] == "payable_credit_note", note.body
    matched = http(url, "POST", f"/documents/{note.body['id']}/post-and-match", "clerk")
    # Then the invoice has 1,000.00 outstanding, the credit note 0.00, one match on both
    assert matched.status == 200, matched.body
    invoice_now, note_now = get(url, invoice), get(url, note.body)
    assert note_now["status"] == "Complete"
    assert invoice_now["outstanding"] == "1000.00" and note_now["outstanding"] == "0.00"
    assert len(invoice_now["matches"]) == 1 and len(note_now["matches"]) == 1
    assert invoice_now["matches"][0]["id"] == note_now["matches"][0]["id"]
    assert invoice_now["matches"][0]["amount"] == "200.00"
    # When a second credit note of 1,500.00 is Post & Matched
    big = http(
        url,
        "POST",
        f"/documents/{invoice['id']}/credit-note",
        "clerk",
        {"lines": [goods("1500.00", "ZERO")]},
    ).body
    refused = http(url, "POST", f"/documents/{big['id']}/post-and-match", "clerk")
    # Then it is refused, stays In Progress, and nothing more is matched
    assert refused.status == 409, refused.body
    assert get(url, big)["status"] == "In Progress" and get(url, big)["matches"] == []
    assert get(url, invoice)["outstanding"] == "1000.00"
    assert len(get(url, invoice)["matches"]) == 1
    # And the open-items list shows the invoice with what it has left
    listed = http(
        url, "GET", f"/documents?company={company}&account=V-{company}&outstanding=true", "clerk"
    ).body["documents"]
    assert [(d["number"], d["outstanding"]) for d in listed] == [(invoice["number"], "1000.00")]


def test_a_monthly_recurring_invoice_is_created_once_per_month_due(stack: RunningStack) -> None:
    url, today = stack.url, date.today()
    company = given_company(url, today)
    # Given a monthly recurring invoice with Save & Post started three months ago (its
    # fourth date is tomorrow)
    start = today - relativedelta(months=3) + relativedelta(days=1)
    template = document_body("sales_invoice", company=company, account=f"C-{company}")
    del template["document_date"]
    created = http(
        url,
        "POST",
        "/recurring-invoices",
        "clerk",
        {
            "template": template,
            "frequency": "monthly",
            "start": start.isoformat(),
            "save_and_post": True,
        },
    )
    assert created.status == 201, created.body

    def invoices() -> list[dict[str, Any]]:
        page = http(url, "GET", f"/documents?company={company}&type=sales_invoice", "clerk")
        return sorted(page.body["documents"], key=lambda d: d["document_date"])

    # When the first run runs
    run = http(url, "POST", "/scheduler/run", "runner").body
    eventually(lambda: finished(url, run["run_id"]), 120)
    # Then it created exactly three invoices, one per month, and posted them
    made = eventually(lambda: [d for d in invoices() if d["status"] == "Complete"], 60)
    expected = [(start + relativedelta(months=k)).isoformat() for k in range(3)]
    assert [d["document_date"] for d in invoices()] == expected
    assert len(made) == 3
    # When a second run runs
    again = http(url, "POST", "/scheduler/run", "runner").body
    eventually(lambda: finished(url, again["run_id"]), 120)
    # Then none more
    assert [d["document_date"] for d in invoices()] == expected
    shown = http(url, "GET", f"/recurring-invoices/{created.body['id']}", "clerk").body
    assert shown["next_date"] == (start + relativedelta(months=3)).isoformat()
