"""Purchase orders and goods receipts: create and read, per company and vendor."""

from __future__ import annotations

import uuid
from typing import Any

from background_posting import clock
from background_posting.domain.errors import Conflict, NotFound, ValidationFailed
from background_posting.domain.identity import Caller
from background_posting.domain.purchasing import (
    GoodsReceipt,
    GoodsReceiptInput,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderInput,
)
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import purchasing_store


def _invalid(field: str, message: str, code: str = "invalid_request") -> ValidationFailed:
    return ValidationFailed(
        f"{field}: {message}.",
        code=code,
        details={"errors": [{"field": field, "message": message}]},
    )


def create_order(caller: Caller, data: PurchaseOrderInput) -> PurchaseOrder:
    """A purchase order of a vendor of the company, in a currency the vendor trades in."""
    caller.require_company(data.company)
    company_store.get_company(data.company)
    try:
        vendor = account_store.get_account(data.vendor)[0]
    except NotFound:
        vendor = None
    if vendor is None or vendor.company != data.company:
        raise _invalid(
            "vendor",
            f"account {data.vendor!r} does not exist in company {data.company!r}",
            "account_not_found",
        )
    if vendor.kind != "vendor":
        raise _invalid("vendor", f"account {vendor.id!r} is a {vendor.kind}, not a vendor")
    if data.currency not in vendor.trading_currencies:
        raise _invalid(
            "currency",
            f"vendor {vendor.id} trades only in {', '.join(vendor.trading_currencies)}",
            "currency_not_traded",
        )
    order_id = data.id or f"PO-{uuid.uuid4().hex[:12].upper()}"
    order = PurchaseOrder(
        id=order_id,
        company=data.company,
        vendor=data.vendor,
        currency=data.currency,
        order_date=data.order_date,
        lines=[
            OrderLine(
                purchase_order=order_id,
                line=line.line,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                gl_account=line.gl_account,
            )
            for line in data.lines
        ],
        created_at=clock.now(),
        created_by=caller.user_id,
    )
    purchasing_store.create_order(order)
    return order


def read_order(caller: Caller, order_id: str) -> PurchaseOrder:
    order = purchasing_store.get_order(order_id)
    if not caller.may_use(order.company):
        raise NotFound(
            f"Purchase order {order_id!r} does not exist.",
            code="purchase_order_not_found",
            details={"id": order_id},
        )
    return order


def receive_goods(caller: Caller, data: GoodsReceiptInput) -> dict[str, Any]:
    """Record a goods receipt: every line's received total grows in the same transaction.

    Refused (nothing recorded): an order of another company or none (422), a line the order
    does not have (422), more than is still to be received on any line (409 `over_receipt`).
    """
    caller.require_company(data.company)
    headers, read = purchasing_store.order_headers_and_lines(
        (data.purchase_order, line.line) for line in data.lines
    )  # the receipt's lines only, however many the order has
    header = headers.get(data.purchase_order)
    if header is None or header.get("company") != data.company:
        raise _invalid(
            "purchase_order",
            f"purchase order {data.purchase_order!r} does not exist in company {data.company!r}",
            "purchase_order_not_found",
        )
    lines = {number: line for (_, number), line in read.items()}
    problems = []
    for index, received in enumerate(data.lines):
        line = lines.get(received.line)
        if line is None:
            problems.append(
                {
                    "field": f"lines[{index}].line",
                    "message": f"purchase order {data.purchase_order} has no line {received.line}",
                }
            )
        elif received.quantity > line.quantity - line.received_quantity:
            problems.append(
                {
                    "field": f"lines[{index}].quantity",
                    "message": f"{received.quantity} would take line {line.line} past its "
                    f"ordered {line.quantity} ({line.received_quantity} received already)",
                }
            )
    unknown = [p for p in problems if p["field"].endswith(".line")]
    if unknown:
        raise ValidationFailed(
            f"{unknown[0]['field']}: {unknown[0]['message']}.",
            code="purchase_order_line_not_found",
            details={"errors": unknown},
        )
    if problems:
        raise Conflict(
            f"{problems[0]['field']}: {problems[0]['message']}.",
            code="over_receipt",
            details={"errors": problems},
        )
    receipt = GoodsReceipt(
        id=data.id or uuid.uuid4().hex,
        company=data.company,
        purchase_order=data.purchase_order,
        date=data.date,
        reference=data.reference,
        lines=data.lines,
        created_at=clock.now(),
        created_by=caller.user_id,
    )
    purchasing_store.add_receipt(receipt, {n: line.quantity for n, line in lines.items()})
    return {
        "goods_receipt": receipt.model_dump(mode="json"),
        "purchase_order": purchasing_store.get_order(data.purchase_order).model_dump(mode="json"),
    }
