"""The documents table: one header item per document, its lines in chunk items.

Keys: `pk = DOC#<id>`; the header has `sk = HEADER`; lines are stored 500 to an item under
`sk = LINES#<revision>#<chunk>`. An amendment writes the new revision's chunks first and then
moves the header to that revision in one conditional write, so a reader (who always starts
from the header) sees the old lines or the new ones, never a mix. Chunks of an abandoned
revision are invisible and are deleted after the header has moved.

The `by-company` index lists headers by company, then `type#status#number`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting.domain.documents import (
    Document,
    DocumentLine,
    JournalLine,
)
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.types import STORED
from background_posting.store import counters, history
from background_posting.store.base import StoreModel, register, table_name
from background_posting.store.chunks import append_point, chunk_key, chunked, joined, span
from background_posting.store.history import Change
from background_posting.store.writes import LostRace, Write, fits, transact

HEADER = "HEADER"


class ByCompany(GlobalSecondaryIndex["DocumentRecord"]):
    class Meta:
        index_name = "by-company"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


@register(lambda s: s.documents_table)
class DocumentRecord(StoreModel):
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


def _revision_prefix(revision: int) -> str:
    return f"LINES#{revision:06d}#"


def _chunk_sk(revision: int, chunk: int) -> str:
    return f"{_revision_prefix(revision)}{chunk_key(chunk)}"


def _list_sk(document: Document) -> str:
    return f"{document.type}#{document.status}#{document.number}"


def _header_body(document: Document) -> str:
    if document.verification is not None:  # kept compact: an item holds 400 KB
        document = document.model_copy(update={"verification": document.verification.kept()})
    return document.model_dump_json(exclude={"lines"})


WITH_BACKGROUND_ERRORS = '"last_background_errors":{'
"""How a header that carries background errors reads in its JSON (compact, as pydantic
writes it): what `list_documents(has_background_errors=...)` filters on."""


def with_verification(status: str) -> str:
    """How a header whose verification has `status` reads in its JSON (status is the first
    field of a verification): what `list_documents(verification=...)` filters on."""
    return f'"verification":{{"status":"{status}"'


def _chunks(document: Document, revision: int) -> list[DocumentRecord]:
    rows = (line.model_dump(mode="json", exclude_defaults=True) for line in document.lines)
    return _chunk_records(document.id, revision, rows)


def _chunk_records(
    document_id: str, revision: int, rows: Iterable[Any], first_chunk: int = 0
) -> list[DocumentRecord]:
    return [
        DocumentRecord(_pk(document_id), _chunk_sk(revision, index), lines=text)
        for index, text in chunked(rows, first_chunk)
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


def insert_document(document: Document, change: Change) -> Document:
    """Store a new document, numbering it from the company's sequence for its type, with its
    first history entry (`change`: how it came to be).

    Small documents are one transaction. Larger ones write their line chunks first; the
    header (the only way in) is written last, with the number, in one transaction.
    """
    chunks = _chunks(document, 1)
    chunk_writes = [Write.put(chunk) for chunk in chunks]
    inline = fits(chunk_writes, more_items=2, more_bytes=len(_header_body(document)) + 1_000)
    if not inline:
        _write_chunks(chunks)
    exists = Conflict(
        f"Document {document.id} exists already.",
        code="document_exists",
        details={"id": document.id},
    )
    for _attempt in range(50):
        seen = counters.current(document.company, document.prefix)
        numbered = document.model_copy(
            update={"number": f"{document.prefix}{seen + 1:06d}", "line_count": len(document.lines)}
        )
        header = Write.put(
            _header(numbered, 1, len(chunks)),
            DocumentRecord.pk.does_not_exist(),
            refusal=exists,
        ).with_companions(
            history.entry(
                numbered.id,
                change,
                from_status=None,
                to_status=numbered.status,
                version=numbered.version,
            )
        )
        counter = counters.take_next(document.company, document.prefix, seen)
        try:
            transact([header, counter, *(chunk_writes if inline else [])])
            return numbered
        except LostRace:
            continue  # someone else took the number: read the counter again and retry
    raise Conflict(
        "Could not number the document: too many documents are being created at once.",
        code="numbering_contention",
    )


@dataclass(frozen=True)
class Stored:
    """A document as read, with what a conditional write needs to know."""

    document: Document
    revision: int
    chunk_count: int


def _not_found(document_id: str) -> NotFound:
    return NotFound(
        f"Document {document_id!r} does not exist.",
        code="document_not_found",
        details={"id": document_id},
    )


def _read_header(document_id: str) -> DocumentRecord:
    try:
        return DocumentRecord.get(_pk(document_id), HEADER, consistent_read=True)
    except DoesNotExist as exc:
        raise _not_found(document_id) from exc


def _read_lines(document_id: str, revision: int, first_chunk: int, last_chunk: int) -> list[Any]:
    """The lines of chunks first..last (inclusive) of a revision."""
    if last_chunk < first_chunk:
        return []
    query = DocumentRecord.query(
        _pk(document_id),
        DocumentRecord.sk.between(
            _chunk_sk(revision, first_chunk), _chunk_sk(revision, last_chunk)
        ),
        consistent_read=True,
    )
    return joined(item.lines for item in query)


def _assembled(header: DocumentRecord, chunks: Iterable[DocumentRecord]) -> Stored:
    """The document of a header and its chunk items (in key order; chunks of another revision,
    left by an amendment that moved on, are skipped)."""
    data: dict[str, Any] = json.loads(header.body or "{}")
    line_model: type[DocumentLine] | type[JournalLine] = (
        JournalLine if data.get("type") == "journal" else DocumentLine
    )
    revision = int(header.revision or 1)
    prefix = _revision_prefix(revision)
    lines: list[Any] = []
    for item in chunks:
        if item.sk.startswith(prefix):
            # each chunk's lines become models at once: a large document's lines are never
            # held as JSON and as dictionaries and as models all at the same time
            lines.extend(
                line_model.model_validate(line, context=STORED)
                for line in json.loads(item.lines or "[]")
            )
    count = data.get("line_count")
    data["lines"] = lines[:count] if isinstance(count, int) and count < len(lines) else lines
    return Stored(
        Document.model_validate(data, context=STORED), revision, int(header.chunk_count or 0)
    )


def _read_whole(document_id: str) -> Stored:
    """Header and every line in one consistent Query (the header sorts before its chunks)."""
    items = iter(DocumentRecord.query(_pk(document_id), consistent_read=True))
    header = next((item for item in items if item.sk == HEADER), None)
    if header is None:
        raise _not_found(document_id)
    return _assembled(header, items)


BATCH_READ_CHUNKS = 4
"""A document of more chunks than this (2,000 lines) is read by its own Query."""


def header_keys(document_ids: Collection[str]) -> dict[str, Any]:
    """The BatchGetItem request (RequestItems) for these documents' headers."""
    wanted = list(dict.fromkeys(document_ids))
    if not wanted:
        return {}
    keys = [{"pk": {"S": _pk(i)}, "sk": {"S": HEADER}} for i in wanted]
    return {table_name(DocumentRecord): {"Keys": keys, "ConsistentRead": True}}


def headers_found(found: dict[str, list[dict[str, Any]]]) -> dict[str, DocumentRecord]:
    """The document headers among a BatchGetItem's items, by document id."""
    records = (DocumentRecord.from_raw_data(i) for i in found.get(table_name(DocumentRecord), []))
    return {r.pk.removeprefix("DOC#"): r for r in records if r.sk == HEADER}


def chunk_keys(headers: dict[str, DocumentRecord]) -> dict[str, Any]:
    """The BatchGetItem request for the line chunks these headers name (of documents of at
    most BATCH_READ_CHUNKS chunks: larger ones are read by their own Query)."""
    keys = [
        {"pk": {"S": _pk(i)}, "sk": {"S": _chunk_sk(int(h.revision or 1), chunk)}}
        for i, h in headers.items()
        if int(h.chunk_count or 0) <= BATCH_READ_CHUNKS
        for chunk in range(int(h.chunk_count or 0))
    ]
    return {table_name(DocumentRecord): {"Keys": keys, "ConsistentRead": True}} if keys else {}


def assembled(
    headers: dict[str, DocumentRecord], found: dict[str, list[dict[str, Any]]]
) -> dict[str, Stored]:
    """The documents of these headers, with the chunks a BatchGetItem found after it read
    them (`store/batch_reads.py`).

    A chunk that an amendment deleted after its header was read is missing, and that
    document is read again by its Query (which sees the amendment whole); lines appended in
    between are cut at the header's line count; a document too large to batch is read by its
    Query; one deleted meanwhile is left out."""
    chunks: dict[str, list[DocumentRecord]] = {}
    for item in found.get(table_name(DocumentRecord), []):
        record = DocumentRecord.from_raw_data(item)
        if record.sk != HEADER:
            chunks.setdefault(record.pk.removeprefix("DOC#"), []).append(record)
    documents: dict[str, Stored] = {}
    for document_id, header in headers.items():
        mine = chunks.get(document_id, [])
        count = int(header.chunk_count or 0)
        try:
            if count <= BATCH_READ_CHUNKS and len(mine) == count:
                documents[document_id] = _assembled(header, sorted(mine, key=lambda r: r.sk))
            else:
                documents[document_id] = _read_whole(document_id)
        except NotFound:
            continue  # deleted between the two reads
    return documents


def get_document(
    document_id: str,
    *,
    with_lines: bool = True,
    line_offset: int = 0,
    line_limit: int | None = None,
) -> Stored:
    """The document; all its lines, none, or the slice [line_offset, line_offset + line_limit)."""
    if with_lines and line_offset == 0 and line_limit is None:
        return _read_whole(document_id)
    header = _read_header(document_id)
    data = json.loads(header.body or "{}")
    revision, chunk_count = int(header.revision or 1), int(header.chunk_count or 0)
    lines: list[Any] = []
    if with_lines and chunk_count:
        # The header's line count bounds what is read: lines appended after the header was
        # read (into its last chunk) are not this version's.
        part = span(line_offset, line_limit, chunk_count, int(data.get("line_count") or 0) or None)
        lines = part.cut(_read_lines(document_id, revision, part.first, part.last))
    data["lines"] = lines
    return Stored(Document.model_validate(data, context=STORED), revision, chunk_count)


def save_amendment(
    stored: Stored,
    amended: Document,
    lines_changed: bool,
    change: Change,
    also: Sequence[Write] = (),
) -> Document:
    """Write an amendment if nobody changed the document since `stored` was read, with its
    history entry (`change`, given the fields changed, before and after).

    `also` are the caller's writes (a worker item's deletion, a log entry) that happen with it.
    """
    current = stored.document
    new = amended.model_copy(update={"version": current.version + 1})
    revision = stored.revision + 1 if lines_changed else stored.revision
    chunks = _chunks(new, revision) if lines_changed else []
    chunk_count = len(chunks) if lines_changed else stored.chunk_count
    if lines_changed:
        new = new.model_copy(update={"line_count": len(new.lines)})
    header = Write.put(
        _header(new, revision, chunk_count),
        (DocumentRecord.version == current.version) & (DocumentRecord.status == current.status),
        refusal=_changed_meanwhile(current),
    ).with_companions(_entry(current, new, _amended(current, new, lines_changed, change)))
    chunk_writes = [Write.put(chunk) for chunk in chunks]
    inline = fits([header, *also, *chunk_writes])
    if not inline:
        _write_chunks(chunks)
    transact([header, *also, *(chunk_writes if inline else [])])
    if lines_changed and stored.chunk_count:
        _delete_revision(current.id, stored.revision, stored.chunk_count)
    return new


def append_lines(
    stored: Stored, appended: Document, new_lines: Sequence[Any], change: Change
) -> Document:
    """Append `new_lines` (JSON-ready) to the document's lines, in one conditional transaction.

    `appended` is the header after the append (`line_count` grown, `updated_at`). The new
    lines fill the last chunk and then new chunks; those chunks and the header are written
    together on the condition that the header is still at the version and status read, so two
    appends at once never interleave or lose lines: one commits, the other's condition fails
    (Conflict) and it may read again and retry. Readers slice by the header's line count, so
    one that read the header before the append never sees the appended lines.
    """
    current = stored.document
    count = current.line_count
    last_chunk, in_last = append_point(count)
    tail: list[Any] = []
    if in_last:
        tail = _read_lines(current.id, stored.revision, last_chunk, last_chunk)[:in_last]
    rows = tail + list(new_lines)
    chunks = _chunk_records(current.id, stored.revision, rows, first_chunk=last_chunk)
    new = appended.model_copy(
        update={"version": current.version + 1, "line_count": count + len(new_lines)}
    )
    chunk_count = last_chunk + len(chunks)
    condition = (DocumentRecord.version == current.version) & (
        DocumentRecord.status == current.status
    )
    header = Write.put(
        _header(new, stored.revision, chunk_count), condition, refusal=_changed_meanwhile(current)
    ).with_companions(
        _entry(
            current, new, _with_details(change, lines={"before": count, "after": new.line_count})
        )
    )
    transact([header, *(Write.put(chunk) for chunk in chunks)])
    return new


def _delete_revision(document_id: str, revision: int, chunk_count: int) -> None:
    with DocumentRecord.batch_write() as batch:
        for chunk in range(chunk_count):
            batch.delete(DocumentRecord(_pk(document_id), _chunk_sk(revision, chunk)))


def _changed_meanwhile(document: Document) -> Conflict:
    return Conflict(
        f"{document.number} was changed by someone else; read it again.",
        code="concurrent_update",
        details={"number": document.number},
    )


class DocumentMoved(Conflict):
    """The document is no longer at the version and in a status the change was made from."""


def moved(
    document: Document,
    changed: Document,
    change: Change,
    *,
    from_statuses: Collection[str] | None = None,
    refusal: Conflict | None = None,
) -> Write:
    """The header's move from `document` (as read) to `changed`, for a transaction, with its
    history entry (`change`) as a companion: the two are written together or not at all.

    Conditional on the version read and on the status being one of `from_statuses` (by
    default the status read): whatever the caller read, a document in another status is not
    moved. A failed condition raises `refusal` (by default `DocumentMoved`).
    """
    statuses = sorted(from_statuses) if from_statuses is not None else [document.status]
    return Write.update(
        DocumentRecord(_pk(document.id), HEADER),
        [
            DocumentRecord.status.set(changed.status),
            DocumentRecord.version.set(changed.version),
            DocumentRecord.list_sk.set(_list_sk(changed)),
            DocumentRecord.body.set(_header_body(changed)),
        ],
        (DocumentRecord.version == document.version) & DocumentRecord.status.is_in(*statuses),
        refusal=refusal
        or DocumentMoved(
            f"{document.number} changed while it was being worked on.",
            code="concurrent_update",
            details={"number": document.number},
        ),
    ).with_companions(_entry(document, changed, change))


class DocumentChanged(Conflict):
    """The document changed after a worker read it: its work is judged again as it is now."""


def unchanged(document_id: str, document: Document | None) -> Write:
    """A check, for a transaction, that the document is still as it was read: at the version
    read, or still absent when it was not found. Raises `DocumentChanged` otherwise."""
    record = DocumentRecord
    condition = (
        record.pk.does_not_exist()
        if document is None
        else (record.version == document.version) & (record.status == document.status)
    )
    return Write.check(
        record,
        _pk(document_id),
        HEADER,
        condition,
        refusal=DocumentChanged(
            f"Document {document_id} changed after it was read.", code="concurrent_update"
        ),
    )


def change_status(
    document: Document, changed: Document, change: Change, also: Sequence[Write] = ()
) -> Document:
    """Move a document (read at `document.version`) to `changed`, or raise Conflict."""
    transact([moved(document, changed, change, refusal=_changed_meanwhile(document)), *also])
    return changed


# -- history entries ------------------------------------------------------------------------

MAX_DETAILS_BYTES = 64_000
"""What an entry keeps of an amendment's fields; beyond it, only their names (an item of the
table may hold 400 KB)."""

_NOT_TOLD = frozenset({"version", "updated_at", "line_count", "lines"})


def _entry(before: Document, after: Document, change: Change) -> Write:
    return history.entry(
        after.id, change, from_status=before.status, to_status=after.status, version=after.version
    )


def _with_details(change: Change, **details: Any) -> Change:
    return Change(change.action, change.by, {**change.details, **details})


def _amended(before: Document, after: Document, lines_changed: bool, change: Change) -> Change:
    """`change` with the header fields the amendment changed, before and after (and the line
    count when the lines changed)."""
    was, now = history.changed_fields(
        before.model_dump(mode="json", exclude=set(_NOT_TOLD)),
        after.model_dump(mode="json", exclude=set(_NOT_TOLD)),
    )
    details: dict[str, Any] = {"before": was, "after": now}
    if len(json.dumps(details, default=str)) > MAX_DETAILS_BYTES:
        details = {"fields": sorted(set(was) | set(now))}
    if lines_changed:
        details["lines"] = {"before": before.line_count, "after": len(after.lines)}
    return _with_details(change, **details)
