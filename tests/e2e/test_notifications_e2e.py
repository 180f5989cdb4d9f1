"""End to end: after Run Now, each submitter finds exactly one e-mail at /_local/emails."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.api import http
from tests.support.data import account_body, company_body, document_body
from tests.support.http_steps import about, queues_idle
from tests.support.stack import RunningStack
from tests.support.waiting import eventually


def submit(url: str, user: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`user` creates the documents and posts them from a list view."""
    made = []
    for body in bodies:
        answer = http(url, "POST", "/documents", user, body)
        assert answer.status == 201, answer.body
        made.append(answer.body)
    queued = http(url, "POST", "/documents/post", user, {"ids": [d["id"] for d in made]})
    assert queued.status == 202, queued.body
    return made


def test_after_run_now_each_submitter_has_exactly_one_email_listing_every_result(
    stack: RunningStack, withdraw_after: list[str]
) -> None:
    url = stack.url
    company = f"NT{uuid.uuid4().hex[:8].upper()}"
    customer, vendor = f"C-{company}", f"V-{company}"
    assert http(url, "POST", "/companies", "admin", company_body(company)).status == 201
    for account in (
        account_body(customer, company),
        account_body(vendor, company, kind="vendor", trading_currencies=["GBP"]),
    ):
        assert http(url, "POST", "/accounts", "admin", account).status == 201

    # Given the clerk queued two good sales invoices and one dated in a closed period,
    sales = {"company": company, "account": customer}
    clerks = submit(
        url,
        "clerk",
        [
            document_body(**sales),
            document_body(**sales),
            document_body(**sales, document_date="2026-10-10"),
        ],
    )
    withdraw_after.append(clerks[2]["id"])  # it fails, and would wait for the next run
    # and the lister queued two payable invoices and a journal
    listers = submit(
        url,
        "lister",
        [
            document_body("payable_invoice", company=company, account=vendor),
            document_body("payable_invoice", company=company, account=vendor),
            document_body("journal", company=company),
        ],
    )

    # When Run Now runs
    run = http(url, "POST", "/scheduler/run", "runner")
    assert run.status == 202

    # Then the documents are posted (the closed period's one failed) and the e-mails arrive
    def statuses() -> list[str]:
        return [
            http(url, "GET", f"/documents/{d['id']}", "clerk").body["status"]
            for d in [*clerks, *listers]
        ]

    eventually(lambda: statuses() == ["Complete"] * 2 + ["Ready to Post"] + ["Complete"] * 3)

    def both_emails() -> bool:
        emails = http(url, "GET", "/_local/emails", None).body
        return all(about(company, f"{u}@example.com", emails) for u in ("clerk", "lister"))

    eventually(both_emails)
    eventually(lambda: queues_idle(url))  # whatever was still on its way has arrived

    emails = http(url, "GET", "/_local/emails", None).body
    (to_clerk,) = about(company, "clerk@example.com", emails)
    (to_lister,) = about(company, "lister@example.com", emails)
    assert to_clerk["subject"].startswith("Background posting: 2 posted, 1 failed (")
    assert to_lister["subject"].startswith("Background posting: 3 posted, 0 failed (")
    for email, mine, theirs in ((to_clerk, clerks, listers), (to_lister, listers, clerks)):
        for part in ("text", "html"):
            assert all(d["number"] in email[part] for d in mine)
            assert not any(d["number"] in email[part] for d in theirs)
    assert "period_closed" in to_clerk["text"] and "period_closed" in to_clerk["html"]
    assert "Posted as TRN" in to_lister["text"]
    (group,) = [
        g
        for g in http(url, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
        if f"/worker-log-groups/{g['id']}" in to_clerk["text"]
    ]
    assert f"{url}/console/#/worker-log-groups/{group['id']}" in to_clerk["html"]
    assert http(url, "GET", f"/runs/{run.body['run_id']}", "runner").body["status"] == (
        "completed with failures"
    )
