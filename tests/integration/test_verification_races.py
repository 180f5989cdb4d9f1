"""Invoice verification under real overlap: threads against DynamoDB Local.

Two invoices verified against the same goods receipts by overlapping workers: only one posts
and the order lines are never invoiced twice. Two goods receipts at once never take a line
past its ordered quantity.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.documents import COMPLETE, READY_TO_POST, Document
from background_posting.domain.errors import Conflict, ValidationFailed
from background_posting.domain.purchasing import GoodsReceiptInput, PurchaseOrderInput
from background_posting.services import (
    background_service,
    purchasing_service,
    verification_service,
    worker,
)
from background_posting.store import counters, document_store
from background_posting.store import worker_items as item_store
from tests.support.concurrency import race
from tests.support.purchasing import ORDER_ID, invoice_body, order_body, receipt_body
from tests.support.scenario import ADMIN, _documents, given_company

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left


def given_received_order() -> None:
    """The source's order with both receipts in: 100 x 10.00 and 50 x 12.00."""
    purchasing_service.create_order(ADMIN, PurchaseOrderInput.model_validate(order_body()))
    for line, quantity in ((1, "100"), (2, "50")):
        purchasing_service.receive_goods(
            ADMIN, GoodsReceiptInput.model_validate(receipt_body(line, quantity))
        )


def posted_to_background() -> Document:
    from background_posting.services import document_service

    created = document_service.create_document(ADMIN, _documents.validate_python(invoice_body()))
    queued, in_background = background_service.post_with_button(ADMIN, created.id, "auto")
    assert in_background and queued.status == READY_TO_POST
    return queued


def read(document: Document) -> Document:
    return document_store.get_document(document.id).document


@pytest.fixture
def verified_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker's first verification waits for the other's: both read the same receipts
    before either posts (the overlap a schedule and a Run Now can produce)."""
    barrier = threading.Barrier(2, timeout=30)
    first = threading.local()
    original = verification_service.verify_invoice

    def together(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not getattr(first, "done", False):
            first.done = True
            barrier.wait()
        return result

    monkeypatch.setattr(verification_service, "verify_invoice", together)


def test_two_invoices_for_the_same_receipts_never_invoice_them_twice(
    local_store: Settings, verified_together: None
) -> None:
    # Given the received order and two invoices of 1,600.00 for the same receipts
    given_company()
    given_received_order()
    invoices = [posted_to_background(), posted_to_background()]

    # When two workers verify and post them at the same moment
    outcomes = race(
        *(
            lambda d=d, n=n: worker.process(worker.Message(None, d.id), f"w{n}", FOREVER)
            for n, d in enumerate(invoices)
        )
    )

    # Then one posts and the other finds the receipts used: verified with errors, waiting
    assert sorted(outcomes) == ["failed", "posted"], outcomes
    after = [read(d) for d in invoices]
    posted = next(d for d in after if d.status == COMPLETE)
    waiting = next(d for d in after if d.status != COMPLETE)
    assert posted.verification is not None and posted.verification.outcome == "matched"
    assert waiting.status == READY_TO_POST
    assert waiting.verification is not None and waiting.verification.status == "with_errors"
    assert waiting.verification.expected == Decimal("0.00")
    assert counters.current("ACME", "TRN") == 1
    # ...the order lines are invoiced once, for what was received
    order = purchasing_service.read_order(ADMIN, ORDER_ID)
    assert [(ln.received_quantity, ln.invoiced_quantity) for ln in order.lines] == [
        (Decimal(100), Decimal(100)),
        (Decimal(50), Decimal(50)),
    ]
    # ...and the waiting invoice keeps its verification item, its attempts not counted
    (item, _posting) = item_store.items_of(waiting.id)
    assert item.action == "verify_invoice" and item.attempts == 0


def test_two_invoices_posted_online_for_the_same_receipts_never_invoice_them_twice(
    local_store: Settings, verified_together: None
) -> None:
    # Given the received order and two In Progress invoices of 1,600.00 for the same receipts
    from background_posting.services import document_service

    given_company()
    given_received_order()
    invoices = [
        document_service.create_document(ADMIN, _documents.validate_python(invoice_body()))
        for _ in range(2)
    ]

    # When two clerks post them online at the same moment (both verify before either commits)
    results = race(
        *(
            lambda d=d: background_service.post_with_button(ADMIN, d.id, "immediate")
            for d in invoices
        )
    )

    # Then one posts; the other verifies again, finds the receipts used and is refused
    posted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(posted) == 1 and len(refused) == 1, results
    assert refused[0].code == "invoice_verification_failed"
    statuses = sorted(read(d).status for d in invoices)
    assert statuses == [COMPLETE, "In Progress"]
    assert counters.current("ACME", "TRN") == 1
    order = purchasing_service.read_order(ADMIN, ORDER_ID)
    assert [(ln.received_quantity, ln.invoiced_quantity) for ln in order.lines] == [
        (Decimal(100), Decimal(100)),
        (Decimal(50), Decimal(50)),
    ]


def test_two_goods_receipts_at_once_never_exceed_the_ordered_quantity(
    local_store: Settings,
) -> None:
    # Given the order's line 1 of 100 pieces, nothing received yet
    given_company()
    purchasing_service.create_order(ADMIN, PurchaseOrderInput.model_validate(order_body()))
    receipt = GoodsReceiptInput.model_validate(receipt_body(1, "60"))

    # When four receipts of 60 arrive at the same moment
    results = race(*(lambda: purchasing_service.receive_goods(ADMIN, receipt) for _ in range(4)))

    # Then one is recorded and the others are refused as over-receipts
    recorded = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(recorded) == 1, results
    assert {r.code for r in refused} == {"over_receipt"} and len(refused) == 3
    assert purchasing_service.read_order(ADMIN, ORDER_ID).lines[0].received_quantity == Decimal(60)
