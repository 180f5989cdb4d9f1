"""Requests that happen once: the `Idempotency-Key` header, kept by Powertools' idempotency
utility in the template's IdempotencyTable.

The same key, from the same user, with the same request (method, path, query and body) within
24 hours answers the first answer again and does nothing more. The key is scoped by the user
(`sub`) and the header; the request is the payload the utility validates, so the same key with
another request is refused. Only answers below 400 are kept: an answer of 400 or more is raised
out of the idempotent function, and the utility then deletes its record (its documented
semantics for a failed call), so the same key may be sent again once the cause is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from background_posting.config import get_settings
from background_posting.function_settings import ApiFunctionSettings
from background_posting.http.error_answers import idempotency_answer, proxy_answer

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
EXPIRES_AFTER_SECONDS = 24 * 60 * 60

Answer = dict[str, Any]


class NotKept(Exception):
    """An answer of 400 or more: raised through the utility so that it is not stored."""

    def __init__(self, answer: Answer):
        super().__init__(answer.get("statusCode"))
        self.answer = answer


def key_of(event: dict[str, Any]) -> str | None:
    """The `Idempotency-Key` header, whatever its case; None when absent."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == HEADER.lower():
            return str(value)
    return None


@lru_cache(maxsize=4)
def _persistence(table: str, region: str, endpoint: str | None) -> DynamoDBPersistenceLayer:
    client = boto3.client("dynamodb", region_name=region, endpoint_url=endpoint)
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client)


def persistence_layer() -> DynamoDBPersistenceLayer:
    settings = get_settings(ApiFunctionSettings)
    return _persistence(settings.idempotency_table, settings.region, settings.dynamodb_endpoint)


def _body(text: str | None) -> Any:
    """The body as JSON when it parses (so spacing and key order do not matter), else as sent."""
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _request(event: dict[str, Any], user: str, key: str) -> dict[str, Any]:
    return {
        "user": user,
        "key": key,
        "request": {
            "method": event.get("httpMethod"),
            "path": event.get("path"),
            "query": event.get("multiValueQueryStringParameters") or {},
            "body": _body(event.get("body")),
        },
    }


def once(event: dict[str, Any], context: LambdaContext, answer: Callable[[], Answer]) -> Answer:
    """`answer()`, at most once per user and Idempotency-Key (a write without the key: as is)."""
    key = key_of(event)
    if key is None or str(event.get("httpMethod", "")).upper() not in WRITE_METHODS:
        return answer()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return proxy_answer(
            HTTPStatus.BAD_REQUEST,
            "invalid_request",
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters long (it has {len(key)}).",
            {"errors": [{"field": HEADER, "message": f"must be 1 to {MAX_KEY_LENGTH} characters"}]},
        )
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    if not claims.get("sub"):
        return answer()  # no identity: the routes answer 401, and nothing is kept

    config = IdempotencyConfig(
        event_key_jmespath="[user, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
        lambda_context=context,  # a request cut off by its timeout frees the key after it
    )

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=persistence_layer(),
        config=config,
    )
    def answer_once(request: dict[str, Any]) -> Answer:
        result = answer()
        if int(result.get("statusCode", 500)) >= 400:
            raise NotKept(result)
        return result

    try:
        return dict(answer_once(request=_request(event, str(claims["sub"]), key)))
    except NotKept as refused:
        return refused.answer
    except Exception as exc:
        mapped = idempotency_answer(exc)
        if mapped is None:
            raise
        return mapped
