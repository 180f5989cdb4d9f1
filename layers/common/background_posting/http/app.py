"""The REST API: one resolver, its routers, its error mapping and its OpenAPI document."""

from __future__ import annotations

import json
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import Server
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.http import (
    background_routes,
    document_routes,
    errors,
    idempotency,
    openapi,
    reference_routes,
    scheduler_routes,
    settings_routes,
)

TITLE = "Background Posting API"
VERSION = "1.0.0"


def unsupported_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A body must be JSON: a form-encoded one would otherwise be read field by field."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "")
    if not event.get("body") or not content_type or "json" in content_type.lower():
        return None
    body = {
        "error": {
            "code": "unsupported_media_type",
            "message": f"Send the body as JSON (Content-Type: application/json), "
            f"not {content_type}.",
            "details": {},
        }
    }
    return {
        "statusCode": int(HTTPStatus.UNSUPPORTED_MEDIA_TYPE),
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def handle(
    app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext
) -> dict[str, Any]:
    """The API's entry point: who is calling, refuse what is not JSON, then route (once per
    Idempotency-Key)."""
    return (
        unauthenticated(event)
        or unsupported_body(event)
        or (
            idempotency.once(event, context, lambda: app.resolve(event, context))
            if str(event.get("httpMethod", "")).upper()
            in errors.methods_of(app, str(event.get("path", "")))
            else app.resolve(event, context)  # no such route: 404 or 405, nothing kept
        )
    )


PUBLIC_PATHS = frozenset(path for _, path in openapi.PUBLIC)


def unauthenticated(event: dict[str, Any]) -> dict[str, Any] | None:
    """A request without an identity is a 401 before anything else, as API Gateway's Cognito
    authorizer answers it (whatever its body or path), except on the public routes."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if claims.get("sub") or event.get("path") in PUBLIC_PATHS:
        return None
    return errors.proxy_answer(
        HTTPStatus.UNAUTHORIZED,
        "unauthenticated",
        "Sign in first: this request carries no identity.",
    )


def build() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    errors.install(app)
    app.include_router(reference_routes.router)
    app.include_router(settings_routes.router)
    app.include_router(document_routes.router)
    app.include_router(background_routes.router)
    app.include_router(scheduler_routes.router)

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
