"""Accruals that reverse themselves: a journal with `auto_reverse_on` is reversed by the first
run on or after that date in its company's time zone, once, at its own rates (DynamoDB Local
for the worker, moto through the API for what a request may say)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.company import CompanyPatch, Period
from background_posting.domain.documents import Document
from background_posting.services import background_service, reference_data, worker
from background_posting.store import counters, document_store, log_groups
from background_posting.store import worker_items as item_store
from tests.support.api import invoke_api
from tests.support.concurrency import race
from tests.support.data import account_body, company_body, document_body
from tests.support.scenario import ADMIN, given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731


def at(text: str) -> float:
    return datetime.fromisoformat(text).astimezone(UTC).timestamp()


def _posted_accrual(on: str = "2026-12-01", december: str = "open") -> Document:
    """A journal of 20 November in Europe/London, to reverse on `on`, posted at once."""
    given_company()
    periods = reference_data.get_company(ADMIN, "ACME").periods
    reference_data.amend_company(
        ADMIN,
        "ACME",
        CompanyPatch(
            periods=[
                *periods,
                Period(
                    name="2026-12", start=date(2026, 12, 1), end=date(2026, 12, 31), status=december
                ),
            ]
        ),
    )
    journal = given_document("journal", auto_reverse_on=on)
    posted, queued = background_service.post_with_button(ADMIN, journal.id, "auto")
    assert not queued and posted.status == "Complete"
    return posted


def _run(document: Document, now: str) -> str:
    return worker.process(worker.Message(None, document.id), "w", FOREVER, clock=lambda: at(now))


def _read(document: Document) -> Document:
    return document_store.get_document(document.id, with_lines=False).document


def test_an_accrual_is_reversed_by_the_first_run_on_its_date_in_the_companys_zone(
    local_store: Settings,
) -> None:
    # Given an accrual posted on 20 November, to reverse on 1 December (London)
    original = _posted_accrual()
    (item,) = item_store.items_of(original.id)
    assert item.action == "reverse_journal"
    # When a run reaches it at 23:30 on 30 November in London (already 1 December further east)
    assert _run(original, "2026-11-30T23:30:00+00:00") == "skipped"
    # Then it is not reversed yet: it waits for London's midnight, no attempt counted
    assert _read(original).reversed_by is None
    (waiting,) = item_store.items_of(original.id)
    assert waiting.attempts == 0 and waiting.not_before == at("2026-12-01T00:00:00+00:00")
    # When the first run after midnight reaches it
    assert _run(original, "2026-12-01T00:05:00+00:00") == "completed"
    # Then it is reversed once, dated 1 December, posted and linked both ways
    reversed_by = _read(original).reversed_by
    assert reversed_by is not None
    reversal = document_store.get_document(reversed_by).document
    assert (reversal.status, reversal.document_date) == ("Complete", date(2026, 12, 1))
    assert reversal.reverses == original.id
    assert [line.value for line in reversal.lines] == [-line.value for line in original.lines]
    assert item_store.items_of(original.id) == []
    # and the submitter's log names the reversal
    (group,) = [g for g in log_groups.groups_of(ADMIN.user_id).groups if "Follow-up" in g.title]
    entry = log_groups.get_group(group.id).entries[-1]
    assert (entry.action, entry.outcome, entry.documents) == (
        "reverse_journal",
        "completed",
        [reversal.number],
    )


def test_two_workers_reaching_an_accrual_at_once_reverse_it_once(local_store: Settings) -> None:
    original = _posted_accrual()
    results = race(*(lambda: _run(original, "2026-12-02T09:00:00+00:00") for _ in range(2)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert counters.current("ACME", "TRN") == 2  # the accrual and one reversal
    assert _read(original).reversed_by is not None
    assert item_store.items_of(original.id) == []


def test_an_accrual_reversed_by_hand_first_is_not_reversed_again(local_store: Settings) -> None:
    from background_posting.services import reversal

    original = _posted_accrual()
    reversal.reverse(ADMIN, original.id, date(2026, 11, 28), "by hand")
    assert _run(original, "2026-12-02T09:00:00+00:00") == "skipped"
    assert counters.current("ACME", "TRN") == 2
    assert item_store.items_of(original.id) == []


def test_an_accrual_whose_date_is_in_a_closed_period_fails_saying_why(
    local_store: Settings,
) -> None:
    original = _posted_accrual(december="closed")
    assert _run(original, "2026-12-02T09:00:00+00:00") == "failed"
    assert _read(original).reversed_by is None
    (item,) = item_store.items_of(original.id)
    assert item.attempts == 1 and "closed" in (item.last_error or "")


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    return api


def test_auto_reverse_on_is_kept_on_a_journal_and_refused_elsewhere(acme: Any) -> None:
    body = document_body("journal", auto_reverse_on="2026-12-01")
    created = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert created.status == 201, created.body
    assert created.body["auto_reverse_on"] == "2026-12-01"
    # not on or before its own date
    same_day = document_body("journal", auto_reverse_on="2026-11-20")
    refused = invoke_api(acme, "POST", "/documents", "clerk", same_day)
    assert refused.status == 400, refused.body
    (problem,) = refused.body["error"]["details"]["errors"]
    assert problem["field"] == "auto_reverse_on"  # at the field, so a form shows it there
    assert refused.body["error"]["message"] == (
        "Reverse automatically on: 2026-11-20 must be after the journal's document date "
        "(2026-11-20): an accrual is reversed in a later period."
    )
    too_early = invoke_api(
        acme,
        "PATCH",
        f"/documents/{created.body['id']}",
        "clerk",
        {"auto_reverse_on": "2026-11-01"},
    )
    assert too_early.status == 400
    assert [e["field"] for e in too_early.body["error"]["details"]["errors"]] == ["auto_reverse_on"]
    amended = invoke_api(
        acme, "PATCH", f"/documents/{created.body['id']}", "clerk", {"auto_reverse_on": None}
    )
    assert amended.status == 200 and amended.body["auto_reverse_on"] is None
    # not on an invoice
    invoice = document_body("sales_invoice", auto_reverse_on="2026-12-01")
    assert invoke_api(acme, "POST", "/documents", "clerk", invoice).status == 400
    created_invoice = invoke_api(acme, "POST", "/documents", "clerk", document_body())
    patched = invoke_api(
        acme,
        "PATCH",
        f"/documents/{created_invoice.body['id']}",
        "clerk",
        {"auto_reverse_on": "2026-12-01"},
    )
    assert patched.status == 400 and "auto_reverse_on" in str(patched.body)
