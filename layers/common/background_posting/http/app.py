"""The REST API: one resolver, its routers, its error mapping and its OpenAPI document."""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.models import Server
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.config import get_settings
from background_posting.function_settings import ApiFunctionSettings
from background_posting.http import (
    background_routes,
    document_routes,
    error_answers,
    history_routes,
    idempotency,
    openapi,
    payables_routes,
    purchasing_routes,
    reference_routes,
    scheduler_routes,
    settings_routes,
)
from background_posting.http.route_index import RouteIndex

TITLE = "Background Posting API"
VERSION = "1.0.0"


def _refusal(
    status: HTTPStatus, code: str, message: str, details: dict[str, Any]
) -> dict[str, Any]:
    """An answer in the error shape, for what is refused before routing."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def unsupported_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A body must be JSON: a form-encoded one would otherwise be read field by field. A write
    that says its (empty) body is something else is refused alike, never routed to a 500."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = str(headers.get("content-type") or "").strip()
    if not content_type or "json" in content_type.lower():
        return None
    if not event.get("body") and str(event.get("httpMethod", "")).upper() not in BODY_METHODS:
        return None
    return _refusal(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        f"Send the body as JSON (Content-Type: application/json), not {content_type}.",
        {},
    )


def undecodable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A JSON body is UTF-8 text (RFC 8259); API Gateway passes other bytes base64-encoded."""
    body = event.get("body")
    if not body or not event.get("isBase64Encoded"):
        return None
    try:
        base64.b64decode(str(body).encode(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return _refusal(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            "body is not UTF-8 text: send JSON encoded as UTF-8.",
            {"errors": [{"field": "body", "message": "is not UTF-8 text"}]},
        )
    return None


def parse_json_body(text: str) -> Any:
    """`json.loads`, with a body nested too deeply to parse refused as invalid JSON (a 400),
    not a RecursionError (a 500)."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", text, 0) from exc


def handle(
    app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    """The API's entry point: who is calling, refuse what is not JSON text, then check the query
    and route (once per Idempotency-Key)."""
    method = str(event.get("httpMethod", "")).upper()
    path = str(event.get("path", ""))
    allowed = route_index(app).methods(path)
    return (
        unauthenticated(event)
        or unsupported_body(event)
        or undecodable_body(event)
        or not_allowed(method, path, allowed)
        or (
            # The query is checked under the key: a key used for another request (its query
            # included) is a 422 `idempotency_key_reused` before its new query is looked at.
            idempotency.once(
                event,
                context,
                lambda: unknown_query(app, event) or app.resolve(event, context),
            )
            if method in allowed
            else app.resolve(event, context)  # no such route: 404, nothing kept
        )
    )


def not_allowed(method: str, path: str, allowed: list[str]) -> dict[str, Any] | None:
    """405 for a method the path does not take (before a wider route could match it:
    PATCH /documents/post is not PATCH /documents/{document_id})."""
    if not allowed or method in allowed or method == "OPTIONS":
        return None
    answer = error_answers.proxy_answer(
        HTTPStatus.METHOD_NOT_ALLOWED,
        "method_not_allowed",
        f"{path} answers {', '.join(allowed)}, not {method}.",
        {"allowed": allowed},
    )
    answer["headers"]["Allow"] = ", ".join(allowed)
    return answer


def unknown_query(app: APIGatewayRestResolver, event: dict[str, Any]) -> dict[str, Any] | None:
    """A query parameter the operation does not declare is a 400 naming it (a misspelt filter
    would otherwise be ignored, and the answer look right)."""
    method, path = str(event.get("httpMethod", "")).upper(), str(event.get("path", ""))
    declared = route_index(app).query_names(method, path)
    if declared is None:
        return None  # no such operation: routed as usual (404, 405, a CORS preflight)
    given = set(event.get("multiValueQueryStringParameters") or {})
    given |= set(event.get("queryStringParameters") or {})
    unknown = sorted(given - declared)
    if not unknown:
        return None
    takes = ", ".join(sorted(declared)) if declared else "none"
    return error_answers.proxy_answer(
        HTTPStatus.BAD_REQUEST,
        "invalid_request",
        f"{method} {path} takes no query parameter {', '.join(unknown)} (it takes {takes}).",
        {
            "errors": [
                {
                    "field": name,
                    "label": name,
                    "message": "is not a query parameter of this request",
                    "code": "extra_forbidden",
                }
                for name in unknown
            ]
        },
    )


def route_index(app: APIGatewayRestResolver) -> RouteIndex:
    return _route_index_cached(id(app), app)


@lru_cache(maxsize=4)
def _route_index_cached(_key: int, app: APIGatewayRestResolver) -> RouteIndex:
    return RouteIndex.of(openapi_document(app))


PUBLIC_PATHS = frozenset(path for _, path in openapi.PUBLIC)


def unauthenticated(event: dict[str, Any]) -> dict[str, Any] | None:
    """A request without an identity is a 401 before anything else, as API Gateway's Cognito
    authorizer answers it (whatever its body or path), except on the public routes."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if claims.get("sub") or event.get("path") in PUBLIC_PATHS:
        return None
    if str(event.get("httpMethod", "")).upper() == "OPTIONS":
        return None  # a browser's CORS preflight carries no identity; CORSConfig answers it
    return error_answers.proxy_answer(
        HTTPStatus.UNAUTHORIZED,
        "unauthenticated",
        "Sign in first: this request carries no identity.",
    )


def console_cors() -> CORSConfig:
    """The console (deployed on its own origin) may call the API; no other web page may."""
    return CORSConfig(
        allow_origin=get_settings(ApiFunctionSettings).console_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        max_age=600,
    )


def build() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(
        enable_validation=True, cors=console_cors(), json_body_deserializer=parse_json_body
    )
    error_answers.install(app, lambda path: route_index(app).methods(path))
    app.include_router(reference_routes.router)
    app.include_router(settings_routes.router)
    app.include_router(payables_routes.router)  # before /documents/<id>: save-and-post
    app.include_router(document_routes.router)
    app.include_router(background_routes.router)
    app.include_router(scheduler_routes.router)
    app.include_router(purchasing_routes.router)
    app.include_router(history_routes.router)

    @app.get("/health", tags=["Operations"], summary="Answers 200 once the API can serve")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/openapi.json", tags=["Operations"], summary="This API as OpenAPI 3")
    def openapi() -> dict[str, Any]:
        return openapi_document(app)

    return app


def openapi_document(app: APIGatewayRestResolver) -> dict[str, Any]:
    return _openapi_cached(id(app), app)


@lru_cache(maxsize=4)
def _openapi_cached(_key: int, app: APIGatewayRestResolver) -> dict[str, Any]:
    schema = app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        summary="Posts accounting documents to the general ledger, at once or in the background.",
        servers=[Server(url="/")],
    )
    document: dict[str, Any] = json.loads(schema)
    document.setdefault("components", {})["securitySchemes"] = {
        "cognito": {
            "type": "http",
            "scheme": "bearer",
            "description": "A Cognito ID token (deployed) or a local user id (local stack).",
        }
    }
    document["security"] = [{"cognito": []}]
    return openapi.describe_answers(document)
