"""The open items of an account agree with its control balance in the ledger, whatever the
signs of its documents: random sequences of posts, Post & Matches, matches and undos on
DynamoDB Local (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from background_posting.config import Settings
from background_posting.domain.company import Account
from background_posting.domain.document_input import DocumentInput
from background_posting.domain.documents import Document
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.services import document_service, matching_service, posting, reference_data
from background_posting.store import document_store, ledger_store
from background_posting.store import matches as match_store
from tests.support.data import account_body, document_body
from tests.support.scenario import ADMIN, given_company

_input: TypeAdapter[Any] = TypeAdapter(DocumentInput)
_accounts = itertools.count(1)

SIGN = {"sales_invoice": Decimal(1), "sales_credit_note": Decimal(-1)}
"""An open item's signed outstanding: an invoice's is owed by the customer (a debit), a credit
note's owed to them (a credit), as their control lines are when their signs fit."""


def _line(quantity: int, price: int) -> dict[str, Any]:
    return {
        "description": "Goods",
        "quantity": str(quantity),
        "unit_price": f"{price}.00",
        "tax_code": "ZERO",
    }


def _read(document_id: str) -> Document:
    return document_store.get_document(document_id, with_lines=False).document


def _control_balance(account: str, documents: list[Document]) -> Decimal:
    total = Decimal(0)
    for document in documents:
        stored = ledger_store.get_transaction(document.company, document.transaction_number or "")
        total += sum(
            (
                Decimal(line["document_value"])
                for line in stored.lines
                if line["kind"] == "control" and line["account"] == account
            ),
            Decimal(0),
        )
    return total


def _signed_outstanding(documents: list[Document]) -> Decimal:
    return sum(
        (SIGN[d.type] * (_read(d.id).outstanding or Decimal(0)) for d in documents), Decimal(0)
    )


quantities = st.sampled_from([-1, 0, 1, 2])
prices = st.integers(min_value=1, max_value=9).map(lambda n: n * 10)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), quantities, prices),
        st.tuples(st.just("note"), st.integers(0, 9), quantities, prices, st.booleans()),
        st.tuples(
            st.just("match"),
            st.integers(0, 9),
            st.integers(0, 9),
            st.sampled_from([None, "5.00", "20.00", "-10.00", "0.00"]),
        ),
        st.tuples(st.just("undo"), st.integers(0, 9)),
    ),
    min_size=1,
    max_size=8,
)


@pytest.fixture
def acme(local_store: Settings) -> None:
    given_company()


@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_an_accounts_signed_outstanding_is_its_control_balance(
    acme: None, steps: list[tuple[Any, ...]]
) -> None:
    # Given a customer of its own for this sequence
    account = f"C{next(_accounts):05d}"
    reference_data.create_account(ADMIN, Account.model_validate(account_body(account, "ACME")))
    invoices: list[Document] = []
    notes: list[Document] = []
    match_ids: list[str] = []
    for step in steps:
        try:
            if step[0] == "invoice":  # a sales invoice of any sign, zero included
                body = document_body(
                    "sales_invoice", account=account, lines=[_line(step[1], step[2])]
                )
                created = document_service.create_document(ADMIN, _input.validate_python(body))
                invoices.append(posting.post_now(created, "clerk"))
            elif step[0] == "note" and invoices:  # a credit note of any sign from one of them
                invoice = invoices[step[1] % len(invoices)]
                lines = _input.validate_python(
                    document_body("sales_credit_note", lines=[_line(step[2], step[3])])
                ).lines
                note = matching_service.credit_note_from(
                    ADMIN, invoice.id, lines, {"document_date": date(2026, 11, 25)}
                )
                if step[4]:
                    posted, _ = matching_service.post_and_match(ADMIN, note.id)
                    match_ids.append(posted.matches[0].id)
                else:
                    posted = posting.post_now(note, "clerk")
                notes.append(posted)
            elif step[0] == "match" and invoices and notes:
                invoice = invoices[step[1] % len(invoices)]
                note = notes[step[2] % len(notes)]
                amount = None if step[3] is None else Decimal(step[3])
                matched, _ = matching_service.match(ADMIN, invoice.id, note.id, amount)
                match_ids.append(matched.matches[-1].id)
            elif step[0] == "undo" and match_ids:
                match_id = match_ids.pop(step[1] % len(match_ids))
                matching_service.unmatch(ADMIN, match_id)
        except (Conflict, ValidationFailed):
            pass  # refused: nothing changed, which the balance below shows
        # Then at every moment the open items and the ledger agree
        documents = invoices + notes
        assert _signed_outstanding(documents) == _control_balance(account, documents), step
        # and what a match took off is still each document's own sign
        for match_id in match_ids:
            assert match_store.get_match(match_id).amount > 0
