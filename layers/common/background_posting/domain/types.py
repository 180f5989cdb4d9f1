"""Field types shared by the domain models: currencies, zones, identifiers, money."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
)

from background_posting.domain.errors import InvalidRequest
from background_posting.domain.money import is_currency

# ISO 4217's codes that are no money to keep books in: XTS is reserved for testing, XXX means
# "no currency".
NOT_MONEY = frozenset({"XTS", "XXX"})


def _check_currency(code: str) -> str:
    code = code.upper()
    if code in NOT_MONEY:
        raise ValueError(f"{code!r} is ISO 4217's code for no currency or testing, not money")
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


# Names a host's zone database answers that are no place, and that EventBridge Scheduler
# refuses as a ScheduleExpressionTimezone: the "Factory" zone (tzdata's placeholder), the
# host's own zone ("localtime"), the POSIX rules template, and the copies of the database
# under posix/ and right/ (leap seconds).
NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})
_NOT_PLACE_PREFIXES = ("posix/", "right/", "SystemV/")


def is_place_zone(name: str) -> bool:
    """An IANA time zone of a place (or UTC), as EventBridge Scheduler accepts it."""
    return (
        name not in NOT_PLACES
        and not name.startswith(_NOT_PLACE_PREFIXES)
        and name in _zone_names()
    )


def _check_timezone(name: str) -> str:
    if not is_place_zone(name):
        raise ValueError(
            f"{name!r} is not the IANA time zone of a place: use one such as 'Europe/London'"
        )
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones agrees
        raise ValueError(f"{name!r} is not an IANA time zone") from exc
    return name


EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


STORED: dict[str, Any] = {"stored": True}
"""The validation context of what the store reads back (`Model.model_validate(data,
context=STORED)`): the limits on what is entered (dates, digits, unique rates) are not
checked again, so that data an earlier version stored within its wider limits stays
readable (a list is never a 500 because one old item breaks a newer rule)."""


def is_entered(info: ValidationInfo) -> bool:
    """Whether the value is being entered (checked), not read back from the store."""
    return not (info.context or {}).get("stored")


def _check_book_date(value: date, info: ValidationInfo) -> date:
    """A date a person enters into the books (a document's, a rate's, a period's, a post's):
    1900-01-01 to 2999-12-31, so that a due date, a period or a schedule computed from it
    is a date too (9999-12-31 plus 30 days is none)."""
    if is_entered(info) and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"{value.isoformat()} is outside the dates the books take: enter a date from "
            f"{EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}"
        )
    return value


# ASCII digits only: `\d` would also take Arabic-Indic (U+0660..U+0669) and full-width
# (U+FF10..U+FF19) digits, which Decimal() reads as numbers; the contract's pattern is ASCII.
DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)


def _decimal_text(value: object) -> object:
    """Money, quantities, rates and percents travel as decimal strings in plain notation
    ("10.50", "-3", "0.125"): a JSON number would carry binary rounding into the ledger, and
    "1e5" or " 1" are not what a person types as an amount. Decimals built in code pass."""
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueError('must be a decimal string such as "10.50", not a JSON number')
    if not _DECIMAL.fullmatch(value):
        raise ValueError('must be a decimal in plain notation such as "10.50" or "-3"')
    return value


MAX_WHOLE_DIGITS = 15
"""Digits an entered amount, quantity, price or rate may have before its decimal point: a
quantity x price, a total of many lines, a value at a rate all stay far inside the 28 digits of
Decimal's arithmetic and the 38 of a DynamoDB number."""
_WHOLE_LIMIT = Decimal(10) ** MAX_WHOLE_DIGITS


def within_whole_digits(value: Decimal, info: ValidationInfo) -> Decimal:
    if is_entered(info) and value.is_finite() and abs(value) >= _WHOLE_LIMIT:
        raise ValueError(
            f"has more than {MAX_WHOLE_DIGITS} digits before the decimal point: enter an "
            f"amount below 1,000,000,000,000,000 ({MAX_WHOLE_DIGITS} digits)"
        )
    return value


def _decimal_schema(description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"type": "string", "pattern": DECIMAL_PATTERN, "description": description}
    )


Currency = Annotated[str, AfterValidator(_check_currency)]
BookDate = Annotated[
    date,
    AfterValidator(_check_book_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": "YYYY-MM-DD, from 1900-01-01 to 2999-12-31.",
        }
    ),
]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
GLAccountCode = Annotated[str, Field(min_length=1, max_length=40)]
Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    _decimal_schema('A decimal string in plain notation, e.g. "10.50".'),
    Field(allow_inf_nan=False, max_digits=28),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
Percent = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    _decimal_schema('A percentage from "0" to "100" as a decimal string, e.g. "2.5".'),
    Field(ge=0, le=100, allow_inf_nan=False),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]
EnteredAmount = Annotated[Amount, AfterValidator(within_whole_digits)]
"""An amount, quantity or price a person enters: at most 15 digits before the decimal point."""
RateValue = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    _decimal_schema('A positive rate as a decimal string, e.g. "1.15".'),
    Field(gt=0, allow_inf_nan=False),
    AfterValidator(within_whole_digits),
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
]


def time_bound(value: str | None, field: str, end: bool) -> str | None:
    """A list's `from`/`to` (runs, the audit) as the UTC ISO 8601 its times are compared with:
    a date is that UTC day's start (`from`) or last moment (`to`); a time must name its offset.
    InvalidRequest naming the field otherwise."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            at = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        else:
            at = datetime.fromisoformat(value)
            if at.tzinfo is None:
                raise ValueError("no offset")
        bound = at.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        message = (
            f"{field}: {value!r} is not a date (YYYY-MM-DD) or a time with its offset "
            "(e.g. 2026-12-01T09:00:00Z, or +01:00 written %2B01:00 in a URL)."
        )
        raise InvalidRequest(
            message,
            details={"errors": [{"field": field, "message": message, "code": "invalid_time"}]},
        ) from None
    return bound
