"""Routes: documents, posting, transactions and the printable rendition."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import ConfigDict, Field

from background_posting.domain.document_input import DocumentCreate, DocumentPatch
from background_posting.domain.documents import (
    DOCUMENT_TYPES,
    LINES_PER_REQUEST,
    STATUSES,
    Document,
)
from background_posting.domain.model import LazyModel
from background_posting.domain.types import BookDate
from background_posting.http.claims import caller_from
from background_posting.http.printing import render_html, render_pdf
from background_posting.services import (
    background_service,
    document_service,
    matching_service,
    preview,
    visible,
)
from background_posting.services import reversal as reversal_service

router = Router()

DocumentId = Annotated[str, Path(description="Document id", pattern=r"^[0-9a-f]{32}$")]
LINES_PAGE = LINES_PER_REQUEST


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _document_json(document: Document, line_offset: int = 0) -> dict[str, Any]:
    """A document with at most one page of its lines (from `line_offset`), its `line_count`
    and `lines_next` (where the next page starts; null when there are no more)."""
    page = document.model_copy(update={"lines": document.lines[:LINES_PAGE]})
    body = page.model_dump(mode="json")
    shown = line_offset + len(page.lines)
    body["lines_offset"] = line_offset
    body["lines_next"] = shown if shown < document.line_count else None
    return body


@router.post(
    "/documents",
    tags=["Documents"],
    summary="Create a document (In Progress), with up to 1,000 lines",
    description="More lines are added with `POST /documents/{id}/lines`.",
)
def create_document(document: Annotated[DocumentCreate, Body()]) -> Response[Any]:
    created = document_service.create_document(caller_from(router.current_event), document)
    return _json(201, _document_json(created))


@router.get("/documents/<document_id>", tags=["Documents"], summary="Read a document")
def get_document(
    document_id: DocumentId,
    lines_offset: Annotated[int, Query(ge=0, description="First line to return")] = 0,
    lines_limit: Annotated[int, Query(ge=0, le=LINES_PAGE)] = LINES_PAGE,
) -> Response[Any]:
    caller = caller_from(router.current_event)
    document = visible.read_document_page(caller, document_id, lines_offset, lines_limit)
    return _json(200, _document_json(document, lines_offset))


class DocumentPage(LazyModel):
    documents: list[dict[str, Any]]
    next: str | None = Field(description="Pass as `next` for the following page")


@router.get("/documents", tags=["Documents"], summary="List documents (without lines)")
def list_documents(
    type: Annotated[
        Literal[DOCUMENT_TYPES] | None, Query()  # type: ignore[valid-type]
    ] = None,
    status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    company: Annotated[str | None, Query(max_length=40)] = None,
    has_background_errors: Annotated[
        bool | None,
        Query(
            description="true: only documents that background posting returned to In Progress "
            "with errors (`last_background_errors`); false: only those without"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    account: Annotated[str | None, Query(max_length=40, description="Only this account's")] = None,
    outstanding: Annotated[
        bool, Query(description="Only posted invoices and credit notes with an amount open")
    ] = False,
    verification: Annotated[
        Literal["pending", "with_errors", "verified", "posted_not_completed", "posted"] | None,
        Query(
            description="Only payable invoices whose invoice verification has this status "
            "(posted_not_completed: posted, waiting for someone to complete the verification)"
        ),
    ] = None,
) -> DocumentPage:
    caller = caller_from(router.current_event)
    if account is not None or outstanding:  # the open-items list (services/matching_service.py)
        page = matching_service.list_documents(
            caller, company, type, status, account, outstanding, limit, next
        )
    else:
        page = document_service.list_documents(
            caller, company, type, status, limit, next, has_background_errors, verification
        )
    return DocumentPage(
        documents=[d.model_dump(mode="json", exclude={"lines"}) for d in page.documents],
        next=page.next_token,
    )


@router.patch("/documents/<document_id>", tags=["Documents"], summary="Amend (In Progress only)")
def amend_document(
    document_id: DocumentId, patch: Annotated[DocumentPatch, Body()]
) -> Response[Any]:
    amended = document_service.amend_document(caller_from(router.current_event), document_id, patch)
    return _json(200, _document_json(amended))


class LinesToAppend(LazyModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=LINES_PER_REQUEST,
        description="Lines as in `POST /documents` (a journal's lines for a journal), "
        "appended after the document's last line, in order.",
    )
    line_count: int | None = Field(
        default=None,
        ge=0,
        description="The number of lines you saw the document have: when given, the lines are "
        "appended only at that position (409 `line_count_changed` otherwise), so a retried "
        "call never appends twice.",
    )


@router.post(
    "/documents/<document_id>/lines",
    tags=["Documents"],
    summary="Append up to 1,000 lines to an In Progress document",
)
def append_lines(document_id: DocumentId, body: Annotated[LinesToAppend, Body()]) -> Response[Any]:
    caller = caller_from(router.current_event)
    document, lines, offset = document_service.append_lines(
        caller, document_id, body.lines, body.line_count
    )
    return _json(200, _document_json(document.model_copy(update={"lines": lines}), offset))


@router.post("/documents/<document_id>/discard", tags=["Documents"], summary="Discard")
def discard_document(document_id: DocumentId) -> Response[Any]:
    document = background_service.discard(caller_from(router.current_event), document_id)
    return _json(200, _document_json(document))


class PostRequest(LazyModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["auto", "immediate"] = Field(
        default="auto",
        description="auto: the Post button; immediate: the integration API (completes at once)",
    )
    post_on: BookDate | None = Field(
        default=None,
        description="With mode auto: Ready to Post now, posted by the first run on or after "
        "this date in the company's time zone (today or later, at most 90 days ahead; else 400 "
        "naming post_on); the document shows it",
    )


@router.post("/documents/<document_id>/post", tags=["Posting"], summary="Post a document")
def post_document(
    document_id: DocumentId, request: Annotated[PostRequest | None, Body()] = None
) -> Response[Any]:
    caller = caller_from(router.current_event)
    mode = request.mode if request else "auto"
    post_on = request.post_on if request else None
    document, queued = background_service.post_with_button(caller, document_id, mode, post_on)
    return _json(202 if queued else 200, _document_json(document))


class ReverseRequest(LazyModel):
    model_config = ConfigDict(extra="forbid")

    date: BookDate | None = Field(
        default=None,
        description="The reversal's date (its period must be open); today in the company's "
        "time zone when absent",
    )
    reason: str = Field(default="", max_length=400, description="Why, shown in its description")


@router.post(
    "/documents/<document_id>/reverse",
    tags=["Posting"],
    summary="Reverse a Complete journal: a journal negating every line at the original's rates",
    description="201 with the reversal, posted (`reverses` names the original, which shows "
    "`reversed_by`); 202 when it is over the journal line limit and posts in the background. "
    "409 `journal_reversed` when it is reversed already (of requests made at once, one "
    "reverses it), `period_closed`/`period_missing` for the date, `not_a_journal`.",
)
def reverse_journal(
    document_id: DocumentId, request: Annotated[ReverseRequest | None, Body()] = None
) -> Response[Any]:
    caller = caller_from(router.current_event)
    asked = request or ReverseRequest()
    reversal, queued = reversal_service.reverse(caller, document_id, asked.date, asked.reason)
    return _json(202 if queued else 201, _document_json(reversal))


@router.post(
    "/documents/<document_id>/preview",
    tags=["Posting"],
    summary="Posting preview: the transaction posting would make, changing nothing",
    description="Answers what posting the document now would write: `transaction` (its lines "
    "in document, home and dual currency, totals, settlement discount; `number` is null: no "
    "number is taken), `totals` (net, tax per code, gross), `can_post` and every validation "
    "problem in `problems`. Writes nothing: the document keeps its version. In Progress and "
    "Ready to Post documents only (409 otherwise). Lines are paged like the transaction's.",
)
def preview_posting(
    document_id: DocumentId,
    lines_offset: Annotated[int, Query(ge=0)] = 0,
    lines_limit: Annotated[int, Query(ge=0, le=5000)] = 5000,
) -> Response[Any]:
    caller = caller_from(router.current_event)
    return _json(200, preview.preview(caller, document_id, lines_offset, lines_limit))


@router.get(
    "/documents/<document_id>/transaction", tags=["Posting"], summary="The posted transaction"
)
def get_transaction(
    document_id: DocumentId,
    lines_offset: Annotated[int, Query(ge=0)] = 0,
    lines_limit: Annotated[int, Query(ge=0, le=5000)] = 5000,
) -> Response[Any]:
    caller = caller_from(router.current_event)
    return _json(
        200, document_service.read_transaction(caller, document_id, lines_offset, lines_limit)
    )


@router.get(
    "/documents/<document_id>/print",
    tags=["Documents"],
    summary="The printed invoice, credit note or journal: HTML, or PDF with ?format=pdf",
    description="The document as printed: issuer and addressee with names and addresses, "
    "number, document and due date, lines with unit prices at the precision entered, net, tax "
    "per code, total and settlement discount terms. `format=html` (default) answers "
    "`text/html`; `format=pdf` answers `application/pdf` (base64 in the Lambda response, "
    "decoded by API Gateway for a request with `Accept: application/pdf`). A sales invoice of "
    "a company in Switzerland or Liechtenstein, in CHF or EUR, with an IBAN or QR-IBAN, "
    "carries the Swiss QR-bill payment part and receipt at its foot (docs/documents.md). 409 "
    "when Ready to Post or Discarded.",
    responses={
        200: {
            "description": "The printed document",
            "content": {"text/html": {}, "application/pdf": {}},
        }
    },
)
def print_document(
    document_id: DocumentId,
    format: Annotated[Literal["html", "pdf"], Query(description="html (default) or pdf")] = "html",
):
    # No return annotation: Powertools validates (and JSON-encodes) what a route annotates, and
    # would turn the PDF's bytes into text; unannotated, bytes go out base64-encoded.
    printed = document_service.printable(caller_from(router.current_event), document_id)
    if format == "pdf":
        return Response(
            status_code=200,
            content_type="application/pdf",
            body=render_pdf(printed),
            headers={"Content-Disposition": f'inline; filename="{printed.number}.pdf"'},
        )
    return Response(
        status_code=200, content_type="text/html; charset=utf-8", body=render_html(printed)
    )
