"""Mass data: orders and invoices of more order lines than one DynamoDB transaction takes.

Against DynamoDB Local (real conditions, real overlap): a 10,000-line order, an invoice of
10,000 keyed lines and one naming the order (suggested lines) post all or nothing; invoices
racing for the same received lines never invoice a quantity twice; a worker that dies between
its claims and its commit leaves claims that its retry releases and posts right.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from background_posting.config import Settings, get_settings
from background_posting.domain.documents import COMPLETE, READY_TO_POST, Document
from background_posting.domain.purchasing import GoodsReceiptInput, PurchaseOrderInput
from background_posting.services import (
    background_service,
    document_service,
    purchasing_service,
    verification_service,
    worker,
)
from background_posting.store import counters, document_store, ledger_store, purchasing_store
from tests.support.concurrency import race
from tests.support.purchasing import (
    MASS_ORDER_ID,
    invoice_body,
    mass_invoice_body,
    mass_order_body,
    mass_receipt_bodies,
)
from tests.support.scenario import ADMIN, _documents, given_company

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left
RACED_LINES = 150  # more than an invoice marks invoiced in its commit: the claims are used


def given_received_mass_order(lines: int) -> None:
    purchasing_service.create_order(
        ADMIN, PurchaseOrderInput.model_validate(mass_order_body(lines))
    )
    for body in mass_receipt_bodies(lines):
        purchasing_service.receive_goods(ADMIN, GoodsReceiptInput.model_validate(body))


def queued(body: dict[str, Any]) -> Document:
    created = document_service.create_document(ADMIN, _documents.validate_python(body))
    document, in_background = background_service.post_with_button(ADMIN, created.id, "auto")
    assert in_background and document.status == READY_TO_POST
    return document


def read(document: Document) -> Document:
    return document_store.get_document(document.id, with_lines=False).document


def totals() -> tuple[Decimal, Decimal, Decimal]:
    """The mass order's received, invoiced and claimed quantities, summed over its lines."""
    lines = purchasing_service.read_order(ADMIN, MASS_ORDER_ID).lines
    return (
        sum((ln.received_quantity for ln in lines), Decimal(0)),
        sum((ln.invoiced_quantity for ln in lines), Decimal(0)),
        sum((ln.claimed_quantity for ln in lines), Decimal(0)),
    )


def test_an_invoice_of_10000_keyed_order_lines_verifies_and_posts(local_store: Settings) -> None:
    # Given an order of 10,000 lines, all received, and the vendor's invoice keying each line
    given_company()
    given_received_mass_order(10_000)
    order = purchasing_service.read_order(ADMIN, MASS_ORDER_ID)
    assert len(order.lines) == 10_000
    invoice = queued(mass_invoice_body(10_000))

    # When a worker verifies it
    outcome = worker.process(worker.Message(None, invoice.id), "w1", FOREVER)

    # Then it posts, every order line invoiced for what was received, nothing left claimed
    assert outcome == "posted"
    posted = read(invoice)
    assert posted.status == COMPLETE
    assert posted.verification is not None and posted.verification.outcome == "matched"
    assert posted.verification.expected == Decimal("75000.00")
    assert posted.verification.order_line_count == 10_000  # the invoice keeps the first 100
    assert len(posted.verification.order_lines) == 100
    assert totals() == (Decimal(30_000), Decimal(30_000), Decimal(0))
    claims = purchasing_store.claim_set(invoice.id)
    assert claims is not None and claims.state == purchasing_store.SETTLED
    transaction = ledger_store.get_transaction("ACME", posted.transaction_number or "", 0, 0)
    assert transaction.header["totals"]["gross"] == "75000.00"
    assert transaction.header["line_count"] > 10_000  # one analysis line per invoice line


def test_an_invoice_naming_a_large_order_posts_its_suggested_lines_online(
    local_store: Settings,
) -> None:
    # Given a received order of 1,200 lines (the 10,000 of the keyed test, and of `make bench`,
    # take minutes here; 1,200 takes the chunked path just the same) and an invoice that names
    # it and keys no lines
    given_company()
    given_received_mass_order(1_200)
    body = invoice_body(purchase_orders=[MASS_ORDER_ID])
    body["lines"] = []
    created = document_service.create_document(ADMIN, _documents.validate_python(body))

    # When the clerk posts it at once
    posted, in_background = background_service.post_with_button(ADMIN, created.id, "immediate")

    # Then verification suggests a line per order line and the invoice posts them all
    assert not in_background and posted.status == COMPLETE
    kept = read(created).verification
    assert kept is not None and kept.suggested_count == 1_200 and len(kept.suggested) == 100
    assert totals() == (Decimal(3_600), Decimal(3_600), Decimal(0))
    transaction = ledger_store.get_transaction("ACME", posted.transaction_number or "", 0, 0)
    assert transaction.header["totals"]["gross"] == "9000.00"


def test_invoices_racing_for_the_same_received_lines_invoice_them_once(
    local_store: Settings,
) -> None:
    # Given 150 received order lines and three invoices each charging all of them
    given_company()
    given_received_mass_order(RACED_LINES)
    invoices = [queued(mass_invoice_body(RACED_LINES)) for _ in range(3)]

    # When three workers verify them at the same moment
    outcomes = race(
        *(
            lambda d=d, n=n: worker.process(worker.Message(None, d.id), f"w{n}", FOREVER)
            for n, d in enumerate(invoices)
        )
    )

    # Then one posts; the others find the goods invoiced and wait, verified with errors
    assert sorted(outcomes) == ["failed", "failed", "posted"], outcomes
    after = [read(d) for d in invoices]
    assert sorted(d.status for d in after) == [COMPLETE, READY_TO_POST, READY_TO_POST]
    for waiting in (d for d in after if d.status != COMPLETE):
        assert waiting.verification is not None
        assert waiting.verification.status == "with_errors"
        assert waiting.verification.expected == Decimal("0.00")
        claims = purchasing_store.claim_set(waiting.id)
        assert claims is None or claims.state == purchasing_store.RELEASED  # none stuck
    # ...and every received piece is invoiced exactly once, none left claimed
    assert totals() == (Decimal(450), Decimal(450), Decimal(0))
    assert counters.current("ACME", "TRN") == 1


class Crash(BaseException):
    """The worker dies here (no handler of the code runs, as when its process is killed)."""


def test_a_worker_dying_between_its_claims_and_its_commit_is_retried_right(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 150 received order lines and an invoice of them all
    given_company()
    given_received_mass_order(RACED_LINES)
    invoice = queued(mass_invoice_body(RACED_LINES))
    original = verification_service.posting.post_now

    # When the worker dies after claiming the lines, before its commit
    def dies(*args: Any, **kwargs: Any) -> Any:
        raise Crash()

    monkeypatch.setattr(verification_service.posting, "post_now", dies)
    with pytest.raises(Crash):
        worker.process(worker.Message(None, invoice.id), "w1", FOREVER)

    # Then its claims hold the goods: another invoice finds nothing available and waits
    assert totals() == (Decimal(450), Decimal(0), Decimal(450))
    monkeypatch.setattr(verification_service.posting, "post_now", original)
    other = queued(mass_invoice_body(RACED_LINES))
    assert worker.process(worker.Message(None, other.id), "w2", FOREVER) == "failed"
    assert read(other).status == READY_TO_POST

    # When the next run's worker takes the invoice over once the dead worker's lease expired
    later = time.time() + get_settings().lease_seconds + 1
    outcome = worker.process(worker.Message(None, invoice.id), "w3", FOREVER, clock=lambda: later)

    # Then it releases the dead attempt's claims, claims again and posts, invoiced once
    assert outcome == "posted"
    assert read(invoice).status == COMPLETE
    assert totals() == (Decimal(450), Decimal(450), Decimal(0))
    claims = purchasing_store.claim_set(invoice.id)
    assert claims is not None and claims.state == purchasing_store.SETTLED
