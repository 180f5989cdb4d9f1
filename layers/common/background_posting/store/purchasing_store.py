"""The purchasing table: purchase orders, their lines with running totals, goods receipts.

Keys (one partition per order, `pk = PO#<order id>`):

* the order: `sk = ORDER` (company, vendor, currency, in `body`);
* each line: `sk = LINE#<line:06d>`, its ordered quantity and price, and two running totals,
  `received` (the sum of its goods receipts) and `invoiced` (what posted invoices used), as
  exact DynamoDB numbers: a line's received quantity is read in one GetItem, whatever the
  number of receipts;
* each goods receipt: `sk = GR#<receipt id>`;
* an invoice's claim set (`pk = CLAIMS#<invoice id>`, `sk = CLAIMS`): the order lines an
  invoice too large for one transaction holds while it posts (see `claim`).

An order of more lines than one transaction takes is written lines first, 100 to a
transaction, its header last (with the line count): readers reach lines only through the
header, and trust only lines of the header's own `creation` (a hash of the order as
requested), so a crashed creation is never seen half made, and the same request sent again
finishes it.

Every write that must happen once is conditional (the conditions are named in each function),
so a receipt never takes a line past its ordered quantity and two invoices never use the same
received quantity, whatever runs at the same time.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import NUMBER
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.operand import Path

from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.purchasing import GoodsReceipt, OrderLine, PurchaseOrder
from background_posting.domain.types import STORED
from background_posting.domain.verification import Allocation
from background_posting.store.base import StoreModel, register
from background_posting.store.worker_items import ItemGone, WorkerItem, WorkerItemRecord
from background_posting.store.writes import MAX_TRANSACTION_ITEMS, Write, token_for, transact

ORDER = "ORDER"
CLAIMS = "CLAIMS"


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
    creation = UnicodeAttribute(null=True)
    line_count = NumberAttribute(null=True)
    claimed = DecimalAttribute(null=True)
    state = UnicodeAttribute(null=True)
    attempt = UnicodeAttribute(null=True)


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
        claimed_quantity=record.claimed or Decimal(0),
    )


def _creation(order: PurchaseOrder) -> str:
    """What identifies the order as requested (not when or by whom): the same request sent
    again after a crash finishes its creation; another order under the same id is refused."""
    return token_for(order.model_dump_json(exclude={"created_at", "created_by"}))


def create_order(order: PurchaseOrder) -> None:
    """The order's lines, then its header; the order must not exist yet. Order ids are
    global, so the refusal says only that the id is taken, never whose order has it.

    Up to 99 lines: one transaction. More: the lines 100 to a transaction, each on the
    condition that its key is new or holds this very creation's line (a retry rewrites its
    own), then the header (condition: the order does not exist) with the line count. A crash
    in between leaves lines no reader reaches; the same request again finishes the order.
    """
    exists = Conflict(
        f"Purchase order id {order.id!r} is taken; choose another.",
        code="purchase_order_exists",
        details={"id": order.id},
    )
    creation = _creation(order)
    header = Write.put(
        PurchasingRecord(
            _pk(order.id),
            ORDER,
            company=order.company,
            body=_order_body(order),
            creation=creation,
            line_count=len(order.lines),
        ),
        PurchasingRecord.pk.does_not_exist(),
        refusal=exists,
    )
    new_or_mine = PurchasingRecord.pk.does_not_exist() | (PurchasingRecord.creation == creation)
    lines = [
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
                creation=creation,
            ),
            new_or_mine,
            refusal=exists,
        )
        for line in order.lines
    ]
    if len(lines) < MAX_TRANSACTION_ITEMS:
        transact([header, *lines])
        return
    for start in range(0, len(lines), MAX_TRANSACTION_ITEMS):
        transact(lines[start : start + MAX_TRANSACTION_ITEMS])
    transact([header])


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
    data["lines"] = [
        _line_of(order_id, r)
        for r in records
        if r.sk.startswith("LINE#") and r.creation == header.creation  # the header's own
    ]
    return PurchaseOrder.model_validate(data, context=STORED)


def add_receipt(receipt: GoodsReceipt, ordered: Mapping[int, Decimal]) -> None:
    """The receipt and each line's running total, in one transaction.

    Conditions: the receipt id is new (a repeated receipt is refused, not counted twice); each
    line exists and `received <= ordered - quantity` before the addition, so no receipt, alone
    or racing another, takes a line past its ordered quantity. `ordered`: each line's ordered
    quantity.
    """
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
    creations: dict[str, str | None] = {}
    read: list[PurchasingRecord] = []
    for record in PurchasingRecord.batch_get(items, consistent_read=True):
        order_id = record.pk.removeprefix("PO#")
        if record.sk == ORDER:
            headers[order_id] = json.loads(record.body or "{}")
            creations[order_id] = record.creation
        else:
            read.append(record)
    lines: dict[tuple[str, int], OrderLine] = {}
    for record in read:  # only lines of an order's header (never a crashed creation's)
        order_id = record.pk.removeprefix("PO#")
        if order_id in creations and record.creation == creations[order_id]:
            line = _line_of(order_id, record)
            lines[(order_id, line.line)] = line
    return headers, lines


class ReceiptsTaken(Conflict):
    """Another invoice invoiced these order lines since the verification read them."""


def invoiced(allocations: Sequence[Allocation]) -> list[Write]:
    """Add each allocation's quantity to its order line's `invoiced`, inside the posting's commit.

    Condition: `invoiced` and `claimed` are still what the verification read
    (`invoiced_before`, `claimed_before`) and their sum stays within `received`. Two invoices
    verified against the same receipts may both try; only the first commit's condition holds,
    the other fails whole (nothing of it is posted).
    """
    return [
        Write.update(
            PurchasingRecord(_pk(allocation.purchase_order), _line_sk(allocation.line)),
            [PurchasingRecord.invoiced.add(allocation.quantity)],
            _as_read(allocation),
            refusal=ReceiptsTaken(
                f"Line {allocation.line} of purchase order {allocation.purchase_order} was "
                "invoiced by another invoice meanwhile.",
                code="receipts_taken",
            ),
        )
        for allocation in allocations
    ]


def _as_read(allocation: Allocation) -> Any:
    """The line's totals are as the verification read them, and the allocation fits."""
    claimed = (
        PurchasingRecord.claimed.does_not_exist() | (PurchasingRecord.claimed == 0)
        if allocation.claimed_before == 0
        else PurchasingRecord.claimed == allocation.claimed_before
    )
    return (
        (PurchasingRecord.invoiced == allocation.invoiced_before)
        & claimed
        & (
            PurchasingRecord.received
            >= allocation.invoiced_before + allocation.claimed_before + allocation.quantity
        )
    )


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


# -- mass data: an invoice's claims on more order lines than one transaction takes --------------
#
# An invoice whose allocations do not fit its posting's commit claims them first:
#
# 1. its claim set (`CLAIMS#<invoice>`) is written `claiming`, naming every allocation, with a
#    new attempt id (refused while another attempt of the invoice holds it: `release` first);
# 2. each order line's quantity is claimed, 100 lines to a transaction in key order, on the
#    condition that the line's totals are still as verified (`invoiced`, `claimed`, and their
#    sum plus this quantity within `received`) and that the invoice has no claim on it yet:
#    `claimed` grows and the attribute `claim#<invoice>` records "<attempt>|<quantity>";
# 3. the claim set becomes `claimed` (condition: still this attempt's, `claiming`);
# 4. the posting's commit makes it `posted` (condition: this attempt's, `claimed`), so the
#    invoice posts only while every one of its claims is in place: all or nothing;
# 5. `settle` moves each claim into `invoiced` (condition: the claim is still this
#    attempt's), then the set is `settled`.
#
# A claimed quantity is never available to another invoice (`available` subtracts `claimed`)
# until it is settled (invoiced) or released. `release` (a failure before the commit, the
# next attempt of the same invoice, setting it back or discarding it) first turns the set
# `releasing` (so the attempt's commit can no longer hold), removes each of its claims still
# there (condition: the same "<attempt>|<quantity>"), then marks it `released`; a crash
# midway is finished by the next `release`. A set found `posted` is settled instead.

CLAIMING, CLAIMED, POSTED, SETTLED = "claiming", "claimed", "posted", "settled"
RELEASING, RELEASED = "releasing", "released"


class ClaimsLost(ReceiptsTaken):
    """This attempt's claims were released meanwhile (set back, or a newer attempt)."""


@dataclass(frozen=True)
class ClaimSet:
    invoice_id: str
    attempt: str
    state: str
    allocations: list[Allocation]


def _claim_key(invoice_id: str) -> tuple[str, str]:
    return f"CLAIMS#{invoice_id}", CLAIMS


def _own(invoice_id: str) -> Path:
    """The line's attribute holding the invoice's claim (named whole: ids may hold dots)."""
    return Path([f"claim#{invoice_id}"])


def _claim_value(attempt: str, quantity: Decimal) -> str:
    return f"{attempt}|{format(quantity, 'f')}"


def _allocations_json(allocations: Sequence[Allocation]) -> str:
    return json.dumps(
        [[a.purchase_order, a.line, format(a.quantity, "f")] for a in allocations],
        separators=(",", ":"),
    )


def claim_set(invoice_id: str) -> ClaimSet | None:
    """The invoice's claim set as it is now (one consistent read), or None."""
    for record in PurchasingRecord.batch_get([_claim_key(invoice_id)], consistent_read=True):
        rows = json.loads(record.body or "[]")
        return ClaimSet(
            invoice_id,
            record.attempt or "",
            record.state or RELEASED,
            [Allocation(o, n, Decimal(0), Decimal(q)) for o, n, q in rows],
        )
    return None


def _set_state(claims: ClaimSet, state: str, *, was: Sequence[str]) -> Write:
    return Write.update(
        PurchasingRecord(*_claim_key(claims.invoice_id)),
        [PurchasingRecord.state.set(state)],
        (PurchasingRecord.attempt == claims.attempt) & PurchasingRecord.state.is_in(*was),
        refusal=ClaimsLost(
            f"The claims of invoice {claims.invoice_id} were released meanwhile.",
            code="receipts_taken",
        ),
    )


def _line(allocation: Allocation) -> PurchasingRecord:
    return PurchasingRecord(_pk(allocation.purchase_order), _line_sk(allocation.line))


def _in_chunks(writes: Sequence[Write]) -> None:
    for start in range(0, len(writes), MAX_TRANSACTION_ITEMS):
        transact(writes[start : start + MAX_TRANSACTION_ITEMS])


def claim(invoice_id: str, allocations: Sequence[Allocation]) -> ClaimSet:
    """Claim the allocations for the invoice (steps 1 to 3 above). ReceiptsTaken when a line was
    invoiced or claimed by another invoice since it was read: this attempt's claims are
    released before it is raised."""
    ordered = sorted(allocations, key=lambda a: (a.purchase_order, a.line))
    claims = ClaimSet(invoice_id, uuid.uuid4().hex, CLAIMING, ordered)
    transact(
        [
            Write.update(
                PurchasingRecord(*_claim_key(invoice_id)),
                [
                    PurchasingRecord.state.set(CLAIMING),
                    PurchasingRecord.attempt.set(claims.attempt),
                    PurchasingRecord.body.set(_allocations_json(ordered)),
                ],
                PurchasingRecord.pk.does_not_exist()
                | PurchasingRecord.state.is_in(RELEASED, SETTLED),
                refusal=Conflict(
                    f"Another attempt is posting invoice {invoice_id} now; try again later.",
                    code="concurrent_update",
                ),
            )
        ]
    )
    own = _own(invoice_id)
    writes = []
    for allocation in ordered:
        writes.append(
            Write.update(
                _line(allocation),
                [
                    PurchasingRecord.claimed.set(allocation.claimed_before + allocation.quantity),
                    own.set(_claim_value(claims.attempt, allocation.quantity)),
                ],
                _as_read(allocation) & own.does_not_exist(),
                refusal=ReceiptsTaken(
                    f"Line {allocation.line} of purchase order {allocation.purchase_order} "
                    "was invoiced or claimed by another invoice meanwhile.",
                    code="receipts_taken",
                ),
            )
        )
    try:
        _in_chunks(writes)
        transact([_set_state(claims, CLAIMED, was=[CLAIMING])])
    except Exception:
        release(invoice_id)
        raise
    return ClaimSet(invoice_id, claims.attempt, CLAIMED, ordered)


def claims_posted(claims: ClaimSet) -> Write:
    """For the posting's commit: the claim set is still this attempt's and complete (step 4)."""
    return _set_state(claims, POSTED, was=[CLAIMED])


def _each_claim(claims: ClaimSet, actions: Any) -> list[Write]:
    own = _own(claims.invoice_id)
    return [
        Write.update(
            _line(a),
            [*actions(a), own.remove()],
            own == _claim_value(claims.attempt, a.quantity),
        )
        for a in claims.allocations
    ]


def _apply(writes: Sequence[Write]) -> None:
    """Each write, 100 to a transaction; a chunk refused (a line done already by an earlier,
    interrupted pass) is done line by line, skipping those whose claim is gone."""
    for start in range(0, len(writes), MAX_TRANSACTION_ITEMS):
        chunk = writes[start : start + MAX_TRANSACTION_ITEMS]
        try:
            transact(chunk)
        except Conflict:
            for write in chunk:
                with contextlib.suppress(Conflict):  # its claim was settled or released already
                    transact([write])


def settle(claims: ClaimSet) -> None:
    """After the commit: each claim becomes invoiced (step 5), then the set is settled."""
    _apply(
        _each_claim(
            claims,
            lambda a: [
                PurchasingRecord.invoiced.add(a.quantity),
                PurchasingRecord.claimed.add(-a.quantity),
            ],
        )
    )
    transact([_set_state(claims, SETTLED, was=[POSTED])])


def release(invoice_id: str) -> None:
    """Release the invoice's claims that did not post (see above); settle those that did.
    Nothing to do (one read) when the invoice holds none."""
    claims = claim_set(invoice_id)
    if claims is None or claims.state in (RELEASED, SETTLED):
        return
    if claims.state == POSTED:
        settle(claims)
        return
    if claims.state != RELEASING:
        transact([_set_state(claims, RELEASING, was=[claims.state])])
    _apply(_each_claim(claims, lambda a: [PurchasingRecord.claimed.add(-a.quantity)]))
    transact([_set_state(claims, RELEASED, was=[RELEASING])])


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
