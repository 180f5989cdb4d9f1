"""The digest e-mail: plain text and HTML from Jinja2 templates, amounts per currency (Babel)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined

from background_posting.domain.digest import Digest, local_time
from background_posting.domain.money import round_money
from background_posting.domain.notifications import Email

LOCALE = "en_GB"


def money(amount: Decimal | None, currency: str) -> str:
    """`£1,234.50`, `JP¥1,235`, `KWD1,234.567`: the currency's own minor units (CLDR),
    rounded half away from zero as the ledger rounds (Babel alone would round half to even)."""
    if amount is None:
        return "-"
    try:
        return str(format_currency(round_money(amount, currency), currency, locale=LOCALE))
    except (ArithmeticError, ValueError):  # one amount past what can be shown: not the e-mail
        return f"{amount} {currency}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("background_posting", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters["money"] = money
    env.filters["when"] = local_time
    return env


def render_digest(digest: Digest) -> Email:
    env = _environment()
    return Email(
        to=digest.email,
        subject=digest.subject,
        text=env.get_template("digest.txt.j2").render(digest=digest),
        html=env.get_template("digest.html.j2").render(digest=digest),
    )
