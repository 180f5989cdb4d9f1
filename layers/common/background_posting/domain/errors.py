"""Domain exceptions. The API maps each class to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class: a code for machines, a sentence for people, details for both."""

    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state refuses it (status rules, races)."""

    code = "conflict"


class ValidationFailed(DomainError):
    """Input that parses but breaks a business rule; `details["errors"]` lists every problem."""

    code = "validation_failed"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidRequest(DomainError):
    """Input that is wrong on its face (an unknown company named, a page token of another
    query): a 400 like a malformed field; `details["errors"]` names each field."""

    code = "invalid_request"
