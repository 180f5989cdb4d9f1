from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.money import is_currency, minor_units, round_money


@pytest.mark.parametrize(("currency", "units"), [("JPY", 0), ("EUR", 2), ("GBP", 2), ("KWD", 3)])
def test_minor_units_come_from_cldr(currency: str, units: int) -> None:
    assert minor_units(currency) == units


def test_rounding_is_half_away_from_zero_to_minor_units() -> None:
    assert round_money(Decimal("10.005"), "EUR") == Decimal("10.01")
    assert round_money(Decimal("-10.005"), "EUR") == Decimal("-10.01")
    assert round_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert round_money(Decimal("1.2345"), "KWD") == Decimal("1.235")


def test_unknown_codes_are_not_currencies() -> None:
    assert is_currency("GBP")
    assert not is_currency("XYZ1")
    assert not is_currency("gbp")


@given(st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False))
def test_rounding_never_moves_more_than_half_a_minor_unit(amount: Decimal) -> None:
    rounded = round_money(amount, "EUR")
    assert abs(rounded - amount) <= Decimal("0.005")
    assert rounded.as_tuple().exponent == -2
