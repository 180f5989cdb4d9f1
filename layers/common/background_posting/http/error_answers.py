"""The one place that maps exceptions to HTTP answers in the error format of docs/api.md."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from pydantic import ValidationError

from background_posting.domain.documents import DOCUMENT_TYPES
from background_posting.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidRequest,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from background_posting.domain.tax import TaxUnavailable
from background_posting.http.work_json import jsonable

logger = Logger(child=True)

STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    InvalidRequest: HTTPStatus.BAD_REQUEST,
    ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    TaxUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,  # AvaTax down, slow or not configured
}


def error_response(
    status: HTTPStatus, code: str, message: str, details: dict[str, Any] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": jsonable(details or {})}},
    )


def proxy_answer(
    status: HTTPStatus, code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The same error shape as a Lambda proxy answer, for what is refused before routing."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


# Powertools' idempotency utility raises these around the whole request (before and after
# routing), so they are answered at the entry point, in the same shape.
IDEMPOTENCY_ERRORS: dict[type[Exception], tuple[HTTPStatus, str, str]] = {
    IdempotencyAlreadyInProgressError: (
        HTTPStatus.CONFLICT,
        "request_in_progress",
        "A request with this Idempotency-Key is still in progress; try again when it is done.",
    ),
    IdempotencyValidationError: (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
        "This Idempotency-Key was used for another request; use a new key for a new request.",
    ),
    IdempotencyPersistenceLayerError: (
        HTTPStatus.SERVICE_UNAVAILABLE,
        "idempotency_unavailable",
        "Requests with an Idempotency-Key cannot be checked right now; retry with the same key.",
    ),
}


def idempotency_answer(exc: Exception) -> dict[str, Any] | None:
    """The answer for one of the idempotency utility's exceptions, or None for any other."""
    for cls, (status, code, message) in IDEMPOTENCY_ERRORS.items():
        if isinstance(exc, cls):
            if cls is IdempotencyPersistenceLayerError:
                logger.exception("idempotency store failed")
            return proxy_answer(status, code, message, {"header": "Idempotency-Key"})
    return None


# Tags pydantic puts in an error's location for a discriminated union: not field names.
_UNION_TAGS = frozenset(DOCUMENT_TYPES) | {"hourly", "daily", "weekly", "monthly"}

# The field names a person sees on the screen, where the words differ from the API's.
LABELS: dict[str, str] = {
    "body": "The request",
    "id": "Id",
    "gl_account": "GL account",
    "gl_accounts": "GL accounts",
    "unit_price": "Unit price",
    "tax_code": "Tax code",
    "tax_codes": "Tax codes",
    "tax_mode": "Tax calculation",
    "document_date": "Document date",
    "auto_reverse_on": "Reverse automatically on",
    "home_currency": "Home currency",
    "dual_currency": "Dual currency",
    "timezone": "Time zone",
    "trading_currencies": "Trading currencies",
    "credit_terms": "Credit terms",
    "vendor_credit_terms": "Vendor payment terms",
    "days_due": "Days until due",
    "income_schedule": "Income schedule",
    "every_hours": "Every (hours)",
    "start_offset_minutes": "Start offset (minutes)",
    "nth": "Week of the month",
    "max_attempts": "Maximum attempts",
    "max_attempts_avatax": "Maximum attempts (AvaTax)",
    "line_thresholds": "Line thresholds",
    "journal_line_limit": "Journal line limit",
    "custom_validations": "Custom validations",
    "from_currency": "From currency",
    "to_currency": "To currency",
    "exchange_rates": "Exchange rates",
    "postal_code": "Postal code",
    "line1": "Address line 1",
    "line2": "Address line 2",
    "iban": "IBAN",
    "qr_iban": "QR-IBAN",
    "receivable_control": "Receivable control account",
    "payable_control": "Payable control account",
    "sales_tax": "Sales tax account",
    "purchase_tax": "Purchase tax account",
    "deferred_income": "Deferred income account",
    "currency_rounding": "Currency rounding account",
    "small_differences": "Small differences account",
    "ids": "Documents",
}
# What a list's entries are called, for `lines[2].value` -> "Value on line 3".
_ENTRY_NAMES = {
    "lines": "line",
    "periods": "period",
    "exchange_rates": "exchange rate",
    "discounts": "discount tier",
    "tax_codes": "tax code",
    "custom_validations": "custom validation",
    "trading_currencies": "trading currency",
    "ids": "document",
}


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    """`('body', 'sales_invoice', 'lines', 0, 'quantity')` -> `lines[0].quantity`."""
    parts = [p for p in location if p not in ("body", "query", "path") and p not in _UNION_TAGS]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _word(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def field_label(location: tuple[Any, ...] | list[Any]) -> str:
    """The field as a person names it: `lines[2].value` -> "Value on line 3",
    `start_offset_minutes` -> "Start offset (minutes)", `periods[0].end` -> "End of period 1"."""
    parts = [p for p in location if p not in ("body", "query", "path") and p not in _UNION_TAGS]
    if not parts:
        return LABELS["body"]
    last_name = next((p for p in reversed(parts) if isinstance(p, str)), "body")
    places = []
    for before, part in itertools.pairwise(parts):
        if isinstance(part, int) and isinstance(before, str):
            places.append(f"{_ENTRY_NAMES.get(before, _word(before).lower())} {part + 1}")
    if isinstance(parts[-1], int):  # the entry itself: "Line 3", "Trading currency 2"
        return (places.pop() if places else _word(last_name)).capitalize() + (
            f" of {' of '.join(reversed(places))}" if places else ""
        )
    label = _word(last_name)
    if places:
        joint = " on " if places[-1].startswith("line ") else " of "
        label += joint + " of ".join(reversed(places))
    return label


def _listing(values: Any) -> str:
    text = str(values)
    return text.replace("'", "")


def _sentence(err: Any, label: str) -> str:
    """One pydantic error as a sentence a person understands: what is wrong, what to do."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", "is invalid"))
    if kind == "json_invalid":
        if "nested too deeply" in str(ctx.get("error", "")):
            return "The request is not valid JSON: it is nested too deeply to read."
        return "The request is not valid JSON: check its brackets, commas and quotes."
    if kind in ("missing", "union_tag_not_found"):
        return f"{label} is required: enter it."
    if kind == "extra_forbidden":
        return f"{label} is not a field here: remove it (check its spelling)."
    if kind in ("less_than_equal", "less_than", "greater_than_equal", "greater_than"):
        bound = {
            "less_than_equal": ("le", "or less"),
            "less_than": ("lt", None),
            "greater_than_equal": ("ge", "or more"),
            "greater_than": ("gt", None),
        }[kind]
        limit = ctx.get(bound[0])
        if bound[1] is None:
            word = "less than" if kind == "less_than" else "more than"
            return f"{label} must be {word} {limit}."
        return f"{label} must be {limit} {bound[1]}."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label} must be a whole number."
    if kind in ("decimal_parsing", "decimal_type"):
        return f'{label} must be a number written as a string, such as "10.50".'
    if kind in ("decimal_max_digits", "decimal_max_places", "decimal_whole_digits"):
        return f"{label} has too many digits."
    if kind == "finite_number":
        return f"{label} must be a finite number."
    if kind in ("string_too_short", "too_short"):
        least = ctx.get("min_length", 1)
        if kind == "string_too_short":
            if least == 1:
                return f"{label} must not be empty."
            return f"{label} must have at least {least} characters."
        return f"{label} needs at least {least} entr{'y' if least == 1 else 'ies'}."
    if kind in ("string_too_long", "too_long"):
        most = ctx.get("max_length")
        if kind == "string_too_long":
            return f"{label} must have at most {most} characters."
        return f"{label} takes at most {most} entries."
    if kind == "string_pattern_mismatch":
        return (
            f"{label} is not in the expected form: {_listing(err.get('input', ''))!s} does not fit."
        )
    if kind in ("literal_error", "enum"):
        return f"{label} must be one of {_listing(ctx.get('expected', ''))}."
    if kind == "union_tag_invalid":
        return f"{label} must be one of {_listing(ctx.get('expected_tags', ''))}."
    if kind in (
        "date_parsing",
        "date_from_datetime_parsing",
        "date_type",
        "date_from_datetime_inexact",
    ):
        return f"{label} must be a date written as YYYY-MM-DD, such as 2026-11-30."
    if kind in ("time_parsing", "time_type"):
        return f"{label} must be a time written as HH:MM, such as 02:00."
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return f"{label} must be a date and time in ISO 8601, such as 2026-11-30T09:15:00Z."
    if kind in ("bool_parsing", "bool_type"):
        return f"{label} must be true or false."
    if kind in ("string_type", "string_sub_type"):
        return f"{label} must be text in quotes."
    if kind == "list_type":
        return f"{label} must be a list."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{label} must be an object with named fields."
    if kind in ("value_error", "assertion_error"):
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
    text = msg[:1].upper() + msg[1:] if label == LABELS["body"] else f"{label}: {msg}"
    return text if text.endswith((".", "?", "!")) else text + "."


def describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, str]]]:
    """Each problem as `{field, label, message, code}`: `field` is the path for programs
    (`lines[2].value`), `label` and `message` are for people ("Value on line 3", a sentence
    saying what is wrong and what to do); the answer's message is the first problem's."""
    problems = []
    for err in errors:
        location = err.get("loc", ())
        field = _field_name(location)
        label = field_label(location)
        if err.get("type") == "json_invalid":
            field, label = "body", LABELS["body"]
        elif err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # A discriminated union (document type, schedule frequency): name its tag field.
            tag = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            field = f"{field}.{tag}" if field != "body" else tag
            label = field_label([*location, tag])
        problems.append(
            {
                "field": field,
                "label": label,
                "message": _sentence(err, label),
                "code": str(err.get("type", "invalid")),
            }
        )
    if not problems:
        problems.append(
            {
                "field": "body",
                "label": LABELS["body"],
                "message": "The request is invalid.",
                "code": "invalid",
            }
        )
    message = problems[0]["message"]
    if len(problems) > 1:
        more = len(problems) - 1
        plural = "is 1 more problem" if more == 1 else f"are {more} more problems"
        message += f" There {plural}, listed with this one."
    return message, problems


def install(app: APIGatewayRestResolver, methods_of: Callable[[str], list[str]]) -> None:
    """The answers of every error; `methods_of(path)` the methods a path takes (for a 405)."""

    @app.exception_handler(RequestValidationError)
    def _request_invalid(exc: RequestValidationError) -> Response[dict[str, Any]]:
        message, problems = describe_validation(list(exc.errors()))
        return error_response(
            HTTPStatus.BAD_REQUEST, "invalid_request", message, {"errors": problems}
        )

    @app.exception_handler(ValidationError)
    def _model_invalid(exc: ValidationError) -> Response[dict[str, Any]]:
        message, problems = describe_validation(list(exc.errors()))
        return error_response(
            HTTPStatus.BAD_REQUEST, "invalid_request", message, {"errors": problems}
        )

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[dict[str, Any]]:
        status = next(
            (s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)),
            HTTPStatus.INTERNAL_SERVER_ERROR,
        )
        return error_response(status, exc.code, exc.message, exc.details)

    @app.not_found
    def _no_route(exc: Exception) -> Response[dict[str, Any]]:
        event = app.current_event
        allowed = methods_of(event.path)
        if allowed:
            answer = error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "method_not_allowed",
                f"{event.path} answers {', '.join(allowed)}, not {event.http_method}.",
                {"allowed": allowed},
            )
            answer.headers["Allow"] = ", ".join(allowed)
            return answer
        return error_response(
            HTTPStatus.NOT_FOUND,
            "route_not_found",
            f"There is no route {event.http_method} {event.path}.",
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[dict[str, Any]]:
        logger.exception("unhandled error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side; the request may be retried. "
            "Quote the request id to support.",
            {"request_id": app.lambda_context.aws_request_id if app.lambda_context else None},
        )
