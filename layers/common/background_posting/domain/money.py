"""Currency precision and rounding.

Minor units come from the Unicode CLDR data that Babel ships (JPY 0, EUR 2, KWD 3),
never from a hand-written table.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies


@lru_cache(maxsize=512)
def is_currency(code: str) -> bool:
    return code in _known_currencies()


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    return int(get_currency_precision(currency))


@lru_cache(maxsize=512)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half away from zero to the currency's minor units (the accountants' rule)."""
    return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)


def is_rounded(amount: Decimal, currency: str) -> bool:
    return round_money(amount, currency) == amount
