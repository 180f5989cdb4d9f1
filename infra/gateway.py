"""A local API Gateway: HTTP requests in, REST API proxy events to the API function, answers out."""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
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
CONSOLE_PREFIX = "/console/"
# What of console/ is served: the page, its code and styles, the vendored libraries.
CONSOLE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
CONSOLE_HIDDEN = {"package.json", "package-lock.json"}


def console_file(root: Path, path: str) -> tuple[Path, str] | None:
    """The file of console/ a `/console/...` path names, and its content type (or None)."""
    relative = path.removeprefix(CONSOLE_PREFIX) or "index.html"
    if relative.endswith("/"):
        relative += "index.html"
    candidate = (root / relative).resolve()
    suffix = candidate.suffix.lower()
    if (
        not candidate.is_relative_to(root.resolve())
        or "node_modules" in candidate.parts
        or candidate.name in CONSOLE_HIDDEN
        or suffix not in CONSOLE_TYPES
        or not candidate.is_file()
    ):
        return None
    return candidate, CONSOLE_TYPES.get(suffix) or mimetypes.types_map[suffix]


# API Gateway hands Lambda at most 6 MB of request (its synchronous invocation payload limit);
# a larger body never reaches the function.
MAX_BODY_BYTES = 6 * 1024 * 1024


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
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:  # bytes that are not text: passed base64-encoded, as API
            text, encoded = base64.b64encode(body).decode(), True  # Gateway passes binary
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
        "isBase64Encoded": encoded,
    }


class Gateway(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        api: LocalFunction,
        users_file: Path,
        local_routes: dict[str, Callable[[], Any]],
        console_root: Path | None = None,
    ):
        super().__init__(address, _Handler)
        self.api = api
        self.users_file = users_file
        self.local_routes = local_routes
        self.console_root = console_root


class _Handler(BaseHTTPRequestHandler):
    server: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        started = time.perf_counter()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._answer_error(400, "invalid_request", "Content-Length is not a number.")
            return
        if length > MAX_BODY_BYTES:
            self._discard(length)
            self._answer_error(
                413,
                "request_too_large",
                f"The request body is {length:,} bytes; the API takes at most "
                f"{MAX_BODY_BYTES:,} (6 MB). Send a document's lines in pages of up to "
                "1,000 with POST /documents/{id}/lines.",
            )
            return
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if self.server.console_root is not None and (
            path == CONSOLE_PREFIX.rstrip("/") or path.startswith(CONSOLE_PREFIX)
        ):
            self._serve_console(path)
            return
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

    def _serve_console(self, path: str) -> None:
        """The console's static files, as CloudFront serves them deployed: no identity needed."""
        assert self.server.console_root is not None
        if self.command != "GET":
            self._answer_error(405, "method_not_allowed", "The console's files can only be read.")
            return
        if path == CONSOLE_PREFIX.rstrip("/"):
            self._answer(301, {"Location": CONSOLE_PREFIX}, b"")
            return
        found = console_file(self.server.console_root, path)
        if found is None:
            self._answer_error(404, "not_found", f"The console has no file {path}.")
            return
        file, content_type = found
        headers = {
            "Content-Type": content_type,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        self._answer(200, headers, file.read_bytes())

    def _discard(self, length: int) -> None:
        """Read a refused body away (so the client sees the answer, not a reset), up to 64 MB;
        beyond that the connection is closed after the answer."""
        left = length
        while 0 < left <= 64 * 1024 * 1024:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
        if left:
            self.close_connection = True

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
        except (BrokenPipeError, ConnectionResetError):  # the client left before its answer
            log.info("%s %s: the client closed the connection first", self.command, self.path)
        except Exception:  # the gateway itself failed: answer like API Gateway would
            log.exception("gateway error on %s %s", self.command, self.path)
            self._answer_error(502, "bad_gateway", "The API function failed to answer.")

    # every method reaches the API, which answers 405 (with Allow) for one a path does not take
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _guarded
    do_HEAD = do_OPTIONS = do_TRACE = do_QUERY = _guarded
