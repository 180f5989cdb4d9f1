"""Page tokens are signed with a key the client never sees (moto; docs/api.md "Page tokens"):
a token built as a client could build one, or one whose signature was changed, is a 400
`invalid_page_token` naming `next`, never another list's page and never a 500."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from tests.conftest import PAGE_TOKEN_SECRET
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


@pytest.fixture
def listed(api: Any) -> Any:
    """Three sales invoices of ACME on CUST01 (so every list of them has a second page)."""
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    for _ in range(3):
        assert invoke_api(api, "POST", "/documents", "clerk", document_body()).status == 201
    return api


def _encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def _decoded(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token))
    return value


def _refused(answer: Any) -> bool:
    errors = answer.body["error"]["details"].get("errors", [])
    return (
        answer.status == 400
        and answer.error_code == "invalid_page_token"
        and [e["field"] for e in errors] == ["next"]
    )


# A token as a client can build one without the key: the position and the plain hash of the
# query's terms (what tokens carried before they were signed)
def _plain_hash(*terms: object) -> str:
    return hashlib.sha256(json.dumps(terms, separators=(",", ":")).encode()).hexdigest()[:24]


LISTS = {
    "documents": (
        "/documents?company=ACME&limit=1",
        ("documents", ["ACME"], None, None, None, None),
    ),
    "open items": (
        "/documents?company=ACME&account=CUST01&limit=1",
        ("by-account", ["ACME"], None, None, "CUST01", False),
    ),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_token_a_client_builds_without_the_key_is_refused(listed: Any, name: str) -> None:
    # Given the first page's query, and a token for its start built as a client can: the
    # position (first company, first prefix, no key) and the plain hash of the query's terms
    path, terms = LISTS[name]
    built = _encoded({"company": 0, "prefix": 0, "key": None, "query": _plain_hash(*terms)})
    # When it is sent as `next`
    answer = invoke_api(listed, "GET", f"{path}&next={built}", "clerk")
    # Then it is refused naming the token, as one this API did not give out
    assert _refused(answer), answer.body
    assert "is not one this API gave out" in answer.body["error"]["message"]


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_token_whose_signature_or_position_was_changed_is_refused(listed: Any, name: str) -> None:
    # Given a genuine token of the list, which pages on
    path = LISTS[name][0]
    token = invoke_api(listed, "GET", path, "clerk").body["next"]
    assert invoke_api(listed, "GET", f"{path}&next={token}", "clerk").status == 200
    genuine = _decoded(token)
    flipped = genuine["mac"][:-1] + ("0" if genuine["mac"][-1] != "0" else "1")
    changed = {
        "signature flipped": genuine | {"mac": flipped},
        "signature removed": {k: v for k, v in genuine.items() if k != "mac"},
        "signature empty": genuine | {"mac": ""},
        "signature not text": genuine | {"mac": 1},
        "position moved, signature kept": genuine | {"key": None},
        "query changed, signature kept": genuine | {"query": "0" * 32},
    }
    for case, value in changed.items():
        # When it is sent changed
        answer = invoke_api(listed, "GET", f"{path}&next={_encoded(value)}", "clerk")
        # Then it is refused naming the token, never a 500
        assert _refused(answer), (case, answer.body)


def test_the_key_is_the_secret_s_value_a_new_key_refuses_the_old_tokens(listed: Any) -> None:
    # Given a token given out under the key in Secrets Manager
    path = "/documents?company=ACME&limit=1"
    token = invoke_api(listed, "GET", path, "clerk").body["next"]
    # When the secret's value changes (and the API reads it again)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.put_secret_value(SecretId=PAGE_TOKEN_SECRET, SecretString="another-key")
    parameters.clear_caches()
    # Then the old token is refused as not given out, and a new first page pages on
    assert _refused(invoke_api(listed, "GET", f"{path}&next={token}", "clerk"))
    fresh = invoke_api(listed, "GET", path, "clerk").body["next"]
    assert invoke_api(listed, "GET", f"{path}&next={fresh}", "clerk").status == 200


def test_a_job_queue_token_is_signed_too(listed: Any) -> None:
    # Given two invoices the clerk queued, and a genuine token of their job queue
    documents = invoke_api(listed, "GET", "/documents?company=ACME", "clerk").body["documents"]
    ids = [d["id"] for d in documents[:2]]
    assert invoke_api(listed, "POST", "/documents/post", "clerk", {"ids": ids}).status == 202
    path = "/worker-items?submitted_by=me&limit=1"
    token = invoke_api(listed, "GET", path, "clerk").body["next"]
    assert invoke_api(listed, "GET", f"{path}&next={token}", "clerk").status == 200
    # When its start key is sent with the plain hash of its query and no signature
    genuine = _decoded(token)
    terms = json.dumps(("queue", "clerk", None, None), default=str)  # as queue tokens had it
    plain = hashlib.sha256(terms.encode()).hexdigest()[:24]
    built = {"query": plain, "key": genuine["key"]}
    unsigned = {k: v for k, v in genuine.items() if k != "mac"}
    # Then both are refused naming the token
    for value in (built, unsigned):
        answer = invoke_api(listed, "GET", f"{path}&next={_encoded(value)}", "clerk")
        assert _refused(answer), answer.body
