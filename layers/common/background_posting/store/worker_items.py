"""The worker items table: one item per unit of background work, per document.

Keys: `pk = DOC#<document id>`, `sk = <sequence>#<action>`, so one Query returns a
document's items in the order they must run. While an item waits it carries the sparse
`due` index keys (`due_pk = DUE#<shard>`, `due_sk = <company>#<type>#<created>#<document>`):
a run finds due work by querying that index, never by scanning. `reference` (the document
number) feeds the `by-reference` index behind `GET /worker-items?reference=`; `submitted_by`
and `created_at` key the `by-submitter` index behind My Job Queue (`GET /worker-items`), newest
first, a page at a time.

A worker holds a document's work by leasing its first item (`lease_owner`, `lease_until`,
set on the condition that no unexpired lease exists); a worker that dies simply lets its
lease expire and the next run's worker takes over.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting import clock
from background_posting.domain.background import PlannedItem
from background_posting.domain.documents import Document
from background_posting.domain.errors import Conflict
from background_posting.domain.work import WorkerItem
from background_posting.store import page_tokens
from background_posting.store.base import StoreModel, is_condition_failure, register
from background_posting.store.writes import Write

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


class SubmitterIndex(GlobalSecondaryIndex["WorkerItemRecord"]):
    class Meta:
        index_name = "by-submitter"
        projection = AllProjection()

    submitted_by = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


@register(lambda s: s.worker_items_table)
class WorkerItemRecord(StoreModel):
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
    attempts_setting = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    not_before = NumberAttribute(default=0)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)
    due_sk = UnicodeAttribute(null=True)
    account = UnicodeAttribute(null=True)
    log_group_title = UnicodeAttribute(null=True)

    due = DueIndex()
    by_reference = ReferenceIndex()
    by_submitter = SubmitterIndex()


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
        attempts_setting=record.attempts_setting,
        account=record.account,
        log_group_title=record.log_group_title or "",
    )


def item_records(
    document: Document,
    planned: Sequence[PlannedItem],
    submitted_by: str,
    log_group: str,
    log_group_title: str,
    not_before: float = 0,
) -> list[WorkerItemRecord]:
    """The document's new worker items as stored (`items_added` writes them), each with its
    log group's title (kept on the item: the group may be deleted before the item is done)."""
    created = clock.now().isoformat()
    return [
        WorkerItemRecord(
            _pk(document.id),
            _sk(item.sequence, item.action),
            action=item.action,
            document_id=document.id,
            document_type=document.type,
            company=document.company,
            account=document.account,
            reference=document.number,
            submitted_by=submitted_by,
            log_group=log_group,
            log_group_title=log_group_title or None,
            created_at=created,
            attempts=0,
            max_attempts=item.max_attempts,
            attempts_setting=item.attempts_setting,
            not_before=max(not_before, item.not_before),
            due_pk=shard_of(document.id),
            due_sk=f"{document.company}#{document.type}#{created}#{document.id}#{item.sequence:02d}",
        )
        for item in planned
    ]


def items_added(
    document: Document,
    planned: Sequence[PlannedItem],
    submitted_by: str,
    log_group: str,
    log_group_title: str,
    not_before: float = 0,
) -> list[Write]:
    """The writes of the document's new worker items (each must not exist yet)."""
    exists = Conflict(
        f"{document.number} has worker items already.",
        code="worker_items_exist",
        details={"number": document.number},
    )
    return [
        Write.put(record, WorkerItemRecord.pk.does_not_exist(), refusal=exists)
        for record in item_records(
            document, planned, submitted_by, log_group, log_group_title, not_before
        )
    ]


def items_of(document_id: str) -> list[WorkerItem]:
    """The document's items, in the order they run."""
    return [
        _item(record) for record in WorkerItemRecord.query(_pk(document_id), consistent_read=True)
    ]


def by_reference(reference: str) -> list[WorkerItem]:
    return [_item(record) for record in WorkerItemRecord.by_reference.query(reference)]


@dataclass(frozen=True)
class QueuePage:
    items: list[WorkerItem]
    next_token: str | None
    account_names: dict[str, str] = field(default_factory=dict)
    """The name of each item's account (customer or vendor), by its id."""


_QUEUE_KEY = frozenset({"pk", "sk", "submitted_by", "created_at"})


def queue_of(
    submitter: str,
    companies: Sequence[str] | None,
    state: str | None,
    limit: int,
    token: str | None,
    now: float,
) -> QueuePage:
    """A page of `submitter`'s worker items, newest first (the `by-submitter` index), of the
    given companies (None: every company) and in `state` at `now` (None: any); `next` resumes
    after the last item returned, bound to this query."""
    query = ("queue", submitter, companies, state)
    start = (
        page_tokens.start_key(
            token,
            query,
            _QUEUE_KEY,
            lambda key: key["submitted_by"] == submitter and key["pk"].startswith("DOC#"),
            another="another query (another submitter, company or state)",
        )
        if token
        else None
    )
    if companies is not None and not companies:
        return QueuePage([], None)
    wanted: Condition | None = (
        WorkerItemRecord.company.is_in(*companies) if companies is not None else None
    )
    held = WorkerItemRecord.lease_until > now
    free = WorkerItemRecord.lease_until.does_not_exist() | (WorkerItemRecord.lease_until <= now)
    in_state: Condition | None = {
        "in_process": held,
        "failed": free & (WorkerItemRecord.attempts > 0),
        "queued": free & (WorkerItemRecord.attempts == 0),
        None: None,
    }[state]
    if in_state is not None:
        wanted = in_state if wanted is None else wanted & in_state
    result = WorkerItemRecord.by_submitter.query(
        submitter,
        filter_condition=wanted,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start,
        page_size=max(limit, 100),
    )
    found = [_item(record) for record in result]
    return QueuePage(found, page_tokens.token_for(query, result.last_evaluated_key))


@dataclass(frozen=True)
class DueDocument:
    document_id: str
    company: str
    document_type: str
    action: str  # its next waiting item's (the index keeps a document's items in order)
    items: tuple[WorkerItem, ...] | None = None
    """Its due items as the page showed them; None when the page may have cut them short."""
    submitters: frozenset[str] = frozenset()
    """Who submitted the due items the page showed (a run records them as its participants)."""


def due_documents(
    shard: int,
    prefix: str | None,
    last_key: dict[str, Any] | None,
    page_size: int = 500,
    now: float | None = None,
) -> tuple[list[DueDocument], dict[str, Any] | None]:
    """One page of the due index of one shard: the documents with waiting items, due at `now`
    (seconds since the epoch; the time now if None)."""
    condition = WorkerItemRecord.due_sk.startswith(prefix) if prefix else None
    result = WorkerItemRecord.due.query(
        f"DUE#{shard}",
        condition,
        # waiting for its date (a future income schedule journal) or its retry delay
        filter_condition=WorkerItemRecord.not_before <= (clock.timestamp() if now is None else now),
        limit=page_size,
        last_evaluated_key=last_key,
        page_size=page_size,
    )
    seen: dict[str, list[WorkerItemRecord]] = {}
    for record in result:
        seen.setdefault(record.document_id, []).append(record)
    more = result.last_evaluated_key
    last = next(reversed(seen), None)
    found = [
        DueDocument(
            document_id,
            records[0].company,
            records[0].document_type,
            records[0].action,
            # the page's last document may go on in the next page: the worker reads its items
            None if more is not None and document_id == last else tuple(map(_item, records)),
            frozenset(record.submitted_by for record in records),
        )
        for document_id, records in seen.items()
    ]
    return found, more


def lease(item: WorkerItem, owner: str, until: float, now: float) -> bool:
    """Take the document's work for `owner` until `until`; False if another worker holds it."""
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
    record = WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))
    try:
        record.update(
            actions=[WorkerItemRecord.lease_owner.remove(), WorkerItemRecord.lease_until.remove()],
            condition=WorkerItemRecord.lease_owner == owner,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def postponed(item: WorkerItem, not_before: float) -> Write:
    """The item waits until `not_before`, its attempts not counted and its lease released
    (condition: it still exists)."""
    return Write.update(
        WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action)),
        [
            WorkerItemRecord.not_before.set(not_before),
            WorkerItemRecord.lease_owner.remove(),
            WorkerItemRecord.lease_until.remove(),
        ],
        WorkerItemRecord.pk.exists(),
        refusal=_gone(item),
    )


class ItemGone(Conflict):
    """The worker item was finished, counted or removed by someone else meanwhile."""


def _gone(item: WorkerItem) -> ItemGone:
    return ItemGone(
        f"The {item.action.replace('_', ' ')} item of {item.reference} was finished or "
        "removed meanwhile.",
        code="worker_item_gone",
        details={"reference": item.reference, "action": item.action},
    )


def _record(item: WorkerItem) -> WorkerItemRecord:
    return WorkerItemRecord(_pk(item.document_id), _sk(item.sequence, item.action))


def _held(owner: str | None, now: float) -> Condition:
    """Held by `owner`; or, for work done without a lease, held by nobody."""
    if owner is not None:
        return WorkerItemRecord.lease_owner == owner
    return WorkerItemRecord.lease_until.does_not_exist() | (WorkerItemRecord.lease_until < now)


def deleted(item: WorkerItem) -> Write:
    """The item's removal when its work is done: ItemGone if it went meanwhile."""
    return Write.delete(_record(item), WorkerItemRecord.pk.exists(), refusal=_gone(item))


def removed(item: WorkerItem) -> Write:
    """The item's removal, whether or not it still exists (a document's remaining items)."""
    return Write.delete(_record(item))


def withdrawn(item: WorkerItem, now: float) -> Write:
    """The item's removal when its document leaves the background (Cancel background posting):
    refused with 409 `worker_item_held` while a worker holds its lease at `now`; an item gone
    meanwhile is nothing to remove (the document's own condition says whether it moved)."""
    return Write.delete(
        _record(item),
        _held(None, now),
        refusal=Conflict(
            f"A worker is processing {item.reference} now ({item.action.replace('_', ' ')}): it "
            "cannot be taken out of the background until that has finished; try again in a "
            "moment.",
            code="worker_item_held",
            details={"worker_items": [item]},
        ),
    )


def retry_delay_waived(item: WorkerItem, now: float) -> Write:
    """Retry now: a failed item due at `now` instead of after its retry delay (conditional on
    the attempts read and on no worker holding it; ItemGone if it went or moved meanwhile)."""
    return Write.update(
        _record(item),
        [WorkerItemRecord.not_before.set(now)],
        WorkerItemRecord.pk.exists()
        & (WorkerItemRecord.attempts == item.attempts)
        & _held(None, now),
        refusal=_gone(item),
    )


def failure_counted(
    item: WorkerItem, owner: str | None, error: str, retry_after: float, now: float
) -> Write:
    """Count attempt `item.attempts + 1` and let the lease go.

    Conditional on the item still having the attempts read and on the lease (`owner`'s, or
    none for work done without one): an attempt two overlapping workers made at once counts
    once, and a document already returned to In Progress (its items gone) gets no more.
    """
    return Write.update(
        _record(item),
        [
            WorkerItemRecord.attempts.set(item.attempts + 1),
            WorkerItemRecord.last_error.set(error[:4000]),
            WorkerItemRecord.not_before.set(retry_after),
            WorkerItemRecord.lease_owner.remove(),
            WorkerItemRecord.lease_until.remove(),
        ],
        WorkerItemRecord.pk.exists()
        & (WorkerItemRecord.attempts == item.attempts)
        & _held(owner, now),
        refusal=_gone(item),
    )


def spent(item: WorkerItem, owner: str | None, now: float) -> Write:
    """The item's removal at its maximum attempts, under the same conditions as counting
    its last attempt (`failure_counted`)."""
    return Write.delete(
        _record(item),
        WorkerItemRecord.pk.exists()
        & (WorkerItemRecord.attempts == item.attempts)
        & _held(owner, now),
        refusal=_gone(item),
    )


def as_message(item: WorkerItem) -> dict[str, Any]:
    """The item as a run's message carries it (what the due index showed)."""
    return asdict(item)


def from_message(data: dict[str, Any]) -> WorkerItem:
    return WorkerItem(**data)
