"""Invoice verification in the background (SAP's model): pure rules over plain data.

A payable invoice whose lines reference purchase order lines is checked against what has
been received and not invoiced yet:

* each referenced order line (counted once, however many invoice lines name it) is expected
  to be invoiced for `available = received - invoiced before`, at the order's price:
  `expected_line = round(available x unit_price)` in the invoice currency;
* `expected = sum of expected_line`; `invoiced = sum of the referencing invoice lines' nets`
  (each `round(quantity x unit_price)`, as the ledger posts them). Only these totals are
  compared, so differences between lines may cancel out;
* `tolerance = max(tolerance_amount, round(tolerance_percent / 100 x |expected|))`;
  `|invoiced - expected| <= tolerance` verifies the invoice, anything more is an error that
  says, per order line, what is expected, what is invoiced and what has not arrived.

Within tolerance the company's `within_tolerance` setting decides what posts: `accept` keeps
the invoiced total and moves the difference from the order lines' expense account to the
small-differences account; `reduce` lowers an invoice that charges more than expected to the
expected total by a reduction line (an invoice below the expected total is accepted as is, its
difference to small differences: a vendor's undercharge is not raised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, Field

from background_posting.domain.documents import (
    Document,
    DocumentLine,
    OrderLineCheck,
    Verification,
)
from background_posting.domain.model import LazyModel
from background_posting.domain.money import round_money
from background_posting.domain.purchasing import OrderLine, PurchaseOrder
from background_posting.domain.types import Amount, Percent

SHORT_OF_GOODS = "invoice_verification_failed"
"""The error code of an invoice whose total is beyond tolerance of what was received: it
waits for goods, verified again in every run."""

OrderKey = tuple[str, int]
MAX_LINE_ERRORS = 50
"""Order lines that differ named one by one in the errors (the log entry and the e-mail);
beyond them, one error says how many more."""


class InvoiceVerificationSettings(LazyModel):
    """A company's tolerance for differences found by invoice verification."""

    model_config = ConfigDict(extra="forbid")

    tolerance_amount: Amount = Field(
        default=Decimal(0), ge=0, description="In the invoice's currency."
    )
    tolerance_percent: Percent = Field(default=Decimal(0), description="Of the expected total.")
    within_tolerance: Literal["accept", "reduce"] = "accept"
    after_posting: Literal["posted", "posted_not_completed"] = Field(
        default="posted",
        description="posted: a verified invoice is posted and done (`verification.status` "
        "verified); posted_not_completed: it posts with `verification.status` "
        "posted_not_completed until someone completes it (POST "
        "/documents/{id}/complete-verification), for a second look before payment",
    )
    post_values: Literal["keyed", "suggested"] = Field(
        default="keyed",
        description="keyed: a verified invoice posts its lines as the clerk keyed them (the "
        "vendor's values); suggested: each referenced order line posts what verification "
        "suggests for it (the quantity received and not invoiced, at the order's price), the "
        "vendor's lines referencing it replaced",
    )


@dataclass(frozen=True)
class InvoiceLineRef:
    """An invoice line that references an order line, with its net value."""

    index: int
    purchase_order: str
    line: int
    net: Decimal


def references(document: Document) -> list[InvoiceLineRef]:
    """The document's lines that reference purchase order lines (nets as the ledger rounds)."""
    found = []
    for index, line in enumerate(document.lines):
        if isinstance(line, DocumentLine) and line.purchase_order and line.purchase_order_line:
            net = round_money(line.quantity * line.unit_price, document.currency)
            found.append(InvoiceLineRef(index, line.purchase_order, line.purchase_order_line, net))
    return found


def needs_verification(document: Document) -> bool:
    return document.type == "payable_invoice" and (
        bool(document.purchase_orders)
        or any(isinstance(line, DocumentLine) and line.purchase_order for line in document.lines)
    )


def suggested_lines(orders: Sequence[PurchaseOrder]) -> list[DocumentLine]:
    """The lines of an invoice that names its orders and not their lines: one per order line
    with something received and not invoiced yet, for that quantity at the order's price, to
    the order line's GL account (the order's and line's numbers in the description)."""
    return [
        DocumentLine(
            description=(line.description or f"{order.id} line {line.line}")[:255],
            quantity=line.available,
            unit_price=line.unit_price,
            gl_account=line.gl_account,
            purchase_order=order.id,
            purchase_order_line=line.line,
        )
        for order in orders
        for line in order.lines
        if line.available > 0
    ]


def with_suggestion(document: Document, suggested: list[DocumentLine]) -> Document:
    """The invoice as verification sees it: the suggested lines after its own."""
    return document.model_copy(
        update={
            "lines": [*document.lines, *suggested],
            "line_count": document.line_count + len(suggested),
        }
    )


def tolerance_for(
    expected: Decimal, settings: InvoiceVerificationSettings, currency: str
) -> Decimal:
    """The larger of the amount and the percentage of the expected total, in the currency."""
    by_percent = round_money(abs(expected) * settings.tolerance_percent / 100, currency)
    return max(round_money(settings.tolerance_amount, currency), by_percent)


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {round_money(amount, currency):,f}"


def _price(amount: Decimal, currency: str) -> str:
    """A unit price: the currency's decimals at least, more when the order has them."""
    shown = amount if amount != round_money(amount, currency) else round_money(amount, currency)
    return f"{currency} {shown:,f}"


def _quantity(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def verify(
    refs: Sequence[InvoiceLineRef],
    order_lines: Mapping[OrderKey, OrderLine],
    settings: InvoiceVerificationSettings,
    currency: str,
    at: datetime,
    *,
    online: bool = False,
) -> Verification:
    """The verification of an invoice's referencing lines against the order lines' receipts.

    Every referenced order line must be in `order_lines` (the caller reports missing ones).
    `online`: verified at the screen (`mode: immediate`), so its errors say that nothing was
    posted rather than that it waits for the next run.
    """
    invoiced_by_line: dict[OrderKey, Decimal] = {}
    first_index: dict[OrderKey, int] = {}
    for ref in refs:
        key = (ref.purchase_order, ref.line)
        invoiced_by_line[key] = invoiced_by_line.get(key, Decimal(0)) + ref.net
        first_index.setdefault(key, ref.index)
    checks = []
    for key, invoiced_line in invoiced_by_line.items():
        order_line = order_lines[key]
        available = max(order_line.available, Decimal(0))
        expected_line = round_money(available * order_line.unit_price, currency)
        checks.append(
            OrderLineCheck(
                purchase_order=key[0],
                line=key[1],
                description=order_line.description,
                gl_account=order_line.gl_account,
                unit_price=order_line.unit_price,
                ordered=order_line.quantity,
                received=order_line.received_quantity,
                invoiced_before=order_line.invoiced_quantity,
                claimed_before=order_line.claimed_quantity,
                available=available,
                expected=expected_line,
                invoiced=invoiced_line,
                difference=invoiced_line - expected_line,
            )
        )
    expected = sum((c.expected for c in checks), Decimal(0))
    invoiced = sum((c.invoiced for c in checks), Decimal(0))
    difference = invoiced - expected
    tolerance = tolerance_for(expected, settings, currency)
    base: dict[str, Any] = {
        "expected": expected,
        "invoiced": invoiced,
        "difference": difference,
        "tolerance": tolerance,
        "checked_at": at,
        "order_lines": checks,
    }
    if abs(difference) > tolerance:
        return Verification(
            status="with_errors",
            errors=_errors(checks, first_index, currency, online=online, **base),
            **base,
        )
    base["posted_values"] = settings.post_values
    if difference == 0:
        return Verification(status="verified", outcome="matched", **base)
    if settings.within_tolerance == "reduce" and difference > 0:
        return Verification(status="verified", outcome="reduced", reduced_by=difference, **base)
    return Verification(status="verified", outcome="accepted", small_difference=difference, **base)


def _errors(
    checks: Sequence[OrderLineCheck],
    first_index: Mapping[OrderKey, int],
    currency: str,
    *,
    online: bool,
    expected: Decimal,
    invoiced: Decimal,
    difference: Decimal,
    tolerance: Decimal,
    **_: Any,
) -> list[dict[str, Any]]:
    """What the worker log and the e-mail say: the totals, then each order line that differs."""
    errors: list[dict[str, Any]] = [
        {
            "code": SHORT_OF_GOODS,
            "message": f"The invoice charges {_money(invoiced, currency)} for goods received "
            f"and not yet invoiced worth {_money(expected, currency)}: a difference of "
            f"{_money(difference, currency)}, beyond the tolerance of "
            f"{_money(tolerance, currency)}. "
            + (
                "Nothing was posted: post it in the background to wait for the goods, or change it."
                if online
                else "It is verified again in every run (goods may arrive meanwhile); "
                "reschedule, change or discard it."
            ),
            "field": "lines",
            "expected": format(expected, "f"),
            "invoiced": format(invoiced, "f"),
            "difference": format(difference, "f"),
        }
    ]
    differing = [check for check in checks if check.difference != 0]
    for check in differing[:MAX_LINE_ERRORS]:
        missing = check.ordered - check.received
        waiting = (
            f"{_quantity(missing)} of {_quantity(check.ordered)} not received yet"
            if missing > 0
            else f"all {_quantity(check.ordered)} received"
        )
        errors.append(
            {
                "code": "order_line_difference",
                "message": f"{check.purchase_order} line {check.line}"
                f"{f' ({check.description})' if check.description else ''}: invoiced "
                f"{_money(check.invoiced, currency)}, expected {_money(check.expected, currency)}"
                f" for {_quantity(check.available)} received and not invoiced at "
                f"{_price(check.unit_price, currency)} ({waiting}, "
                f"{_quantity(check.invoiced_before)} invoiced before).",
                "field": f"lines[{first_index[(check.purchase_order, check.line)]}]",
                "purchase_order": check.purchase_order,
                "purchase_order_line": check.line,
                "expected": format(check.expected, "f"),
                "invoiced": format(check.invoiced, "f"),
                "difference": format(check.difference, "f"),
                "not_received": format(max(missing, Decimal(0)), "f"),
            }
        )
    if len(differing) > MAX_LINE_ERRORS:
        more = len(differing) - MAX_LINE_ERRORS
        errors.append(
            {
                "code": "order_line_difference",
                "message": f"{more:,} more order lines differ (the first {MAX_LINE_ERRORS} "
                "are listed).",
                "field": "lines",
                "more": more,
            }
        )
    return errors


def as_posted(result: Verification, settings: InvoiceVerificationSettings) -> Verification:
    """A verified invoice's verification as it posts: `posted_not_completed` when the company
    wants a person to complete it, else as verified."""
    if result.status == "verified" and settings.after_posting == "posted_not_completed":
        return result.model_copy(update={"status": "posted_not_completed"})
    return result


def lines_to_post(document: Document, small_differences_gl: str, expense_gl: str) -> Document:
    """The document as it posts after verification: its own lines (those without a GL account
    on their order line's), then the adjustment.

    `reduced`: one line lowering the total to the expected amount (taxed like the referencing
    lines when they share one tax code). `accepted` with a difference: the difference on the
    small-differences account and the same amount off the order lines' expense account, so
    the vendor is owed what it invoiced and the expense is what the receipts are worth.
    """
    verification = document.verification
    if verification is None or not verification.verified:
        return document
    if verification.suggested:
        document = with_suggestion(document, verification.suggested)
    if verification.posted_values == "suggested":
        return _at_suggested_values(document, verification, small_differences_gl)
    order_gl = {(c.purchase_order, c.line): c.gl_account for c in verification.order_lines}
    own: list[Any] = []
    for line in document.lines:  # a line without an account takes its order line's
        if isinstance(line, DocumentLine) and line.purchase_order and not line.gl_account:
            found = order_gl.get((line.purchase_order, line.purchase_order_line or 0))
            line = line.model_copy(update={"gl_account": found}) if found else line
        own.append(line)
    referencing = [
        line for line in own if isinstance(line, DocumentLine) and line.purchase_order is not None
    ]
    offset_gl = next((line.gl_account for line in referencing if line.gl_account), expense_gl)
    added: list[DocumentLine] = []
    if verification.outcome == "reduced" and verification.reduced_by:
        codes = {line.tax_code for line in referencing}
        added.append(
            DocumentLine(
                description="Invoice reduced at invoice verification",
                quantity=Decimal(1),
                unit_price=-verification.reduced_by,
                gl_account=offset_gl,
                tax_code=codes.pop()
                if len(codes) == 1 and document.tax_mode == "builtin"
                else None,
            )
        )
    if verification.outcome == "accepted" and verification.small_difference:
        added.append(_small_difference(verification.small_difference, small_differences_gl))
        added.append(
            DocumentLine(
                description="Small difference moved to the small differences account",
                quantity=Decimal(1),
                unit_price=-verification.small_difference,
                gl_account=offset_gl,
            )
        )
    lines = [*own, *added]
    return document.model_copy(update={"lines": lines, "line_count": len(lines)})


def _small_difference(amount: Decimal, small_differences_gl: str) -> DocumentLine:
    """The difference accepted within tolerance, on the small-differences account."""
    return DocumentLine(
        description="Small difference accepted at invoice verification",
        quantity=Decimal(1),
        unit_price=amount,
        gl_account=small_differences_gl,
    )


def _at_suggested_values(
    document: Document, verification: Verification, small_differences_gl: str
) -> Document:
    """The company's `post_values: suggested`: the lines that reference order lines give way to
    one line per order line at what verification suggests (its quantity received and not
    invoiced, at the order's price, to its account, taxed as the first line that referenced
    it), so the expense is what the receipts are worth. `reduced` needs nothing more: that is
    the expected total. `accepted` with a difference posts it to the small-differences account,
    so the vendor is still owed what it invoiced."""
    referencing = [
        line
        for line in document.lines
        if isinstance(line, DocumentLine) and line.purchase_order is not None
    ]
    first: dict[OrderKey, DocumentLine] = {}
    for line in referencing:
        first.setdefault((line.purchase_order or "", line.purchase_order_line or 0), line)
    own = [
        line
        for line in document.lines
        if not (isinstance(line, DocumentLine) and line.purchase_order is not None)
    ]
    suggested = [
        DocumentLine(
            description=(check.description or f"{check.purchase_order} line {check.line}")[:255],
            quantity=check.available,
            unit_price=check.unit_price,
            gl_account=check.gl_account or keyed.gl_account,
            tax_code=keyed.tax_code,
            purchase_order=check.purchase_order,
            purchase_order_line=check.line,
        )
        for check in verification.order_lines
        if check.available != 0
        and (keyed := first.get((check.purchase_order, check.line))) is not None
    ]
    added: list[DocumentLine] = []
    if verification.outcome == "accepted" and verification.small_difference:
        added.append(_small_difference(verification.small_difference, small_differences_gl))
    lines = [*own, *suggested, *added]
    return document.model_copy(update={"lines": lines, "line_count": len(lines)})


@dataclass(frozen=True)
class Allocation:
    """What posting the invoice takes from one order line: guarded by the quantity it read."""

    purchase_order: str
    line: int
    invoiced_before: Decimal
    quantity: Decimal
    claimed_before: Decimal = Decimal(0)


def allocations(verification: Verification) -> list[Allocation]:
    """The order lines a verified invoice marks invoiced (all their available quantity)."""
    return [
        Allocation(c.purchase_order, c.line, c.invoiced_before, c.available, c.claimed_before)
        for c in verification.order_lines
        if c.available > 0
    ]
