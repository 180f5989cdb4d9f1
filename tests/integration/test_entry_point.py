"""What the API answers before any route runs: who is calling, and which methods a path takes
(both found by the generated-request fuzz, tests/e2e/test_fuzz.py)."""

from __future__ import annotations

from typing import Any

from background_posting.config import Settings
from tests.support.api import invoke_api


def test_a_request_without_identity_is_a_401_whatever_its_body(api: Any, aws: Settings) -> None:
    # Given a request with no identity and a body that is not valid
    answer = invoke_api(api, "POST", "/documents", user=None, body={"type": 42})
    # Then it is refused for the identity first, as API Gateway's authorizer would
    assert answer.status == 401
    assert answer.error_code == "unauthenticated"


def test_the_public_routes_need_no_identity(api: Any, aws: Settings) -> None:
    assert invoke_api(api, "GET", "/health", user=None).status == 200


def test_a_method_a_path_does_not_take_is_a_405_naming_the_methods_it_does(
    api: Any, aws: Settings
) -> None:
    answer = invoke_api(api, "TRACE", "/companies/ACME", "admin")
    assert answer.status == 405
    assert answer.error_code == "method_not_allowed"
    assert answer.body["error"]["details"]["allowed"] == ["GET", "PATCH"]


def test_an_unknown_path_is_still_a_404(api: Any, aws: Settings) -> None:
    answer = invoke_api(api, "DELETE", "/nowhere/at/all", "admin")
    assert answer.status == 404
    assert answer.error_code == "route_not_found"


def test_a_method_a_path_does_not_take_is_a_405_even_with_an_idempotency_key(
    api: Any, aws: Settings
) -> None:
    key = {"Idempotency-Key": "k-405"}
    first = invoke_api(api, "PUT", "/scheduler/run", "admin", {"a": 1}, headers=key)
    again = invoke_api(api, "PUT", "/scheduler/run", "admin", {"b": 2}, headers=key)
    assert first.status == again.status == 405
