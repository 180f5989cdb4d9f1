"""Post & Match and Match under real overlap and crashes: threads on DynamoDB Local."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from background_posting.config import Settings
from background_posting.domain.document_input import DocumentInput
from background_posting.domain.documents import COMPLETE, IN_PROGRESS, Document
from background_posting.domain.errors import Conflict
from background_posting.services import document_service, matching_service, posting
from background_posting.store import base as store_base
from background_posting.store import counters, document_store, ledger_store
from background_posting.store import matches as match_store
from tests.support.concurrency import race
from tests.support.data import document_body
from tests.support.scenario import ADMIN, given_company

_input: TypeAdapter[Any] = TypeAdapter(DocumentInput)


def line(amount: str, tax_code: str = "ZERO") -> dict[str, Any]:
    return {"description": "Goods", "quantity": "1", "unit_price": amount, "tax_code": tax_code}


def posted_invoice() -> Document:
    """A Complete payable invoice of 1,200.00."""
    body = document_body("payable_invoice", lines=[line("1000.00", "STD")])
    created = document_service.create_document(ADMIN, _input.validate_python(body))
    return posting.post_now(created, "clerk")


def credit_note(invoice: Document, amount: str) -> Document:
    """An In Progress credit note of `amount` made from `invoice`, dated in the open period."""
    lines = _input.validate_python(document_body("payable_credit_note", lines=[line(amount)]))
    return matching_service.credit_note_from(
        ADMIN, invoice.id, lines.lines, {"document_date": date(2026, 11, 25)}
    )


def read(document: Document) -> Document:
    return document_store.get_document(document.id).document


def unchanged(note: Document, invoice: Document, transactions: int) -> None:
    """Neither posted nor matched: the credit note as it was, the invoice as posted."""
    note_now, invoice_now = read(note), read(invoice)
    assert note_now.status == IN_PROGRESS and note_now.version == note.version
    assert note_now.matches == [] and note_now.transaction_number is None
    assert invoice_now.outstanding == Decimal("1200.00") and invoice_now.matches == []
    assert counters.current("ACME", "TRN") == transactions


@pytest.fixture
def acme(local_store: Settings) -> None:
    given_company()


def test_two_post_and_matches_for_one_invoice_at_once_match_it_once(acme: None) -> None:
    # Given an invoice of 1,200.00 and two credit notes of 700.00 made from it
    invoice = posted_invoice()
    notes = [credit_note(invoice, "700.00") for _ in range(2)]
    # When both are Post & Matched at the same moment
    results = race(*(lambda n=n: matching_service.post_and_match(ADMIN, n.id) for n in notes))
    # Then one is posted and matched, the other refused and still In Progress
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code in {"invoice_already_matched", "not_outstanding", "concurrent_update"}
    statuses = sorted(read(n).status for n in notes)
    assert statuses == [COMPLETE, IN_PROGRESS]
    assert read(invoice).outstanding == Decimal("500.00")
    assert len(read(invoice).matches) == 1
    assert counters.current("ACME", "TRN") == 2  # the invoice's and one credit note's


def test_two_matches_of_everything_outstanding_at_once_one_wins_the_other_409(
    acme: None,
) -> None:
    # Given an invoice of 1,200.00 and two posted credit notes of 1,200.00
    invoice = posted_invoice()
    notes = [posting.post_now(credit_note(invoice, "1200.00"), "clerk") for _ in range(2)]
    # When both are matched with it at once
    results = race(
        *(lambda n=n: matching_service.match(ADMIN, n.id, invoice.id, None) for n in notes)
    )
    # Then exactly one match is made
    won = [r for r in results if isinstance(r, tuple)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].code == "not_outstanding"
    assert read(invoice).outstanding == Decimal("0.00") and len(read(invoice).matches) == 1
    assert sorted(read(n).outstanding or 0 for n in notes) == [Decimal("0.00"), Decimal("1200.00")]


def test_a_match_and_a_post_and_match_racing_for_one_invoice_only_one_commits(
    acme: None,
) -> None:
    invoice = posted_invoice()
    posted_note = posting.post_now(credit_note(invoice, "1200.00"), "clerk")
    pending = credit_note(invoice, "1200.00")
    results = race(
        lambda: matching_service.match(ADMIN, posted_note.id, invoice.id, None),
        lambda: matching_service.post_and_match(ADMIN, pending.id),
    )
    assert sum(isinstance(r, tuple) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert read(invoice).outstanding == Decimal("0.00") and len(read(invoice).matches) == 1
    if isinstance(results[1], Conflict):
        assert read(pending).status == IN_PROGRESS and read(pending).matches == []


def test_parts_matched_at_once_all_commit_while_enough_is_outstanding(acme: None) -> None:
    invoice = posted_invoice()
    notes = [posting.post_now(credit_note(invoice, "100.00"), "clerk") for _ in range(4)]
    results = race(
        *(lambda n=n: matching_service.match(ADMIN, invoice.id, n.id, None) for n in notes)
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert read(invoice).outstanding == Decimal("800.00") and len(read(invoice).matches) == 4


class Crash(RuntimeError):
    """The function dies here."""


def _die(*args: Any, **kwargs: Any) -> Any:
    raise Crash("the function died")


@pytest.mark.parametrize(
    "step",
    [
        "validating",
        "staging lines",
        "adding the invoice's update",
        "adding the match item",
        "sending the transaction",
    ],
)
def test_a_crash_at_any_step_of_post_and_match_leaves_both_as_they_were(
    acme: None, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # Given an invoice of 1,200.00 and a credit note of 200.00 made from it
    invoice = posted_invoice()
    note = credit_note(invoice, "200.00")
    # When Post & Match dies at this step
    target = {
        "validating": (posting, "draft_for"),
        "staging lines": (ledger_store, "stage_lines"),
        "adding the invoice's update": (match_store, "outstanding_changed"),
        "adding the match item": (match_store, "match_added"),
        "sending the transaction": (store_base.connection().__class__, "transact_write_items"),
    }[step]
    with monkeypatch.context() as patch:
        patch.setattr(*target, _die)
        with pytest.raises(Crash):
            matching_service.post_and_match(ADMIN, note.id)
    # Then neither is posted nor matched
    unchanged(note, invoice, transactions=1)
    # And Post & Match again does it, once
    posted, matched = matching_service.post_and_match(ADMIN, note.id)
    assert posted.status == COMPLETE and posted.outstanding == Decimal("0.00")
    assert matched.outstanding == Decimal("1000.00") and len(matched.matches) == 1
    assert counters.current("ACME", "TRN") == 2


def test_a_crash_after_the_commit_leaves_both_done_and_a_retry_changes_nothing(
    acme: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = posted_invoice()
    note = credit_note(invoice, "200.00")
    original = match_store.header_of
    monkeypatch.setattr(match_store, "header_of", _die)  # dies reading the answer
    with pytest.raises(Crash):
        matching_service.post_and_match(ADMIN, note.id)
    monkeypatch.setattr(match_store, "header_of", original)
    assert read(note).status == COMPLETE and read(invoice).outstanding == Decimal("1000.00")
    with pytest.raises(Conflict) as refused:
        matching_service.post_and_match(ADMIN, note.id)
    assert refused.value.code == "document_complete"
    assert read(invoice).outstanding == Decimal("1000.00") and len(read(invoice).matches) == 1
    assert counters.current("ACME", "TRN") == 2


def test_an_undo_racing_a_second_undo_restores_once(acme: None) -> None:
    invoice = posted_invoice()
    note = posting.post_now(credit_note(invoice, "200.00"), "clerk")
    matched, _ = matching_service.match(ADMIN, invoice.id, note.id, None)
    match_id = matched.matches[0].id
    results = race(*(lambda: matching_service.unmatch(ADMIN, match_id) for _ in range(2)))
    assert sum(isinstance(r, tuple) for r in results) == 1, results
    assert read(invoice).outstanding == Decimal("1200.00") and read(invoice).matches == []
    assert read(note).outstanding == Decimal("200.00")
