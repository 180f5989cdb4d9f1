"""What the console needs of the API: who the caller is (GET /me) and CORS for its origin."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from infra.gateway import claims_for, proxy_event
from infra.lambda_runtime import LocalContext
from tests.support.api import USERS, invoke_api
from tests.support.scenario import given_company


@pytest.mark.parametrize(
    ("user", "may"),
    [
        ("admin", {"schedule_job", "view_scheduler", "run_now", "background_post", "read_audit"}),
        ("runner", {"view_scheduler", "run_now"}),
        ("lister", {"background_post"}),
        ("clerk", set()),
    ],
)
def test_me_says_who_the_caller_is_and_what_they_may_do(api: Any, user: str, may: set[str]) -> None:
    # Given a local user; When they ask who they are
    answer = invoke_api(api, "GET", "/me", user)
    # Then the answer names them and exactly the permissions their groups give
    assert answer.status == 200
    assert answer.body["user_id"] == user
    assert answer.body["email"] == f"{user}@example.com"
    granted = {name for name, allowed in answer.body["may"].items() if allowed}
    assert granted - {"set_back_to_in_progress"} == may
    assert answer.body["may"]["set_back_to_in_progress"] is (user == "admin")
    assert answer.body["allowed_companies"] == ["*"]
    assert answer.body["logged_in_companies"] is None


def test_me_shows_the_companies_the_caller_logged_into(api: Any) -> None:
    given_company("ACME")
    assert invoke_api(api, "PUT", "/me/companies", "clerk", {"companies": ["ACME"]}).status == 200
    assert invoke_api(api, "GET", "/me", "clerk").body["logged_in_companies"] == ["ACME"]


def test_me_without_identity_is_401(api: Any) -> None:
    assert invoke_api(api, "GET", "/me", None).status == 401


def _call(api: Any, method: str, path: str, origin: str, user: str | None) -> dict[str, Any]:
    headers = {"Origin": origin}
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "PUT"
    claims = claims_for(user, USERS) if user else None
    result: dict[str, Any] = api(
        proxy_event(method, path, headers, b"", claims), LocalContext("ApiFunction", 29)
    )
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    return {"status": result["statusCode"], "headers": headers}


def test_the_consoles_origin_may_call_the_api_and_no_other(api: Any, aws: Settings) -> None:
    console = aws.console_origin
    # When the console's origin asks before a PUT, and then reads
    preflight = _call(api, "OPTIONS", "/scheduler", console, None)
    read = _call(api, "GET", "/me", console, "admin")
    # Then both answers allow that origin, with the headers the console sends
    assert preflight["headers"]["Access-Control-Allow-Origin"] == console
    assert "Authorization" in preflight["headers"]["Access-Control-Allow-Headers"]
    assert "Idempotency-Key" in preflight["headers"]["Access-Control-Allow-Headers"]
    assert read["status"] == 200
    assert read["headers"]["Access-Control-Allow-Origin"] == console
    # And another web page's origin is not allowed
    other = _call(api, "GET", "/me", "https://evil.example.com", "admin")
    assert "Access-Control-Allow-Origin" not in other["headers"]
