"""Calling the API function as API Gateway does: in process (integration) or over HTTP (e2e)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.gateway import claims_for, load_users, proxy_event
from infra.lambda_runtime import LocalContext

USERS = load_users(Path(__file__).resolve().parents[2] / "infra" / "users.json")


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and "error" in self.body:
            return str(self.body["error"]["code"])
        return None


def invoke_api(
    handler: Any,
    method: str,
    path: str,
    user: str | None = "admin",
    body: Any = None,
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send one request to the API function's `lambda_handler` as an API Gateway proxy event."""
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = ({"Content-Type": "application/json"} if data else {}) | (headers or {})
    if claims is None and user is not None:
        claims = claims_for(user, USERS)
    event = proxy_event(method, path, headers, data, claims)
    result = handler(event, LocalContext("ApiFunction", 29))
    text = result.get("body") or ""
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    content_type = headers.get("Content-Type", "application/json")
    if "json" not in content_type:
        return Answer(int(result["statusCode"]), text)
    return Answer(int(result["statusCode"]), json.loads(text) if text else None)


def http(
    base_url: str,
    method: str,
    path: str,
    user: str | None = "admin",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request to the local stack over HTTP."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if user is not None:
        request.add_header("Authorization", f"Bearer {user}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
            return Answer(response.status, json.loads(text) if text else None)
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        return Answer(exc.code, json.loads(text) if text else None)
