"""A local API Gateway: HTTP requests in, REST API proxy events to the API function, answers out."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.lambda_runtime import LocalFunction

log = logging.getLogger("gateway")

UNAUTHENTICATED_PATHS = {"/health", "/openapi.json"}


def load_users(path: Path) -> dict[str, dict[str, Any]]:
    with path.open() as handle:
        users: dict[str, dict[str, Any]] = json.load(handle)
    return users


def claims_for(user_id: str, users: dict[str, dict[str, Any]]) -> dict[str, str] | None:
    """The Cognito claims API Gateway would pass for this local user (or None if unknown)."""
    user = users.get(user_id)
    if user is None:
        return None
    return {
        "sub": user_id,
        "email": user.get("email", f"{user_id}@example.com"),
        "cognito:groups": ",".join(user.get("groups", [])),
        "custom:companies": user.get("companies", "*"),
    }


def proxy_event(
    method: str, raw_path: str, headers: dict[str, str], body: bytes, claims: dict[str, str] | None
) -> dict[str, Any]:
    url = urlsplit(raw_path)
    multi_query = parse_qs(url.query, keep_blank_values=True)
    text = body.decode("utf-8") if body else None
    return {
        "resource": "/{proxy+}",
        "path": url.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": url.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": url.path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": text,
        "isBase64Encoded": False,
    }


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: LocalFunction,
        users_file: Path,
        local_routes: dict[str, Callable[[], Any]],
    ):
        super().__init__(address, _Handler)
        self.api = api
        self.users_file = users_file
        self.local_routes = local_routes


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        local = self.server.local_routes.get(path)
        if local is not None and self.command == "GET":
            self._answer(200, {"Content-Type": "application/json"}, json.dumps(local()).encode())
            return
        claims = None
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Bearer "):
            claims = claims_for(
                authorization.removeprefix("Bearer ").strip(), load_users(self.server.users_file)
            )
        if claims is None and path not in UNAUTHENTICATED_PATHS and authorization:
            self._answer_error(401, "unauthenticated", "The bearer token names no known user.")
            return
        event = proxy_event(self.command, self.path, dict(self.headers.items()), body, claims)
        result = self.server.api.invoke(event)
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        self._answer(int(result.get("statusCode", 502)), headers, data)
        log.info(
            "%s %s -> %s (%.0f ms)",
            self.command,
            self.path,
            result.get("statusCode"),
            (time.perf_counter() - started) * 1000,
        )

    def _answer_error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
        self._answer(status, {"Content-Type": "application/json"}, body)

    def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the headers of the body, not the body
            self.wfile.write(data)

    def _guarded(self) -> None:
        try:
            self._serve()
        except Exception:  # the gateway itself failed: answer like API Gateway would
            log.exception("gateway error on %s %s", self.command, self.path)
            self._answer_error(502, "bad_gateway", "The API function failed to answer.")

    # every method reaches the API, which answers 405 (with Allow) for one a path does not take
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _guarded
    do_HEAD = do_OPTIONS = do_TRACE = do_QUERY = _guarded
