"""The one place that maps exceptions to HTTP answers in the error format of ../shared/API.md."""

from __future__ import annotations

import json
import re
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
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from background_posting.domain.tax import TaxUnavailable

logger = Logger(child=True)

STATUS_BY_ERROR: dict[type[DomainError], HTTPStatus] = {
    Unauthenticated: HTTPStatus.UNAUTHORIZED,
    Forbidden: HTTPStatus.FORBIDDEN,
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    ValidationFailed: HTTPStatus.UNPROCESSABLE_ENTITY,
    TaxUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,  # AvaTax down, slow or not configured
}


def error_response(
    status: HTTPStatus, code: str, message: str, details: dict[str, Any] | None = None
) -> Response[dict[str, Any]]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details or {}}},
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


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    """`('body', 'sales_invoice', 'lines', 0, 'quantity')` -> `lines[0].quantity`."""
    parts = [p for p in location if p not in ("body", "query", "path") and p not in _UNION_TAGS]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def describe_validation(errors: list[Any]) -> tuple[str, list[dict[str, str]]]:
    problems = []
    for err in errors:
        field = _field_name(err.get("loc", ()))
        text = str(err.get("msg", "is invalid"))
        if err.get("type") == "missing":
            text = "is required"
        elif err.get("type") == "json_invalid":
            field, text = "body", "is not valid JSON"
        elif err.get("type") == "extra_forbidden":
            text = "is not a known field"
        elif err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # A discriminated union (document type, schedule frequency): name its tag field.
            tag = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            field = f"{field}.{tag}" if field != "body" else tag
            text = str(err.get("msg", "is invalid"))
        problems.append({"field": field, "message": text})
    first = problems[0] if problems else {"field": "body", "message": "is invalid"}
    message = f"{first['field']} {first['message']}."
    if len(problems) > 1:
        message += (
            f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''} in details.)"
        )
    return message, problems


def methods_of(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods the API's OpenAPI document lists for a concrete path (none: no such path)."""
    from background_posting.http.app import openapi_document  # the document names the routes

    allowed: list[str] = []
    for template, operations in openapi_document(app).get("paths", {}).items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            allowed += [method.upper() for method in operations]
    return sorted(set(allowed))


def install(app: APIGatewayRestResolver) -> None:
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
        allowed = methods_of(app, event.path)
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
