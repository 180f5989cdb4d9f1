"""The worker items table: one item per unit of background work, per document.

Keys: `pk = DOC#<document id>`, `sk = <sequence>#<action>`, so one Query returns a
document's items in the order they must run. While an item waits it carries the sparse
`due` index keys (`due_pk = DUE#<shard>`, `due_sk = <company>#<type>#<created>#<document>`):
a run finds due work by querying that index, never by scanning. `reference` (the document
number) feeds the `by-reference` index behind `GET /worker-items?reference=`.

A worker holds a document's work by leasing its first item (`lease_owner`, `lease_until`,
set on the condition that no unexpired lease exists); a worker that dies simply lets its
lease expire and the next run's worker takes over.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from background_posting.domain.background import PlannedItem
from background_posting.domain.documents import Document
from background_posting.store.base import bound, is_condition_failure, register

DUE_SHARDS = 4


class DueIndex(GlobalSecondaryIndex["WorkerItemRecord"]):
    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class ReferenceIndex(GlobalSecondaryIndex["WorkerItemRecord"]):
    class Meta:
        index_name = "by-reference"
        projection = AllProjection()

    reference = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


@register(lambda s: s.worker_items_table)
class WorkerItemRecord(Model):
    class Meta:
        table_name = "worker-items"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    action = UnicodeAttribute()
    document_id = UnicodeAttribute()
    document_type = UnicodeAttribute()
    company = UnicodeAttribute()
    reference = UnicodeAttribute()
    submitted_by = UnicodeAttribute()
    log_group = UnicodeAttribute()
    created_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    max_attempts = NumberAttribute(default=3)
    last_error = UnicodeAttribute(null=True)
    not_before = NumberAttribute(default=0)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)

    due = DueIndex()
    by_reference = ReferenceIndex()


@dataclass(frozen=True)
class WorkerItem:
    document_id: str
    sequence: int
    action: str
    reference: str
    company: str
    document_type: str
    submitted_by: str
    log_group: str
    created_at: str
    attempts: int
    max_attempts: int
    last_error: str | None
    not_before: float
    lease_owner: str | None
    lease_until: float | None

    def as_json(self) -> dict[str, Any]:
        leased = self.lease_until is not None and self.lease_until > datetime.now(UTC).timestamp()
        return {
            "reference": self.reference,
            "document_id": self.document_id,
            "document_type": self.document_type,
            "company": self.company,
            "action": self.action,
            "sequence": self.sequence,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "last_error": self.last_error,
            "submitted_by": self.submitted_by,
            "log_group": self.log_group,
            "created_at": self.created_at,
            "held_by_worker": leased,
        }


def _pk(document_id: str) -> str:
    return f"DOC#{document_id}"


def _sk(sequence: int, action: str) -> str:
    return f"{sequence:02d}#{action}"


def shard_of(document_id: str) -> str:
    return f"DUE#{zlib.crc32(document_id.encode()) % DUE_SHARDS}"


def _item(record: WorkerItemRecord) -> WorkerItem:
    sequence = int(record.sk.split("#", 1)[0])
    return WorkerItem(
        document_id=record.document_id,
        sequence=sequence,
        action=record.action,
        reference=record.reference,
        company=record.company,
        document_type=record.document_type,
        submitted_by=record.submitted_by,
        log_group=record.log_group,
        created_at=record.created_at,
        attempts=int(record.attempts or 0),
        max_attempts=int(record.max_attempts or 3),
        last_error=record.last_error,
        not_before=float(record.not_before or 0),
        lease_owner=record.lease_owner,
        lease_until=None if record.lease_until is None else float(record.lease_until),
    )


def add_items(
    tx: TransactWrite,
    document: Document,
    planned: Sequence[PlannedItem],
    submitted_by: str,
    log_group: str,
    not_before: float = 0,
) -> None:
    """Add the document's new worker items to `tx` (each must not exist yet)."""
    created = datetime.now(UTC).isoformat()
    for item in planned:
        tx.save(
            WorkerItemRecord(
                _pk(document.id),
                _sk(item.sequence, item.action),
                action=item.action,
                document_id=document.id,
                document_type=document.type,
                company=document.company,
                reference=document.number,
                submitted_by=submitted_by,
                log_group=log_group,
                created_at=created,
                attempts=0,
                max_attempts=item.max_attempts,
                not_before=not_before,
                due_pk=shard_of(document.id),
                due_sk=f"{document.company}#{document.type}#{created}#{document.id}#{item.sequence:02d}",
            ),
            condition=WorkerItemRecord.pk.does_not_exist(),
        )


def items_of(document_id: str) -> list[WorkerItem]:
    """The document's items, in the order they run."""
    bound()
    return [
        _item(record) for record in WorkerItemRecord.query(_pk(document_id), consistent_read=True)
    ]


def by_reference(reference: str) -> list[WorkerItem]:
    bound()
    return [_item(record) for record in WorkerItemRecord.by_reference.query(reference)]


@dataclass(frozen=True)
class DueDocument:
    document_id: str
    company: str
    document_type: str
    action: str  # its next waiting item's (the index keeps a document's items in order)


def due_documents(
    shard: int, prefix: str | None, last_key: dict[str, Any] | None, page_size: int = 500
) -> tuple[list[DueDocument], dict[str, Any] | None]:
    """One page of the due index of one shard: the documents with waiting items."""
    bound()
    condition = WorkerItemRecord.due_sk.startswith(prefix) if prefix else None
    result = WorkerItemRecord.due.query(
        f"DUE#{shard}",
        condition,
        # waiting for its date (a future income schedule journal) or its retry delay
        filter_condition=WorkerItemRecord.not_before <= time.time(),
        limit=page_size,
        last_evaluated_key=last_key,
        page_size=page_size,
    )
    found: dict[str, DueDocument] = {}
    for record in result:
        found.setdefault(
            record.document_id,
            DueDocument(record.document_id, record.company, record.document_type, record.action),
        )
    return list(found.values()), result.last_evaluated_key


def lease(item: WorkerItem, owner: str, until: float, now: float) -> bool:
    """Take the document's work for `owner` until `until`; False if another worker holds it."""
    bound()
    record = WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))
    free: Condition = WorkerItemRecord.lease_until.does_not_exist() | (
        WorkerItemRecord.lease_until < now
    )
    try:
        record.update(
            actions=[
                WorkerItemRecord.lease_owner.set(owner),
                WorkerItemRecord.lease_until.set(until),
            ],
            condition=WorkerItemRecord.pk.exists() & free,
        )
        return True
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise


def release(item: WorkerItem, owner: str) -> None:
    bound()
    record = WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))
    try:
        record.update(
            actions=[WorkerItemRecord.lease_owner.remove(), WorkerItemRecord.lease_until.remove()],
            condition=WorkerItemRecord.lease_owner == owner,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def delete_in(tx: TransactWrite, item: WorkerItem) -> None:
    tx.delete(WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action)))


def record_failure(item: WorkerItem, owner: str, error: str, retry_after: float) -> int:
    """Count a failed attempt (and let the lease go); the attempts made so far."""
    bound()
    record = WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))
    record.update(
        actions=[
            WorkerItemRecord.attempts.add(1),
            WorkerItemRecord.last_error.set(error[:4000]),
            WorkerItemRecord.not_before.set(retry_after),
            WorkerItemRecord.lease_owner.remove(),
            WorkerItemRecord.lease_until.remove(),
        ],
        condition=WorkerItemRecord.pk.exists(),
    )
    return int(record.attempts or item.attempts + 1)


def delete_unleased(items: Sequence[WorkerItem], now: float) -> list[WorkerItem]:
    """Remove items no worker holds; those a worker holds are returned, untouched."""
    bound()
    held = []
    for item in items:
        record = WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))
        try:
            record.delete(
                condition=WorkerItemRecord.lease_until.does_not_exist()
                | (WorkerItemRecord.lease_until < now)
            )
        except DeleteError as exc:
            if not is_condition_failure(exc):
                raise
            held.append(item)
    return held


def iter_all(document_ids: Sequence[str]) -> Iterator[WorkerItem]:
    for document_id in document_ids:
        yield from items_of(document_id)
