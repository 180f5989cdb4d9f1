"""Routes: credit notes from invoices, Post & Match, Match, Save & Post, recurring invoices."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import ConfigDict, Field

from background_posting.domain.document_input import DocumentInput
from background_posting.domain.documents import Document, DocumentLine
from background_posting.domain.model import LazyModel
from background_posting.domain.recurring import RecurringInvoice, RecurringInvoiceInput
from background_posting.domain.types import BookDate, EnteredAmount
from background_posting.http.claims import caller_from
from background_posting.services import matching_service, recurring_service

router = Router()

DocumentId = Annotated[str, Path(description="Document id", pattern=r"^[0-9a-f]{32}$")]
MatchId = Annotated[str, Path(description="Match id", pattern=r"^[0-9a-f]{32}$")]
TemplateId = Annotated[str, Path(description="Recurring invoice id", pattern=r"^[0-9a-f]{32}$")]
LINES_PAGE = 1000


def _json(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _document(document: Document) -> dict[str, Any]:
    """A document as every answer shows it: at most one page of lines."""
    shown = document.lines[:LINES_PAGE]
    body = document.model_copy(update={"lines": shown}).model_dump(mode="json")
    body["lines_offset"] = 0
    body["lines_next"] = len(shown) if len(shown) < document.line_count else None
    return body


def _header(document: Document) -> dict[str, Any]:
    return document.model_dump(mode="json", exclude={"lines"})


class CreditNoteRequest(LazyModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[DocumentLine] | None = Field(
        default=None, max_length=LINES_PAGE, description="Default: the invoice's lines"
    )
    document_date: BookDate | None = Field(
        default=None, description="Default: today in the company's time zone"
    )
    reference: str | None = Field(
        default=None, max_length=100, description="Default: the invoice's number"
    )
    description: str | None = Field(default=None, max_length=500)


@router.post(
    "/documents/<document_id>/credit-note",
    tags=["Matching"],
    summary="Create a credit note (In Progress) from a Complete invoice: SIN -> SCR, PIN -> PCR",
)
def create_credit_note(
    document_id: DocumentId, request: Annotated[CreditNoteRequest | None, Body()] = None
) -> Response[Any]:
    request = request or CreditNoteRequest()
    note = matching_service.credit_note_from(
        caller_from(router.current_event),
        document_id,
        request.lines,
        request.model_dump(include={"document_date", "reference", "description"}),
    )
    return _json(201, _document(note))


@router.post(
    "/documents/<document_id>/post-and-match",
    tags=["Matching"],
    summary="Post & Match: post a credit note made from an invoice and match it to that "
    "invoice, both or neither",
)
def post_and_match(document_id: DocumentId) -> Response[Any]:
    note, invoice = matching_service.post_and_match(caller_from(router.current_event), document_id)
    return _json(200, _header(note) | {"matched_with": _header(invoice)})


class MatchRequest(LazyModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    with_: str = Field(alias="with", pattern=r"^[0-9a-f]{32}$", description="The other document")
    amount: EnteredAmount | None = Field(
        default=None, description="Document currency; default: all that both have outstanding"
    )


@router.post(
    "/documents/<document_id>/match",
    tags=["Matching"],
    summary="Match two Complete documents of one account (an invoice and a credit note)",
)
def match_documents(
    document_id: DocumentId, request: Annotated[MatchRequest, Body()]
) -> Response[Any]:
    document, other = matching_service.match(
        caller_from(router.current_event), document_id, request.with_, request.amount
    )
    return _json(200, _header(document) | {"matched_with": _header(other)})


@router.delete("/matches/<match_id>", tags=["Matching"], summary="Undo a match")
def delete_match(match_id: MatchId) -> Response[Any]:
    invoice, note = matching_service.unmatch(caller_from(router.current_event), match_id)
    return _json(200, {"invoice": _header(invoice), "credit_note": _header(note)})


@router.post(
    "/documents/save-and-post",
    tags=["Posting"],
    summary="Save & Post: create a document and post it as the Post button would",
)
def save_and_post(document: Annotated[DocumentInput, Body()]) -> Response[Any]:
    posted, queued = recurring_service.save_and_post(caller_from(router.current_event), document)
    return _json(202 if queued else 200, _header(posted))


def _template(template: RecurringInvoice) -> dict[str, Any]:
    return template.model_dump(mode="json")


@router.post(
    "/recurring-invoices",
    tags=["Recurring invoices"],
    summary="Create a recurring sales invoice; each run creates the invoices that fall due",
)
def create_recurring(request: Annotated[RecurringInvoiceInput, Body()]) -> Response[Any]:
    template = recurring_service.create(caller_from(router.current_event), request)
    return _json(201, _template(template))


@router.get("/recurring-invoices/<template_id>", tags=["Recurring invoices"], summary="Read one")
def get_recurring(template_id: TemplateId) -> Response[Any]:
    return _json(
        200, _template(recurring_service.read(caller_from(router.current_event), template_id))
    )


@router.delete(
    "/recurring-invoices/<template_id>",
    tags=["Recurring invoices"],
    summary="Stop a recurring invoice (the invoices it created stay)",
)
def delete_recurring(template_id: TemplateId) -> Response[Any]:
    return _json(
        200, _template(recurring_service.delete(caller_from(router.current_event), template_id))
    )
