"""Page tokens of the lists read by Query: a `next` token is the DynamoDB key to resume
after, bound to the query it was given for (a hash of the query's terms), so that another
query's token, or one that was not given out, is a 400 naming `next`, never a 500."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

from background_posting.domain.errors import InvalidRequest


def query_hash(*terms: object) -> str:
    return hashlib.sha256(json.dumps(terms, default=str).encode()).hexdigest()[:24]


def bad_token(reason: str) -> InvalidRequest:
    return InvalidRequest(
        f"next: the page token {reason}; start again from the first page.",
        code="invalid_page_token",
        details={"errors": [{"field": "next", "message": reason, "code": "invalid_page_token"}]},
    )


def token_for(query: str, key: dict[str, Any] | None) -> str | None:
    """The token of the page after `key` (None: the last page was read)."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"query": query, "key": key}).encode()).decode()


def start_key(
    token: str,
    query: str,
    key_names: frozenset[str],
    fits: Callable[[dict[str, str]], bool],
    another: str = "another query",
) -> dict[str, Any]:
    """The start key `token` stands for: one this API gave out for `query`, whose string key
    attributes are exactly `key_names` and `fits` (their values by name), or a 400."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_token("is not one this API gave out") from exc
    if not isinstance(value, dict) or set(value) != {"query", "key"}:
        raise bad_token("is not one this API gave out")
    if value["query"] != query:
        raise bad_token(f"belongs to {another}")
    key = value["key"]
    if not (
        isinstance(key, dict)
        and set(key) == key_names
        and all(
            isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"]
            for v in key.values()
        )
        and fits({name: v["S"] for name, v in key.items()})
    ):
        raise bad_token("is not one this API gave out")
    return key
