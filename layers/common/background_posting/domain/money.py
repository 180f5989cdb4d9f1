"""Currency precision and rounding.

Minor units come from the Unicode CLDR data that Babel ships (JPY 0, EUR 2, KWD 3),
never from a hand-written table.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Rate:
    """An exchange rate as a fraction: `amount -> amount x numerator / denominator`.

    A rate quoted the other way round (EUR->GBP used for GBP->EUR) is applied by dividing,
    never by multiplying by a rounded reciprocal: 0.414 KWD at 1 EUR = 1.2 KWD is exactly
    0.345 EUR, which rounds to 0.35, where 0.414 x 0.8333... would round to 0.34.
    """

    numerator: Decimal
    denominator: Decimal = Decimal(1)

    @classmethod
    def one(cls) -> Rate:
        return cls(Decimal(1))

    def inverted(self) -> Rate:
        return Rate(self.denominator, self.numerator)

    def then(self, onward: Rate) -> Rate:
        """This conversion followed by `onward` (e.g. document -> home -> account)."""
        return Rate(self.numerator * onward.numerator, self.denominator * onward.denominator)

    def apply(self, amount: Decimal) -> Decimal:
        product = amount * self.numerator
        return product if self.denominator == 1 else product / self.denominator

    def __rmul__(self, amount: Decimal) -> Decimal:
        return self.apply(amount)

    @property
    def value(self) -> Decimal:
        """The rate as one decimal (for display; conversions use `apply`)."""
        return self.numerator / self.denominator

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)
