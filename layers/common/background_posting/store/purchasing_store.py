"""The purchasing table: purchase orders, their lines with running totals, goods receipts.

Keys (one partition per order, `pk = PO#<order id>`):

* the order: `sk = ORDER` (company, vendor, currency, in `body`);
* each line: `sk = LINE#<line:06d>`, its ordered quantity and price, and two running totals,
  `received` (the sum of its goods receipts) and `invoiced` (what posted invoices used), as
  exact DynamoDB numbers: a line's received quantity is read in one GetItem, whatever the
  number of receipts;
* each goods receipt: `sk = GR#<receipt id>`.

Every write that must happen once is conditional (the conditions are named in each function),
so a receipt never takes a line past its ordered quantity and two invoices never use the same
received quantity, whatever runs at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute, UnicodeAttribute
from pynamodb.constants import NUMBER
from pynamodb.exceptions import DoesNotExist

from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.purchasing import GoodsReceipt, OrderLine, PurchaseOrder
from background_posting.domain.types import STORED
from background_posting.domain.verification import Allocation
from background_posting.store.base import StoreModel, register
from background_posting.store.worker_items import ItemGone, WorkerItem, WorkerItemRecord
from background_posting.store.writes import Write, transact

ORDER = "ORDER"


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as an exact Decimal (never a float)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return format(Decimal(value), "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


@register(lambda s: s.purchasing_table)
class PurchasingRecord(StoreModel):
    class Meta:
        table_name = "purchasing"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    company = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    ordered = DecimalAttribute(null=True)
    received = DecimalAttribute(null=True)
    invoiced = DecimalAttribute(null=True)


def _pk(order_id: str) -> str:
    return f"PO#{order_id}"


def _line_sk(line: int) -> str:
    return f"LINE#{line:06d}"


def _order_body(order: PurchaseOrder) -> str:
    return order.model_dump_json(exclude={"lines"})


def _line_of(order_id: str, record: PurchasingRecord) -> OrderLine:
    body = json.loads(record.body or "{}")
    return OrderLine(
        purchase_order=order_id,
        line=int(record.sk.removeprefix("LINE#")),
        description=body.get("description", ""),
        quantity=record.ordered or Decimal(0),
        unit_price=Decimal(body["unit_price"]),
        gl_account=body.get("gl_account"),
        received_quantity=record.received or Decimal(0),
        invoiced_quantity=record.invoiced or Decimal(0),
    )


def create_order(order: PurchaseOrder) -> None:
    """The order and its lines in one transaction; the order must not exist yet. Order ids are
    global, so the refusal says only that the id is taken, never whose order has it."""
    exists = Conflict(
        f"Purchase order id {order.id!r} is taken; choose another.",
        code="purchase_order_exists",
        details={"id": order.id},
    )
    writes = [
        Write.put(
            PurchasingRecord(_pk(order.id), ORDER, company=order.company, body=_order_body(order)),
            PurchasingRecord.pk.does_not_exist(),
            refusal=exists,
        )
    ]
    for line in order.lines:
        writes.append(
            Write.put(
                PurchasingRecord(
                    _pk(order.id),
                    _line_sk(line.line),
                    company=order.company,
                    body=json.dumps(
                        {
                            "description": line.description,
                            "unit_price": format(line.unit_price, "f"),
                            "gl_account": line.gl_account,
                        }
                    ),
                    ordered=line.quantity,
                    received=Decimal(0),
                    invoiced=Decimal(0),
                ),
                PurchasingRecord.pk.does_not_exist(),
                refusal=exists,
            )
        )
    transact(writes)


def get_order(order_id: str) -> PurchaseOrder:
    """The order with every line's running totals: one Query (receipts are not read)."""
    records = list(
        PurchasingRecord.query(
            _pk(order_id),
            PurchasingRecord.sk.between("LINE#", ORDER),
            consistent_read=True,
        )
    )
    header = next((r for r in records if r.sk == ORDER), None)
    if header is None:
        raise NotFound(
            f"Purchase order {order_id!r} does not exist.",
            code="purchase_order_not_found",
            details={"id": order_id},
        )
    data = json.loads(header.body or "{}")
    data["lines"] = [_line_of(order_id, r) for r in records if r.sk.startswith("LINE#")]
    return PurchaseOrder.model_validate(data, context=STORED)


def add_receipt(receipt: GoodsReceipt, order: PurchaseOrder) -> None:
    """The receipt and each line's running total, in one transaction.

    Conditions: the receipt id is new (a repeated receipt is refused, not counted twice); each
    line exists and `received <= ordered - quantity` before the addition, so no receipt, alone
    or racing another, takes a line past its ordered quantity.
    """
    ordered = {line.line: line.quantity for line in order.lines}
    writes = [
        Write.put(
            PurchasingRecord(
                _pk(receipt.purchase_order),
                f"GR#{receipt.id}",
                company=receipt.company,
                body=receipt.model_dump_json(),
            ),
            PurchasingRecord.pk.does_not_exist(),
            refusal=Conflict(
                f"Goods receipt {receipt.id!r} was recorded already.",
                code="goods_receipt_exists",
                details={"id": receipt.id},
            ),
        )
    ]
    for line in receipt.lines:
        writes.append(
            Write.update(
                PurchasingRecord(_pk(receipt.purchase_order), _line_sk(line.line)),
                [PurchasingRecord.received.add(line.quantity)],
                PurchasingRecord.pk.exists()
                & (PurchasingRecord.received <= ordered[line.line] - line.quantity),
                refusal=Conflict(
                    f"The receipt would take line {line.line} of purchase order "
                    f"{receipt.purchase_order} past the ordered quantity (another receipt may "
                    "have been recorded meanwhile).",
                    code="over_receipt",
                    details={"purchase_order": receipt.purchase_order, "lines": [line.line]},
                ),
            )
        )
    transact(writes)


def order_headers_and_lines(
    keys: Iterable[tuple[str, int]],
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, int], OrderLine]]:
    """The referenced orders' headers and lines, by one BatchGetItem (consistent reads)."""
    wanted = sorted(set(keys))
    orders = sorted({order for order, _ in wanted})
    items = [(_pk(o), ORDER) for o in orders] + [(_pk(o), _line_sk(n)) for o, n in wanted]
    headers: dict[str, dict[str, Any]] = {}
    lines: dict[tuple[str, int], OrderLine] = {}
    for record in PurchasingRecord.batch_get(items, consistent_read=True):
        order_id = record.pk.removeprefix("PO#")
        if record.sk == ORDER:
            headers[order_id] = json.loads(record.body or "{}")
        else:
            line = _line_of(order_id, record)
            lines[(order_id, line.line)] = line
    return headers, lines


class ReceiptsTaken(Conflict):
    """Another invoice invoiced these order lines since the verification read them."""


def invoiced(allocations: Sequence[Allocation]) -> list[Write]:
    """Add each allocation's quantity to its order line's `invoiced`, inside the posting's commit.

    Condition: `invoiced` is still what the verification read (`invoiced_before`) and stays
    within `received`. Two invoices verified against the same receipts may both try; only the
    first commit's condition holds, the other fails whole (nothing of it is posted).
    """
    return [
        Write.update(
            PurchasingRecord(_pk(allocation.purchase_order), _line_sk(allocation.line)),
            [PurchasingRecord.invoiced.add(allocation.quantity)],
            (PurchasingRecord.invoiced == allocation.invoiced_before)
            & (PurchasingRecord.received >= allocation.invoiced_before + allocation.quantity),
            refusal=ReceiptsTaken(
                f"Line {allocation.line} of purchase order {allocation.purchase_order} was "
                "invoiced by another invoice meanwhile.",
                code="receipts_taken",
            ),
        )
        for allocation in allocations
    ]


def invoiced_changed(allocations: Sequence[Allocation]) -> bool:
    """Whether another posting has invoiced any of these lines since the verification read."""
    if not allocations:
        return False
    _, lines = order_headers_and_lines((a.purchase_order, a.line) for a in allocations)
    return any(
        (a.purchase_order, a.line) not in lines
        or lines[(a.purchase_order, a.line)].invoiced_quantity != a.invoiced_before
        for a in allocations
    )


def order_exists(order_id: str) -> bool:
    try:
        PurchasingRecord.get(_pk(order_id), ORDER, consistent_read=True)
    except DoesNotExist:
        return False
    return True


# -- the verification item's own wait (worker items table) -----------------------------------
# The worker items table belongs to store/worker_items.py; these writes are kept here so that
# invoice verification's transactional writes are in one place (to be moved with the worker).


def waiting_for_goods(item: WorkerItem, error: str, not_before: float) -> Write:
    """The verification item waits for the next run, its attempts NOT counted.

    Condition: the item still exists (a user may have removed it, setting the invoice back to
    In Progress, meanwhile). Its lease is released and its last error recorded.
    """
    return Write.update(
        WorkerItemRecord(f"DOC#{item.document_id}", f"{item.sequence:02d}#{item.action}"),
        [
            WorkerItemRecord.last_error.set(error[:4000]),
            WorkerItemRecord.not_before.set(not_before),
            WorkerItemRecord.lease_owner.remove(),
            WorkerItemRecord.lease_until.remove(),
        ],
        WorkerItemRecord.pk.exists(),
        refusal=ItemGone("The verification item was removed meanwhile.", code="worker_item_gone"),
    )


def due_now(item: WorkerItem) -> Write:
    """Reschedule: the verification item is due in the next run (condition: it still exists)."""
    return Write.update(
        WorkerItemRecord(f"DOC#{item.document_id}", f"{item.sequence:02d}#{item.action}"),
        [WorkerItemRecord.not_before.set(0)],
        WorkerItemRecord.pk.exists(),
        refusal=ItemGone("The verification item was removed meanwhile.", code="worker_item_gone"),
    )
