"""What the generated OpenAPI document cannot know from the routes' signatures: the answers.

Powertools describes each route's body and parameters from its types, but gives every route
one `200` of any shape and a `422` in its own validation-error shape, which this API never
sends (http/error_answers.py turns request validation into a `400 invalid_request`). This module
replaces those by what the API really answers: the success status of each route, and the
error answers in the one error shape, and it puts the `Idempotency-Key` header on every write.
A route not named in SUCCESS answers 200; the fuzz (`make fuzz`) fails on any status or body
this document does not describe, so a route that answers otherwise shows up there.
"""

from __future__ import annotations

from typing import Any

from background_posting.http.idempotency import HEADER, MAX_KEY_LENGTH

# (method, path) -> the success statuses of a route that does not simply answer 200
SUCCESS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/companies"): (201,),
    ("post", "/accounts"): (201,),
    ("post", "/documents"): (201,),
    ("post", "/documents/{document_id}/post"): (200, 202),
    ("post", "/documents/post"): (202,),
    ("post", "/documents/background-post"): (202,),
    ("post", "/scheduler/run"): (202,),
    ("post", "/documents/{document_id}/retry-now"): (202,),
    ("delete", "/worker-log-groups/{group_id}"): (204,),
    ("post", "/documents/{document_id}/credit-note"): (201,),
    ("post", "/documents/{document_id}/reverse"): (201, 202),
    ("post", "/documents/save-and-post"): (200, 202),
    ("post", "/recurring-invoices"): (201,),
    ("post", "/purchase-orders"): (201,),
    ("post", "/goods-receipts"): (201,),
}
HTML = {("get", "/documents/{document_id}/print")}
PUBLIC = {("get", "/health"), ("get", "/openapi.json")}
WRITES = {"post", "put", "patch"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "For programs: `invalid_request`, ..."},
                "message": {"type": "string", "description": "A sentence for people."},
                "details": {
                    "type": "object",
                    "description": "`errors`: one entry per problem (`field`, `message`).",
                },
            },
        }
    },
}

ERRORS: dict[int, str] = {
    400: "The request is not valid: `invalid_request` (a page token: `invalid_page_token`), "
    "each bad field in `details.errors`.",
    401: "No identity: sign in first.",
    403: "`permission_denied` or `company_not_allowed`.",
    404: "What the path names does not exist (`*_not_found`).",
    409: "The current state refuses it (`document_locked`, `request_in_progress`, ...).",
    413: "The body is larger than the gateway accepts.",
    415: "The body is not JSON (`unsupported_media_type`).",
    422: "A business rule refuses it (`posting_validation_failed`, `idempotency_key_reused`).",
    500: "Something went wrong on our side (`internal_error`, with a request id).",
    503: "A service the request needs is unavailable (AvaTax, the idempotency store).",
}

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same key again (same user, same request, within 24 hours) to get "
    "the first answer again without doing anything twice; another request under the key is "
    "a 422 `idempotency_key_reused`, one still in flight a 409 `request_in_progress`.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


# Links (OpenAPI 3 `links`): what a client, and the fuzz's stateful run, may do next with an
# answer. (source operation, its status) -> [(target operation, parameter, expression)]
_DOCUMENT = "$response.body#/id"
LINKS: dict[tuple[str, str, int], list[tuple[str, str, str, str]]] = {
    ("post", "/documents", 201): [
        ("get", "/documents/{document_id}", "document_id", _DOCUMENT),
        ("patch", "/documents/{document_id}", "document_id", _DOCUMENT),
        ("post", "/documents/{document_id}/post", "document_id", _DOCUMENT),
        ("post", "/documents/{document_id}/discard", "document_id", _DOCUMENT),
        ("get", "/documents/{document_id}/print", "document_id", _DOCUMENT),
    ],
    ("post", "/documents/{document_id}/post", 200): [
        ("get", "/documents/{document_id}/transaction", "document_id", "$request.path.document_id"),
    ],
    ("post", "/companies", 201): [
        ("get", "/companies/{company_id}", "company_id", "$response.body#/id"),
        ("patch", "/companies/{company_id}", "company_id", "$response.body#/id"),
        ("get", "/companies/{company_id}/settings", "company_id", "$response.body#/id"),
    ],
    ("post", "/accounts", 201): [
        ("get", "/accounts/{account_id}", "account_id", "$response.body#/id"),
        ("patch", "/accounts/{account_id}", "account_id", "$response.body#/id"),
    ],
    ("post", "/scheduler/run", 202): [
        ("get", "/runs/{run_id}", "run_id", "$response.body#/run_id"),
    ],
    ("post", "/documents/{document_id}/retry-now", 202): [
        ("get", "/runs/{run_id}", "run_id", "$response.body#/run_id"),
    ],
}


def _add_links(document: dict[str, Any]) -> None:
    paths = document.get("paths", {})
    for (method, path, status), targets in LINKS.items():
        answer = paths.get(path, {}).get(method, {}).get("responses", {}).get(str(status))
        if answer is None:
            continue
        links = answer.setdefault("links", {})
        for target_method, target_path, parameter, expression in targets:
            target = paths.get(target_path, {}).get(target_method)
            if target is None or "operationId" not in target:
                continue
            links[target["operationId"]] = {
                "operationId": target["operationId"],
                "parameters": {parameter: expression},
            }


def _success(method: str, path: str, old: dict[str, Any]) -> dict[str, Any]:
    answer = old.get("200") or {"description": "Successful Response"}
    if (method, path) in HTML:
        answer = {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
    statuses = SUCCESS.get((method, path), (200,))
    return {
        str(status): ({"description": "No content"} if status == 204 else answer)
        for status in statuses
    }


def _errors(method: str, path: str) -> dict[str, Any]:
    if (method, path) in PUBLIC:
        return {"500": ERRORS[500]}
    codes = [400, 401, 403, 404, 409, 500, 503]  # 409: a read the state refuses (print)
    if method != "get":
        codes += [422]
    if method in WRITES:
        codes += [413, 415]
    return {str(code): ERRORS[code] for code in sorted(codes)}


def describe_answers(document: dict[str, Any]) -> dict[str, Any]:
    """The document with each operation's real answers and the Idempotency-Key header."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = _success(method, path, operation.get("responses", {}))
            for code, description in _errors(method, path).items():
                responses[code] = {"description": description, "content": error}
            operation["responses"] = responses
            if method in WRITES:
                parameters = operation.setdefault("parameters", [])
                if all(p.get("name") != HEADER for p in parameters):
                    parameters.append(IDEMPOTENCY_KEY)
            if (method, path) in PUBLIC:
                operation["security"] = []
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    _add_links(document)
    return document
