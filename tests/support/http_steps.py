"""Given-steps and checks over HTTP, against a running local stack (the end-to-end tier)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.api import http
from tests.support.data import account_body, company_body, document_body

TYPES = ("sales_invoice", "sales_credit_note", "payable_invoice", "payable_credit_note", "journal")


def given_company(url: str) -> str:
    """A company with a customer (C-<id>) and a vendor (V-<id>)."""
    company = f"CO{uuid.uuid4().hex[:8].upper()}"
    assert http(url, "POST", "/companies", "admin", company_body(company)).status == 201
    for account in (
        account_body(f"C-{company}", company),
        account_body(f"V-{company}", company, kind="vendor", trading_currencies=["GBP"]),
    ):
        assert http(url, "POST", "/accounts", "admin", account).status == 201
    return company


def given_documents(url: str, company: str, per_type: int) -> list[dict[str, Any]]:
    """`per_type` documents of each type (In Progress), type after type."""
    return [d for t in TYPES for d in given_documents_of_type(url, company, per_type, t)]


def given_documents_of_type(
    url: str, company: str, count: int, doc_type: str = "sales_invoice", user: str = "clerk"
) -> list[dict[str, Any]]:
    """`count` documents of `doc_type` that `user` entered (In Progress), on the company's
    customer or vendor."""
    made = []
    for _ in range(count):
        body = document_body(doc_type, company=company)
        if doc_type != "journal":
            body["account"] = f"{'V' if doc_type.startswith('payable') else 'C'}-{company}"
        answer = http(url, "POST", "/documents", user, body)
        assert answer.status == 201, answer.body
        made.append(answer.body)
    return made


def finished(url: str, run_id: str) -> dict[str, Any] | None:
    """The run, once it has processed everything it queued (else None)."""
    run: dict[str, Any] = http(url, "GET", f"/runs/{run_id}", "runner").body
    return run if run["status"].startswith("completed") else None


def about(company: str, address: str, emails: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The e-mails to `address` that speak of `company`'s documents."""
    return [e for e in emails if e["to"] == [address] and company in e["text"]]


def queues_idle(url: str) -> bool:
    depths = http(url, "GET", "/_local/queues", None).body
    return not any(
        q["messages"] or q["messages_in_flight"] or q["messages_delayed"]
        for q in depths
        if q["queue"] in ("RunQueue", "PostingQueue", "NotificationQueue")
    )
