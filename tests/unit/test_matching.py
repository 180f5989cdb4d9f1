"""Matching rules: which documents pair, how much may be matched, what a match changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from background_posting.domain.documents import Document
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.domain.matching import (
    credit_note_type,
    match_amount,
    new_match,
    pair_of,
    post_and_match_pair,
    with_match,
    without_match,
)

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def document(doc_type: str, outstanding: str | None = "100.00", **fields: Any) -> Document:
    values: dict[str, Any] = {
        "id": f"{doc_type[:3]}{len(fields)}".ljust(32, "0"),
        "number": {"payable_invoice": "PIN000001", "payable_credit_note": "PCR000001"}.get(
            doc_type, "SIN000001"
        ),
        "type": doc_type,
        "company": "ACME",
        "account": "VEND01",
        "document_date": date(2026, 11, 20),
        "currency": "GBP",
        "tax_mode": "builtin",
        "status": "Complete",
        "created_at": AT,
        "created_by": "clerk",
        "updated_at": AT,
        "outstanding": None if outstanding is None else Decimal(outstanding),
    }
    return Document.model_validate(values | fields)


def test_a_credit_note_of_an_invoice_is_of_the_matching_type() -> None:
    assert credit_note_type(document("sales_invoice")) == "sales_credit_note"
    assert credit_note_type(document("payable_invoice")) == "payable_credit_note"
    with pytest.raises(Conflict) as refused:
        credit_note_type(document("payable_credit_note", id="b" * 32))
    assert refused.value.code == "not_an_invoice"


def test_the_pair_puts_the_invoice_first_whatever_the_order() -> None:
    invoice, note = document("payable_invoice"), document("payable_credit_note", id="c" * 32)
    assert pair_of(note, invoice).invoice is invoice
    assert pair_of(invoice, note).credit_note is note


@pytest.mark.parametrize(
    "other",
    [
        {"type": "sales_credit_note"},
        {"type": "payable_invoice"},
        {"account": "VEND02"},
        {"currency": "USD"},
        {"company": "BETA"},
    ],
)
def test_documents_of_another_kind_account_currency_or_company_do_not_pair(
    other: dict[str, Any],
) -> None:
    invoice = document("payable_invoice")
    note = document(other.pop("type", "payable_credit_note"), id="c" * 32, **other)
    with pytest.raises(Conflict) as refused:
        pair_of(invoice, note)
    assert refused.value.code == "documents_not_matchable"


def test_the_amount_defaults_to_what_both_have_open_and_may_not_exceed_it() -> None:
    pair = pair_of(
        document("payable_invoice", "1200.00"),
        document("payable_credit_note", "200.00", id="c" * 32),
    )
    assert match_amount(pair, None) == Decimal("200.00")
    assert match_amount(pair, Decimal("50.00")) == Decimal("50.00")
    with pytest.raises(Conflict) as refused:
        match_amount(pair, Decimal("200.01"))
    assert refused.value.code == "not_outstanding"
    with pytest.raises(ValidationFailed):
        match_amount(pair, Decimal("0"))
    with pytest.raises(ValidationFailed):
        match_amount(pair, Decimal("1.005"))


def test_a_fully_matched_document_has_nothing_to_match() -> None:
    pair = pair_of(
        document("payable_invoice", "0.00"), document("payable_credit_note", id="c" * 32)
    )
    with pytest.raises(Conflict) as refused:
        match_amount(pair, None)
    assert refused.value.code == "not_outstanding"


def test_a_match_takes_the_amount_off_and_undoing_it_gives_it_back() -> None:
    invoice = document("payable_invoice", "1200.00")
    match = new_match(
        "m" * 32, document("payable_credit_note", id="c" * 32), Decimal("200"), AT, "clerk"
    )
    matched = with_match(invoice, match)
    assert matched.outstanding == Decimal("1000.00") and matched.matches == [match]
    assert matched.model_dump(mode="json")["matches"][0]["with"] == "c" * 32
    restored = without_match(matched, match.id)
    assert restored.outstanding == Decimal("1200.00") and restored.matches == []


def test_post_and_match_needs_an_unmatched_invoice_with_enough_outstanding() -> None:
    invoice = document("payable_invoice", "1200.00")
    note = document(
        "payable_credit_note", None, id="c" * 32, status="In Progress", source_document=invoice.id
    )
    post_and_match_pair(note, invoice, Decimal("1200.00"))  # exactly what is open: allowed
    with pytest.raises(Conflict) as refused:
        post_and_match_pair(note, invoice, Decimal("1500.00"))
    assert refused.value.code == "not_outstanding"
    match = new_match("m" * 32, note, Decimal("1"), AT, "clerk")
    with pytest.raises(Conflict) as refused:
        post_and_match_pair(note, with_match(invoice, match), Decimal("1.00"))
    assert refused.value.code == "invoice_already_matched"
    with pytest.raises(Conflict) as refused:
        post_and_match_pair(note.model_copy(update={"source_document": None}), invoice, Decimal(1))
    assert refused.value.code == "no_source_invoice"
