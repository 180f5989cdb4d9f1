"""Reversing a posted journal through the API, on DynamoDB Local: every line negated at the
original's rates (so each account is back to zero in document, home and dual currency),
numbered like any posting, linked both ways, once under concurrent requests, refused in a
closed period, and in the background over the journal line limit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from background_posting.config import Settings
from background_posting.domain.errors import Conflict
from background_posting.services import posting, reversal
from background_posting.store import counters, document_store
from tests.support.api import Answer, invoke_api
from tests.support.concurrency import race
from tests.support.data import account_body, company_body, document_body
from tests.support.queues import Drain
from tests.support.scenario import ADMIN, given_company, given_document

RATES = [
    {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-01-01", "rate": "1.15"},
    {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.79"},
]
LATER = [  # in force from 25 November, after the journal's date
    {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-11-25", "rate": "1.20"},
    {"from_currency": "USD", "to_currency": "GBP", "date": "2026-11-25", "rate": "0.85"},
]
ACCRUAL = [
    {"gl_account": "6000", "value": "333.33", "description": "Audit fee accrued"},
    {"gl_account": "6100", "value": "66.67", "description": "Legal fee accrued"},
    {"gl_account": "2400", "value": "-400.00", "description": "Accruals"},
]


def call(api: Any, method: str, path: str, body: Any = None, user: str = "clerk") -> Answer:
    return invoke_api(api, method, path, user, body)


def posted_journal(api: Any, lines: list[dict[str, Any]] = ACCRUAL) -> dict[str, Any]:
    created = call(api, "POST", "/documents", document_body("journal", currency="USD", lines=lines))
    assert created.status == 201, created.body
    posted = call(api, "POST", f"/documents/{created.body['id']}/post", {"mode": "immediate"})
    assert posted.status == 200, posted.body
    return dict(posted.body)


def balances(api: Any, *documents: dict[str, Any]) -> dict[str, tuple[Decimal, ...]]:
    """Each GL account's sum over the documents' transactions, in document, home and dual."""
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for document in documents:
        transaction = call(api, "GET", f"/documents/{document['id']}/transaction").body
        for line in transaction["lines"]:
            for n, column in enumerate(("document_value", "home_value", "dual_value")):
                sums[line["gl_account"]][n] += Decimal(line[column])
    return {account: tuple(values) for account, values in sums.items()}


def test_a_reversal_negates_every_line_at_the_original_rates_and_links_both_ways(
    api: Any,
) -> None:
    # Given a USD accrual posted at 0.79 (home GBP) and 1.15 (dual EUR), then new rates
    call(api, "POST", "/companies", company_body(exchange_rates=RATES), user="admin")
    original = posted_journal(api)
    amended = call(api, "PATCH", "/companies/ACME", {"exchange_rates": RATES + LATER}, "admin")
    assert amended.status == 200, amended.body

    # When the clerk reverses it on 28 November, saying why
    reversed_ = call(
        api,
        "POST",
        f"/documents/{original['id']}/reverse",
        {"date": "2026-11-28", "reason": "Invoice received"},
    )

    # Then the reversal is a posted journal of its own, numbered like any posting
    assert reversed_.status == 201, reversed_.body
    reversal = reversed_.body
    assert reversal["type"] == "journal" and reversal["status"] == "Complete"
    assert reversal["number"] != original["number"] and reversal["transaction_number"]
    assert reversal["transaction_number"] != original["transaction_number"]
    assert reversal["document_date"] == "2026-11-28"
    assert reversal["reverses"] == original["id"]
    assert "Invoice received" in reversal["description"]
    assert [line["value"] for line in reversal["lines"]] == ["-333.33", "-66.67", "400.00"]
    # ...the original says so
    again = call(api, "GET", f"/documents/{original['id']}").body
    assert again["reversed_by"] == reversal["id"] and again["status"] == "Complete"
    # ...posted at the original's rates, not 25 November's
    transaction = call(api, "GET", f"/documents/{reversal['id']}/transaction").body
    assert Decimal(transaction["rate_document_to_home"]) == Decimal("0.79")
    assert Decimal(transaction["rate_home_to_dual"]) == Decimal("1.15")
    # ...so every account is back to zero in document, home and dual currency
    zero = (Decimal(0), Decimal(0), Decimal(0))
    assert all(sums == zero for sums in balances(api, original, reversal).values())

    # When anyone asks again, it is refused: a journal is reversed once
    twice = call(api, "POST", f"/documents/{original['id']}/reverse", {"date": "2026-11-28"})
    assert (twice.status, twice.error_code) == (409, "journal_reversed")
    assert reversal["number"] in twice.body["error"]["message"]
    # ...and a reversal is not itself reversed, nor is an invoice
    back = call(api, "POST", f"/documents/{reversal['id']}/reverse", {"date": "2026-11-28"})
    assert (back.status, back.error_code) == (409, "reversal_not_reversed")


def test_a_reversal_dated_in_a_closed_period_is_refused_and_changes_nothing(api: Any) -> None:
    call(api, "POST", "/companies", company_body(), user="admin")
    original = posted_journal(api)
    refused = call(api, "POST", f"/documents/{original['id']}/reverse", {"date": "2026-10-15"})
    assert (refused.status, refused.error_code) == (409, "period_closed"), refused.body
    assert "2026-10" in refused.body["error"]["message"]
    assert call(api, "GET", f"/documents/{original['id']}").body.get("reversed_by") is None
    journals = call(api, "GET", "/documents?company=ACME&type=journal").body["documents"]
    assert [d["id"] for d in journals] == [original["id"]]
    # A bad date is a 400 naming the field
    bad = call(api, "POST", f"/documents/{original['id']}/reverse", {"date": "28/11/2026"})
    assert bad.status == 400 and "date" in str(bad.body)
    # An invoice is corrected by a credit note, not reversed
    call(api, "POST", "/accounts", account_body())
    invoice = call(api, "POST", "/documents", document_body("sales_invoice")).body
    call(api, "POST", f"/documents/{invoice['id']}/post", {"mode": "immediate"})
    refused = call(api, "POST", f"/documents/{invoice['id']}/reverse", {"date": "2026-11-28"})
    assert (refused.status, refused.error_code) == (409, "not_a_journal")


def test_four_reversals_asked_at_once_reverse_the_journal_once(local_store: Settings) -> None:
    # Given a posted journal (threads against DynamoDB Local: real overlap)
    given_company()
    journal = given_document("journal", currency="USD", lines=None)
    original = posting.post_now(journal, ADMIN.user_id)

    # When four people reverse it at the same moment
    results = race(
        *(lambda: reversal.reverse(ADMIN, original.id, date(2026, 11, 28), "") for _ in range(4))
    )

    # Then one reversal is posted and the others are refused, naming why
    done = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(done) == 1 and len(refused) == 3, results
    assert {r.code for r in refused} == {"journal_reversed"}
    (posted, queued) = done[0]
    assert not queued and posted.status == "Complete"
    assert counters.current("ACME", "TRN") == 2
    stored = document_store.get_document(original.id, with_lines=False).document
    assert stored.reversed_by == posted.id


def test_a_journal_over_the_line_limit_is_reversed_in_the_background(
    api: Any, aws: Settings
) -> None:
    call(api, "POST", "/companies", company_body(), user="admin")
    original = posted_journal(api)
    call(api, "PUT", "/companies/ACME/settings", {"journal_line_limit": 2}, "admin")

    queued = call(api, "POST", f"/documents/{original['id']}/reverse", {"date": "2026-11-28"})

    assert queued.status == 202, queued.body
    assert queued.body["status"] == "Ready to Post"
    assert call(api, "GET", f"/documents/{original['id']}").body["reversed_by"] == queued.body["id"]
    call(api, "POST", "/scheduler/run", user="runner")
    Drain(aws).all()
    posted = call(api, "GET", f"/documents/{queued.body['id']}").body
    assert posted["status"] == "Complete", posted
    zero = (Decimal(0), Decimal(0), Decimal(0))
    assert all(sums == zero for sums in balances(api, original, posted).values())
