"""Routes: a document's history and the audit of reference data and settings."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from background_posting.http.claims import caller_from
from background_posting.http.document_routes import DocumentId
from background_posting.services import history_service
from background_posting.store.history import AuditEntry, Entry

router = Router()

INSTANT = (
    "A date (YYYY-MM-DD, UTC: `to` takes in all of that day) or an ISO 8601 time with its offset"
)


@router.get(
    "/documents/<document_id>/history",
    tags=["Documents"],
    summary="A document's history: every change, oldest first",
    description="Written in the same transaction as each change (create, amend with the "
    "fields before and after, lines added, queue, cancel, set back, worker items removed, "
    "post, match, unmatch, discard, reverse, returned, tax and verification steps); kept as "
    "long as the ledger. A page at a time (`next`).",
)
def document_history(
    document_id: DocumentId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    caller = caller_from(router.current_event)
    number, page = history_service.document_history(caller, document_id, limit, next)
    entries: list[Entry] = page.entries
    return {
        "document_id": document_id,
        "number": number,
        "history": [entry.as_json() for entry in entries],
        "next": page.next_token,
    }


@router.get(
    "/audit",
    tags=["Settings"],
    summary="The audit: every change of reference data and settings (administrators)",
    description="Who changed what and when, with the fields before and after: companies, "
    "their periods, rates and tax codes, accounts, company settings, background posting "
    "settings and the schedule; oldest first, a page at a time (`next`), of `company` or of "
    "every company the administrator may use (changes of the whole organisation with them).",
)
def audit(
    company: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    from_: Annotated[
        str | None, Query(alias="from", min_length=10, max_length=40, description=INSTANT)
    ] = None,
    to: Annotated[str | None, Query(min_length=10, max_length=40, description=INSTANT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    caller = caller_from(router.current_event)
    page = history_service.audit(caller, company, from_, to, limit, next)
    entries: list[AuditEntry] = page.entries
    return {"audit": [entry.as_json() for entry in entries], "next": page.next_token}
