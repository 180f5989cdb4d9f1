"""A document as a caller may see it: one of the companies they may use, or a 404 as if it did
not exist (another company's documents are not revealed). Every service reads a document a
caller names through here; the workers' services do too, so it imports only the store."""

from __future__ import annotations

from background_posting.domain.documents import Document
from background_posting.domain.errors import NotFound
from background_posting.domain.identity import Caller
from background_posting.store import document_store


def read_document(caller: Caller, document_id: str, *, with_lines: bool = True) -> Document:
    return stored(caller, document_id, with_lines=with_lines).document


def read_document_page(caller: Caller, document_id: str, offset: int, limit: int) -> Document:
    """The document with lines [offset, offset + limit): large documents are read in pages."""
    return stored(caller, document_id, line_offset=offset, line_limit=limit).document


def stored(
    caller: Caller,
    document_id: str,
    *,
    with_lines: bool = True,
    line_offset: int = 0,
    line_limit: int | None = None,
) -> document_store.Stored:
    stored = document_store.get_document(
        document_id, with_lines=with_lines, line_offset=line_offset, line_limit=line_limit
    )
    if not caller.may_use(stored.document.company):
        raise NotFound(
            f"Document {document_id!r} does not exist.",
            code="document_not_found",
            details={"id": document_id},
        )
    return stored
