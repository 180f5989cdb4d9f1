"""Field types shared by the domain models: currencies, zones, identifiers, money."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

from background_posting.domain.money import is_currency


def _check_currency(code: str) -> str:
    code = code.upper()
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone (for example 'Europe/London')")
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones agrees
        raise ValueError(f"{name!r} is not an IANA time zone") from exc
    return name


def _no_float(value: object) -> object:
    """Money travels as strings; a JSON float would carry binary rounding into the ledger."""
    if isinstance(value, float):
        raise ValueError('amounts must be strings such as "10.50", not JSON numbers')
    return value


Currency = Annotated[str, AfterValidator(_check_currency)]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
GLAccountCode = Annotated[str, Field(min_length=1, max_length=40)]
Amount = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(allow_inf_nan=False, max_digits=28),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(ge=0, le=100, allow_inf_nan=False),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
RateValue = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    Field(gt=0, allow_inf_nan=False),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
