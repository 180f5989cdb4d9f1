"""The printable rendition of a document: HTML from a Jinja2 template, amounts per currency."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, select_autoescape

from background_posting.domain.documents import Document, DocumentLine, JournalLine
from background_posting.domain.money import round_money


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("background_posting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda value, currency: format_currency(
        Decimal(str(value)), currency, locale="en_GB"
    )
    return env


def _rows(document: Document) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(document.lines, start=1):
        if isinstance(line, JournalLine):
            rows.append(
                {
                    "n": number,
                    "description": line.description,
                    "gl_account": line.gl_account,
                    "account": line.account or "",
                    "value": line.value,
                }
            )
        elif isinstance(line, DocumentLine):
            rows.append(
                {
                    "n": number,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "tax_code": line.tax_code or "",
                    "value": round_money(line.quantity * line.unit_price, document.currency),
                }
            )
    return rows


def render_document(document: Document, transaction: dict[str, Any] | None) -> str:
    template = _environment().get_template("document.html.j2")
    return template.render(
        document=document,
        title=document.type.replace("_", " ").title(),
        rows=_rows(document),
        transaction=transaction,
    )
