"""A document's history and the audit of reference data, as a caller may read them."""

from __future__ import annotations

from background_posting.domain.errors import InvalidRequest
from background_posting.domain.identity import Caller
from background_posting.domain.types import time_bound
from background_posting.services import visible
from background_posting.store import history


def document_history(
    caller: Caller, document_id: str, limit: int, token: str | None
) -> tuple[str, history.Page]:
    """A page of the document's history, oldest first, for whoever may read the document:
    (its number, the page)."""
    document = visible.read_document(caller, document_id, with_lines=False)
    return document.number, history.history_of(document.id, limit, token)


def audit(
    caller: Caller,
    company: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    token: str | None,
) -> history.Page:
    """A page of the changes of reference data and settings (System Administrators), oldest
    first: of `company`, or of every company the caller may use; changes of the whole
    organisation (schedule, background posting settings) with them."""
    caller.require_admin("read the audit of reference data and settings")
    start, end = time_bound(since, "from", end=False), time_bound(until, "to", end=True)
    if start is not None and end is not None and end < start:
        raise InvalidRequest(
            "to: the end of the range is before its start (from).",
            details={"errors": [{"field": "to", "message": "before from"}]},
        )
    companies = caller.companies_for(company)
    return history.audit(companies, start, end, limit, token)
