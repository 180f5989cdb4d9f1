"""The documents table: one header item per document, its lines in chunk items.

Keys: `pk = DOC#<id>`; the header has `sk = HEADER`; lines are stored 500 to an item under
`sk = LINES#<revision>#<chunk>`. An amendment writes the new revision's chunks first and then
moves the header to that revision in one conditional write, so a reader (who always starts
from the header) sees the old lines or the new ones, never a mix. Chunks of an abandoned
revision are invisible and are deleted after the header has moved.

The `by-company` index lists headers by company, then `type#status#number`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from background_posting.domain.documents import Document
from background_posting.domain.errors import Conflict, NotFound, ValidationFailed
from background_posting.store import counters
from background_posting.store.base import (
    bound,
    connection,
    fits_in_transaction,
    is_condition_failure,
    register,
)

LINES_PER_CHUNK = 500
HEADER = "HEADER"


class ByCompany(GlobalSecondaryIndex["DocumentRecord"]):
    class Meta:
        index_name = "by-company"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


@register(lambda s: s.documents_table)
class DocumentRecord(Model):
    class Meta:
        table_name = "documents"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    revision = NumberAttribute(null=True)
    chunk_count = NumberAttribute(null=True)
    body = UnicodeAttribute(null=True)
    lines = UnicodeAttribute(null=True)

    by_company = ByCompany()


def _pk(document_id: str) -> str:
    return f"DOC#{document_id}"


def _chunk_sk(revision: int, chunk: int) -> str:
    return f"LINES#{revision:06d}#{chunk:06d}"


def _list_sk(document: Document) -> str:
    return f"{document.type}#{document.status}#{document.number}"


def _header_body(document: Document) -> str:
    return document.model_dump_json(exclude={"lines"})


_WITH_BACKGROUND_ERRORS = '"last_background_errors":{'
"""How a header that carries background errors reads in its JSON (compact, as pydantic
writes it): what `list_documents(has_background_errors=...)` filters on."""


def _chunks(document: Document, revision: int) -> list[DocumentRecord]:
    lines = [line.model_dump(mode="json", exclude_defaults=True) for line in document.lines]
    return [
        DocumentRecord(
            _pk(document.id),
            _chunk_sk(revision, index // LINES_PER_CHUNK),
            lines=json.dumps(lines[index : index + LINES_PER_CHUNK], separators=(",", ":")),
        )
        for index in range(0, len(lines), LINES_PER_CHUNK)
    ]


def _header(document: Document, revision: int, chunk_count: int) -> DocumentRecord:
    return DocumentRecord(
        _pk(document.id),
        HEADER,
        list_pk=document.company,
        list_sk=_list_sk(document),
        status=document.status,
        version=document.version,
        revision=revision,
        chunk_count=chunk_count,
        body=_header_body(document),
    )


def _write_chunks(chunks: Sequence[DocumentRecord]) -> None:
    with DocumentRecord.batch_write() as batch:
        for chunk in chunks:
            batch.save(chunk)


def insert_document(document: Document) -> Document:
    """Store a new document, numbering it from the company's sequence for its type.

    Small documents are one transaction. Larger ones write their line chunks first; the
    header (the only way in) is written last, with the number, in one transaction.
    """
    bound()
    chunks = _chunks(document, 1)
    inline = fits_in_transaction([len(c.lines or "") for c in chunks], 2)
    if not inline:
        _write_chunks(chunks)
    for _attempt in range(50):
        seen = counters.current(document.company, document.prefix)
        numbered = document.model_copy(
            update={"number": f"{document.prefix}{seen + 1:06d}", "line_count": len(document.lines)}
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(
                    _header(numbered, 1, len(chunks)), condition=DocumentRecord.pk.does_not_exist()
                )
                if inline:
                    for chunk in chunks:
                        tx.save(chunk)
                counters.take_next(tx, document.company, document.prefix, seen)
            return numbered
        except TransactWriteError as exc:
            if not is_condition_failure(exc):
                raise
            if _exists(document.id):
                raise Conflict(
                    f"Document {document.id} exists already.",
                    code="document_exists",
                    details={"id": document.id},
                ) from exc
            # Someone else took the number: read the counter again and retry.
    raise Conflict(
        "Could not number the document: too many documents are being created at once.",
        code="numbering_contention",
    )


def _exists(document_id: str) -> bool:
    try:
        DocumentRecord.get(_pk(document_id), HEADER, consistent_read=True)
    except DoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class Stored:
    """A document as read, with what a conditional write needs to know."""

    document: Document
    revision: int
    chunk_count: int


def _read_header(document_id: str) -> DocumentRecord:
    try:
        return DocumentRecord.get(_pk(document_id), HEADER, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Document {document_id!r} does not exist.",
            code="document_not_found",
            details={"id": document_id},
        ) from exc


def _read_lines(document_id: str, revision: int, first_chunk: int, last_chunk: int) -> list[Any]:
    """The lines of chunks first..last (inclusive) of a revision."""
    if last_chunk < first_chunk:
        return []
    lines: list[Any] = []
    query = DocumentRecord.query(
        _pk(document_id),
        DocumentRecord.sk.between(
            _chunk_sk(revision, first_chunk), _chunk_sk(revision, last_chunk)
        ),
        consistent_read=True,
    )
    for item in query:
        lines.extend(json.loads(item.lines or "[]"))
    return lines


def get_document(
    document_id: str,
    *,
    with_lines: bool = True,
    line_offset: int = 0,
    line_limit: int | None = None,
) -> Stored:
    """The document; all its lines, none, or the slice [line_offset, line_offset + line_limit)."""
    bound()
    header = _read_header(document_id)
    data = json.loads(header.body or "{}")
    revision, chunk_count = int(header.revision or 1), int(header.chunk_count or 0)
    lines: list[Any] = []
    if with_lines and chunk_count:
        end = chunk_count * LINES_PER_CHUNK if line_limit is None else line_offset + line_limit
        first, last = (
            line_offset // LINES_PER_CHUNK,
            min(chunk_count, -(-end // LINES_PER_CHUNK)) - 1,
        )
        lines = _read_lines(document_id, revision, first, last)
        skip = line_offset - first * LINES_PER_CHUNK
        lines = lines[skip : skip + (end - line_offset)]
    data["lines"] = lines
    return Stored(Document.model_validate(data), revision, chunk_count)


def save_amendment(
    stored: Stored,
    amended: Document,
    lines_changed: bool,
    extend: Callable[[TransactWrite], None] | None = None,
    extra_items: int = 0,
) -> Document:
    """Write an amendment if nobody changed the document since `stored` was read.

    `extend` adds the caller's writes (a worker item's deletion, a log entry) to the header's
    transaction; `extra_items` says how many.
    """
    bound()
    current = stored.document
    new = amended.model_copy(update={"version": current.version + 1})
    revision = stored.revision + 1 if lines_changed else stored.revision
    chunks = _chunks(new, revision) if lines_changed else []
    chunk_count = len(chunks) if lines_changed else stored.chunk_count
    if lines_changed:
        new = new.model_copy(update={"line_count": len(new.lines)})
    inline = fits_in_transaction([len(c.lines or "") for c in chunks], 1 + extra_items)
    if not inline:
        _write_chunks(chunks)
    condition = (DocumentRecord.version == current.version) & (
        DocumentRecord.status == current.status
    )
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(_header(new, revision, chunk_count), condition=condition)
            if inline:
                for chunk in chunks:
                    tx.save(chunk)
            if extend is not None:
                extend(tx)
    except TransactWriteError as exc:
        if is_condition_failure(exc):
            raise Conflict(
                f"{current.number} was changed by someone else; read it again.",
                code="concurrent_update",
                details={"number": current.number},
            ) from exc
        raise
    if lines_changed and stored.chunk_count:
        _delete_revision(current.id, stored.revision, stored.chunk_count)
    return new


def _delete_revision(document_id: str, revision: int, chunk_count: int) -> None:
    with DocumentRecord.batch_write() as batch:
        for chunk in range(chunk_count):
            batch.delete(DocumentRecord(_pk(document_id), _chunk_sk(revision, chunk)))


def change_status(
    document: Document, new_status: str, extra: dict[str, Any] | None = None
) -> Document:
    """Move a document (read at `document.version`) to `new_status`, or raise Conflict."""
    bound()
    changed = document.model_copy(
        update={"status": new_status, "version": document.version + 1, **(extra or {})}
    )
    record = DocumentRecord(_pk(document.id), HEADER)
    try:
        record.update(
            actions=[
                DocumentRecord.status.set(new_status),
                DocumentRecord.version.set(changed.version),
                DocumentRecord.list_sk.set(_list_sk(changed)),
                DocumentRecord.body.set(_header_body(changed)),
            ],
            condition=(DocumentRecord.version == document.version)
            & (DocumentRecord.status == document.status),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise Conflict(
                f"{document.number} was changed by someone else; read it again.",
                code="concurrent_update",
                details={"number": document.number},
            ) from exc
        raise
    return changed


def header_update(document: Document, changed: Document) -> tuple[DocumentRecord, list[Any], Any]:
    """The update of a header from `document` to `changed`, for a caller's transaction."""
    return (
        DocumentRecord(_pk(document.id), HEADER),
        [
            DocumentRecord.status.set(changed.status),
            DocumentRecord.version.set(changed.version),
            DocumentRecord.list_sk.set(_list_sk(changed)),
            DocumentRecord.body.set(_header_body(changed)),
        ],
        (DocumentRecord.version == document.version) & (DocumentRecord.status == document.status),
    )


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    next_token: str | None


def _encode(token: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


def _decode(token: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        if not isinstance(value, dict):
            raise ValueError
        return value
    except ValueError as exc:
        raise ValidationFailed(
            "The `next` token is not one this API gave out.",
            code="invalid_request",
            details={"errors": [{"field": "next", "message": "is not a valid page token"}]},
        ) from exc


def list_documents(
    companies: Sequence[str],
    doc_type: str | None,
    status: str | None,
    limit: int,
    token: str | None,
    has_background_errors: bool | None = None,
) -> Page:
    """Headers of the given companies (in order), filtered; `next` resumes where this stopped.

    `has_background_errors`: only the documents that carry (True) or do not carry (False) the
    errors of a background attempt (`last_background_errors`, an object in the stored header
    JSON, which pydantic writes as `"last_background_errors":{` or `...:null`)."""
    bound()
    position: dict[str, Any] = _decode(token) if token else {"company": 0, "key": None}
    index: int = int(position.get("company", 0))
    last_key: dict[str, Any] | None = position.get("key")
    found: list[Document] = []
    while index < len(companies) and len(found) < limit:
        prefix = (
            f"{doc_type}#{status}#"
            if doc_type and status
            else (f"{doc_type}#" if doc_type else None)
        )
        condition = DocumentRecord.list_sk.startswith(prefix) if prefix else None
        filter_condition: Condition | None = (
            DocumentRecord.status == status if status and not doc_type else None
        )
        if has_background_errors is not None:
            carries = DocumentRecord.body.contains(_WITH_BACKGROUND_ERRORS)
            wanted = carries if has_background_errors else ~carries
            filter_condition = wanted if filter_condition is None else filter_condition & wanted
        result = DocumentRecord.by_company.query(
            companies[index],
            condition,
            filter_condition=filter_condition,
            limit=limit - len(found),
            last_evaluated_key=last_key,
        )
        for record in result:
            found.append(Document.model_validate_json(record.body or "{}"))
        last_key = result.last_evaluated_key
        if last_key is None:
            index, last_key = index + 1, None
    more = index < len(companies)
    return Page(found, _encode({"company": index, "key": last_key}) if more else None)


def iter_headers(company: str, doc_type: str, status: str) -> Iterator[Document]:
    bound()
    for record in DocumentRecord.by_company.query(
        company, DocumentRecord.list_sk.startswith(f"{doc_type}#{status}#")
    ):
        yield Document.model_validate_json(record.body or "{}")
