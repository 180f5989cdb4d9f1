"""The mass-data figure: one invoice of 10,000 purchase order lines, verified and posted.

On fresh tables: an order of `lines` lines (3 pieces at 2.50 each), all received (receipts of
99 lines), and the vendor's invoice keying every line, queued for the background; then one
worker verifies and posts it, timed, with the store requests it makes counted by kind (the
order lines read, claimed 100 to a transaction, the commit, the claims settled).
"""

from __future__ import annotations

import time
from typing import Any

from bench import seed
from bench.calls import Recorder
from bench.stack import Stack

PREFIX = "mass"


def post_mass_invoice(stack: Stack, recorder: Recorder, lines: int) -> dict[str, Any]:
    from background_posting.domain.purchasing import GoodsReceiptInput, PurchaseOrderInput
    from background_posting.services import (
        background_service,
        document_service,
        purchasing_service,
        worker,
    )
    from background_posting.store import document_store, purchasing_store
    from tests.support.purchasing import (
        MASS_ORDER_ID,
        mass_invoice_body,
        mass_order_body,
        mass_receipt_bodies,
    )

    stack.tables(PREFIX)
    try:
        seed.reference()
        vendor = {"company": seed.COMPANY, "vendor": seed.vendor(seed.COMPANY)}
        started = time.perf_counter()
        purchasing_service.create_order(
            seed.ADMIN, PurchaseOrderInput.model_validate(mass_order_body(lines) | vendor)
        )
        order_s = time.perf_counter() - started
        for body in mass_receipt_bodies(lines):
            body["company"] = seed.COMPANY
            purchasing_service.receive_goods(seed.ADMIN, GoodsReceiptInput.model_validate(body))
        invoice = mass_invoice_body(lines) | {"company": seed.COMPANY, "account": vendor["vendor"]}
        created = document_service.create_document(
            seed.ADMIN, seed._inputs.validate_python(invoice)
        )
        background_service.post_with_button(seed.ADMIN, created.id, "auto")
        recorder.reset("mass")
        with recorder.phase("mass") as tally:
            started = time.perf_counter()
            outcome = worker.process(worker.Message(None, created.id), "bench", lambda: 900.0)
            seconds = time.perf_counter() - started
        posted = document_store.get_document(created.id, with_lines=False).document
        order = purchasing_store.get_order(MASS_ORDER_ID)
        return {
            "order_lines": lines,
            "outcome": outcome,
            "status": posted.status,
            "all_invoiced": all(
                line.invoiced_quantity == line.received_quantity and not line.claimed_quantity
                for line in order.lines
            ),
            "order_created_s": order_s,
            "seconds": seconds,
            "requests": tally.by_kind(),
            "dynamodb": dict(tally.dynamodb()),
            "store_seconds": sum(tally.seconds.values()),
        }
    finally:
        stack.drop(PREFIX)
