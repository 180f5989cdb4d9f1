"""The source's example (SAP's background invoice verification), as request bodies.

Order PO-4711 of vendor VEND01: line 1, 100 pieces at 10.00; line 2, 50 pieces at 12.00.
The goods of line 1 arrive first, those of line 2 later. The vendor's invoice charges 1,600.00
in two lines that differ from the order (1,100.00 for line 1, 500.00 for line 2): only the
total is compared, so it fails while only the first receipt exists and posts after the second.
"""

from __future__ import annotations

from typing import Any

ORDER_ID = "PO-4711"


def order_body(order_id: str = ORDER_ID, company: str = "ACME", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": order_id,
        "company": company,
        "vendor": "VEND01" if company == "ACME" else f"VEND01-{company}",
        "currency": "GBP",
        "order_date": "2026-11-02",
        "lines": [
            {"line": 1, "description": "Bolts M8", "quantity": "100", "unit_price": "10.00"},
            {"line": 2, "description": "Nuts M8", "quantity": "50", "unit_price": "12.00"},
        ],
    }
    body.update(overrides)
    return body


def receipt_body(
    line: int, quantity: str, order_id: str = ORDER_ID, company: str = "ACME", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "company": company,
        "purchase_order": order_id,
        "date": "2026-11-20",
        "lines": [{"line": line, "quantity": quantity}],
    }
    body.update(overrides)
    return body


def invoice_body(
    lines: list[tuple[str, str, int]] | None = None, order_id: str = ORDER_ID, **overrides: Any
) -> dict[str, Any]:
    """A payable invoice whose lines (quantity, unit price, order line) reference the order."""
    lines = lines or [("100", "11.00", 1), ("50", "10.00", 2)]
    body: dict[str, Any] = {
        "type": "payable_invoice",
        "company": "ACME",
        "account": "VEND01",
        "document_date": "2026-11-20",
        "currency": "GBP",
        "reference": "INV-88",
        "lines": [
            {
                "description": f"Order line {line}",
                "quantity": quantity,
                "unit_price": price,
                "purchase_order": order_id,
                "purchase_order_line": line,
            }
            for quantity, price, line in lines
        ],
    }
    body.update(overrides)
    return body


MASS_ORDER_ID = "PO-MASS"


def mass_order_body(lines: int, order_id: str = MASS_ORDER_ID) -> dict[str, Any]:
    """An order of `lines` lines, each 3 pieces at 2.50 (the line number in its description)."""
    return order_body(
        order_id,
        lines=[
            {"line": n, "description": f"Part {n}", "quantity": "3", "unit_price": "2.50"}
            for n in range(1, lines + 1)
        ],
    )


def mass_receipt_bodies(lines: int, order_id: str = MASS_ORDER_ID) -> list[dict[str, Any]]:
    """Every line of the mass order received in full, 99 lines to a receipt."""
    return [
        receipt_body(
            1,
            "3",
            order_id,
            lines=[{"line": n, "quantity": "3"} for n in range(first, min(first + 99, lines + 1))],
        )
        for first in range(1, lines + 1, 99)
    ]


def mass_invoice_body(lines: int, order_id: str = MASS_ORDER_ID) -> dict[str, Any]:
    """The vendor's invoice of the whole mass order, one keyed line per order line (7.50 each)."""
    return invoice_body([("3", "2.50", n) for n in range(1, lines + 1)], order_id)
