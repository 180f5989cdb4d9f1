"""Page tokens of the lists read by Query (documents, open items, My Job Queue, a run's
results): a `next` token is the position to resume from, bound to the query it was given for
and signed, so that another query's token, or one that was not given out, is a 400 naming
`next`, never a 500 and never another list's page.

The binding and the signature are HMAC-SHA256 keyed by a secret the client never sees (the
Secrets Manager secret PAGE_TOKEN_SECRET names: deployed, the template's `PageTokenSecret`;
locally, `.local/page-token.key` put into moto's Secrets Manager by `infra/page_token_key.py`).
A token carries `query` (the HMAC of the query's terms: which list it belongs to) and `mac`
(the HMAC of everything else it carries), compared with `hmac.compare_digest`. What a token
decodes to is checked as well (the position must be one the list could have given out).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any

from background_posting.config import get_settings
from background_posting.domain.errors import InvalidRequest

KEY_MAX_AGE_SECONDS = 900  # the key is read once per quarter hour at most (it does not rotate)
_MAC = "mac"


def _key() -> bytes:
    """The signing key: the value of the secret PAGE_TOKEN_SECRET names (cached)."""
    # imported here: the workers load this module (worker_items) but never page, and every
    # module costs their cold start (the API's settings are the API's alone)
    from aws_lambda_powertools.utilities import parameters

    from background_posting.function_settings import ApiFunctionSettings

    name = get_settings(ApiFunctionSettings).page_token_secret
    value = parameters.get_secret(name, max_age=KEY_MAX_AGE_SECONDS)
    key = value if isinstance(value, bytes) else str(value).encode()
    if not key:
        raise RuntimeError(f"The page token secret {name!r} is empty.")
    return key


def _digest(key: bytes, value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


Terms = tuple[object, ...]
"""A query as a token is bound to it: the list's name and its terms (companies, filters). The
key is read only when a token is made or opened, so that a list read in one page needs none."""


def _query_hash(key: bytes, terms: Terms) -> str:
    return _digest(key, ["query", *terms])[:32]


def bad_token(reason: str) -> InvalidRequest:
    return InvalidRequest(
        f"next: the page token {reason}; start again from the first page.",
        code="invalid_page_token",
        details={"errors": [{"field": "next", "message": reason, "code": "invalid_page_token"}]},
    )


def sealed(terms: Terms, position: Mapping[str, Any]) -> str:
    """The token of `position` in the query of `terms`, bound to it and signed."""
    key = _key()
    value = {**position, "query": _query_hash(key, terms)}
    value[_MAC] = _digest(key, ["position", value])
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def opened(
    token: str, terms: Terms, fields: frozenset[str], another: str = "another query"
) -> dict[str, Any]:
    """The position a token this API gave out for the query of `terms` stands for (exactly
    `fields`), or a 400: a token that does not decode, has other fields, whose signature is not
    the key's, or that was given out for another query."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_token("is not one this API gave out") from exc
    if not isinstance(value, dict) or set(value) != fields | {"query", _MAC}:
        raise bad_token("is not one this API gave out")
    mac = value.pop(_MAC)
    key = _key()
    expected = _digest(key, ["position", value])
    if not isinstance(mac, str) or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise bad_token("is not one this API gave out")
    if value.pop("query") != _query_hash(key, terms):
        raise bad_token(f"belongs to {another}")
    return value


def token_for(terms: Terms, key: dict[str, Any] | None) -> str | None:
    """The token of the page after `key` (None: the last page was read)."""
    if key is None:
        return None
    return sealed(terms, {"key": key})


def start_key(
    token: str,
    terms: Terms,
    key_names: frozenset[str],
    fits: Callable[[dict[str, str]], bool],
    another: str = "another query",
) -> dict[str, Any]:
    """The start key `token` stands for: one this API gave out for the query of `terms`, whose
    string key attributes are exactly `key_names` and `fits` (their values by name), or a 400."""
    key = opened(token, terms, frozenset({"key"}), another)["key"]
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
