"""The work log table: runs, worker log groups and their entries (which expire by TTL).

* a run: `pk = RUN#<id>`, `sk = RUN`, with its scope, its scan cursor and outcome counters;
* a worker log group: `pk = LOG#<id>`, `sk = GROUP`, `owner` = the user who submitted the
  work (the `by-owner` index lists a user's groups, newest first);
* a log entry: `pk = LOG#<id>`, `sk = ENTRY#<time>#<document>#<unique>`: one result of one
  attempt at one document's worker item, with every error in full; an entry written by a
  run has `owner = RUN#<run id>`, so the `by-owner` index lists a run's entries;
* a digest's claim: `pk = RUN#<run id>`, `sk = NOTIFY#<recipient>`: the once-only record of
  the run's e-mail to one person (`claim_state` sending | sent | unsent).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.work import (
    COUNTER_NAMES,
    RUN_COUNTERS,
    LogEntry,
    LogGroup,
    Outcome,
    Run,
)
from background_posting.store.base import StoreModel, is_condition_failure, register
from background_posting.store.writes import Write

RETENTION = timedelta(days=90)
RUN_OWNER = "RUN#"  # the by-owner index key of a run's log entries
RUNS_OWNER = "RUNS"  # the by-owner index key under which every run is listed by creation time


class ByOwner(GlobalSecondaryIndex["WorkLogRecord"]):
    class Meta:
        index_name = "by-owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


@register(lambda s: s.work_log_table)
class WorkLogRecord(StoreModel):
    class Meta:
        table_name = "work-log"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    cursor = UnicodeAttribute(null=True)
    scan_complete = BooleanAttribute(null=True)
    queued = NumberAttribute(null=True)
    posted = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    returned = NumberAttribute(null=True)
    skipped = NumberAttribute(null=True)
    completed = NumberAttribute(null=True)
    done = NumberAttribute(null=True)  # the run's documents whose messages are fully processed
    abandoned = NumberAttribute(null=True)  # of `done`: messages given up on (dead-letter queue)
    claim_state = UnicodeAttribute(null=True)  # a digest's claim: sending | sent | unsent
    claim_token = UnicodeAttribute(null=True)
    claim_until = NumberAttribute(null=True)

    by_owner = ByOwner()


def _now() -> datetime:
    return datetime.now(UTC)


def _expires(at: datetime) -> int:
    return int((at + RETENTION).timestamp())


# -- runs ------------------------------------------------------------------------------------


def _run_key(run_id: str) -> tuple[str, str]:
    return f"RUN#{run_id}", "RUN"


def create_run(
    trigger: str,
    requested_by: str,
    companies: list[str] | None,
    document_type: str | None,
    run_id: str | None = None,
    scheduled_for: str | None = None,
) -> tuple[Run, bool]:
    """Record a new run; with a given id (a scheduled time), only once: (run, created)."""
    at = _now()
    run_id = run_id or uuid.uuid4().hex
    body = {
        "trigger": trigger,
        "requested_by": requested_by,
        "companies": companies,
        "document_type": document_type,
        "scheduled_for": scheduled_for,
    }
    record = WorkLogRecord(
        *_run_key(run_id),
        owner=RUNS_OWNER,  # listed, so that runs a restart interrupted can be found
        created_at=at.isoformat(),
        body=json.dumps(body),
        expires_at=_expires(at),
        scan_complete=False,
        queued=0,
        posted=0,
        failed=0,
        returned=0,
        skipped=0,
        completed=0,
    )
    try:
        record.save(condition=WorkLogRecord.pk.does_not_exist())
        return get_run(run_id), True
    except PutError as exc:
        if is_condition_failure(exc):
            return get_run(run_id), False
        raise


def get_run(run_id: str) -> Run:
    try:
        record = WorkLogRecord.get(*_run_key(run_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"Run {run_id!r} does not exist.", code="run_not_found") from exc
    return _run_of(run_id, record)


def _run_of(run_id: str, record: WorkLogRecord) -> Run:
    body = json.loads(record.body or "{}")
    return Run(
        id=run_id,
        trigger=body.get("trigger", ""),
        requested_by=body.get("requested_by", ""),
        created_at=record.created_at or "",
        companies=body.get("companies"),
        document_type=body.get("document_type"),
        scheduled_for=body.get("scheduled_for"),
        cursor=json.loads(record.cursor) if record.cursor else None,
        scan_complete=bool(record.scan_complete),
        counts={name: int(getattr(record, name) or 0) for name in COUNTER_NAMES},
    )


def advance_run(
    run: Run, new_cursor: dict[str, Any] | None, queued: int, scan_complete: bool
) -> None:
    """Move the run's scan from `run.cursor` to `new_cursor`, counting what was queued.

    Conditional on the cursor still being the one read, so a redelivered continuation that
    already advanced does not count its documents twice.
    """
    record = WorkLogRecord(*_run_key(run.id))
    expected = json.dumps(run.cursor) if run.cursor is not None else None
    condition = (
        WorkLogRecord.cursor.does_not_exist()
        if expected is None
        else WorkLogRecord.cursor == expected
    )
    actions: list[Any] = [
        WorkLogRecord.queued.add(queued),
        WorkLogRecord.scan_complete.set(scan_complete),
    ]
    actions.append(
        WorkLogRecord.cursor.set(json.dumps(new_cursor))
        if new_cursor is not None
        else WorkLogRecord.cursor.set(json.dumps({"done": True}))
    )
    try:
        record.update(actions=actions, condition=condition & (WorkLogRecord.scan_complete == False))  # noqa: E712
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise Conflict("The run's scan moved on already.", code="run_advanced") from exc
        raise


def runs_since(since: datetime) -> list[Run]:
    """The runs created since `since`, oldest first (the by-owner index, no scan)."""
    return [
        _run_of(record.pk.removeprefix("RUN#"), record)
        for record in WorkLogRecord.by_owner.query(
            RUNS_OWNER, WorkLogRecord.created_at >= since.isoformat()
        )
        if record.sk == "RUN"
    ]


def restart_scan(run: Run) -> bool:
    """Start the run's scan again, counting as queued only what is done already.

    For a run whose queued messages were lost (the local stack's in-memory queues across a
    restart): the scan queues again whatever of its work is still due, and the run finishes
    when those messages are processed. Conditional on the counters read, so two recoveries
    at once restart it once; False when it moved meanwhile.
    """
    record = WorkLogRecord(*_run_key(run.id))
    done = run.counts.get("done", 0)
    condition = (
        (WorkLogRecord.queued == run.counts.get("queued", 0))
        & (WorkLogRecord.scan_complete == run.scan_complete)
        & (WorkLogRecord.done == done if done else WorkLogRecord.done.does_not_exist())
    )
    try:
        record.update(
            actions=[
                WorkLogRecord.queued.set(done),
                WorkLogRecord.scan_complete.set(False),
                WorkLogRecord.cursor.remove(),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


class RunMissing(Conflict):
    """The run a message belongs to has no record (it expired, or was never written)."""


def _counter(outcome: Outcome) -> NumberAttribute:
    attribute: NumberAttribute = getattr(WorkLogRecord, RUN_COUNTERS[Outcome(outcome)])
    return attribute


def counted(run_id: str, *outcomes: Outcome, done: bool = False, times: int = 1) -> Write:
    """Add `times` of each `outcome` to the run's counters (and as many `done` messages), in
    a transaction; RunMissing when the run has no record."""
    actions = [_counter(outcome).add(times) for outcome in outcomes]
    if done:
        actions.append(WorkLogRecord.done.add(times))
    return Write.update(
        WorkLogRecord(*_run_key(run_id)),
        actions,
        WorkLogRecord.pk.exists(),
        refusal=RunMissing(
            f"Run {run_id!r} has no record (it expired or was never written).",
            code="run_not_found",
            details={"run_id": run_id},
        ),
    )


def count_abandoned(run_id: str) -> Run | None:
    """One of the run's messages was given up on (it reached the dead-letter queue): it counts
    as processed, and as abandoned, so the run can finish. The run as this update left it."""
    record = WorkLogRecord(*_run_key(run_id))
    try:
        record.update(
            actions=[WorkLogRecord.done.add(1), WorkLogRecord.abandoned.add(1)],
            condition=WorkLogRecord.pk.exists(),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None  # the run expired meanwhile
        raise
    return _run_of(run_id, record)


def count_done(run_id: str | None, *outcomes: Outcome) -> Run | None:
    """One more of the run's messages is fully processed (with these outcomes): the run as
    this update left it, or None when the run has no record."""
    if not run_id:
        return None
    record = WorkLogRecord(*_run_key(run_id))
    actions = [_counter(outcome).add(1) for outcome in outcomes]
    try:
        record.update(
            actions=[*actions, WorkLogRecord.done.add(1)], condition=WorkLogRecord.pk.exists()
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return None  # the run expired meanwhile
        raise
    return _run_of(run_id, record)


def find_run(run_id: str) -> Run | None:
    """The run, or None when it has no record."""
    try:
        return get_run(run_id)
    except NotFound:
        return None


# -- worker log groups -----------------------------------------------------------------------


def _group_key(group_id: str) -> tuple[str, str]:
    return f"LOG#{group_id}", "GROUP"


def group_created(owner: str, email: str, title: str) -> tuple[str, Write]:
    """A new worker log group's id and its write, for a transaction."""
    at = _now()
    group_id = uuid.uuid4().hex
    write = Write.put(
        WorkLogRecord(
            *_group_key(group_id),
            owner=owner,
            created_at=at.isoformat(),
            body=json.dumps({"title": title, "email": email}),
            expires_at=_expires(at),
        ),
        WorkLogRecord.pk.does_not_exist(),
        refusal=Conflict(
            "A worker log group with this id exists already.", code="log_group_exists"
        ),
    )
    return group_id, write


def create_group(owner: str, email: str, title: str) -> str:
    at = _now()
    group_id = uuid.uuid4().hex
    WorkLogRecord(
        *_group_key(group_id),
        owner=owner,
        created_at=at.isoformat(),
        body=json.dumps({"title": title, "email": email}),
        expires_at=_expires(at),
    ).save(condition=WorkLogRecord.pk.does_not_exist())
    return group_id


def _entry_record(group_id: str, entry: LogEntry) -> WorkLogRecord:
    at = datetime.fromisoformat(entry.at)
    return WorkLogRecord(
        f"LOG#{group_id}",
        f"ENTRY#{entry.at}#{entry.document_id}#{uuid.uuid4().hex[:8]}",
        # an entry of a run is listed under `RUN#<run id>` by the by-owner index
        owner=f"{RUN_OWNER}{entry.run_id}" if entry.run_id else None,
        created_at=entry.at if entry.run_id else None,
        body=json.dumps(asdict(entry)),
        expires_at=_expires(at),
    )


def groups_in_run(run_id: str) -> list[str]:
    """The worker log groups the run wrote entries into (the by-owner index, no scan)."""
    found: dict[str, None] = {}
    for record in WorkLogRecord.by_owner.query(f"{RUN_OWNER}{run_id}"):
        found.setdefault(record.pk.removeprefix("LOG#"))
    return list(found)


def entry_added(group_id: str, entry: LogEntry) -> Write:
    """The log entry's write, for a transaction (each entry has a key of its own)."""
    return Write.put(_entry_record(group_id, entry))


def add_entry(group_id: str, entry: LogEntry) -> None:
    _entry_record(group_id, entry).save()


def _entry(record: WorkLogRecord) -> LogEntry:
    data = json.loads(record.body or "{}")
    return LogEntry(
        at=data["at"],
        document_id=data["document_id"],
        reference=data["reference"],
        document_type=data["document_type"],
        action=data["action"],
        outcome=data["outcome"],
        errors=data.get("errors", []),
        run_id=data.get("run_id"),
        attempt=int(data.get("attempt", 0)),
        documents=list(data.get("documents", [])),
    )


def group_title(group_id: str) -> str | None:
    """The worker log group's title (one read of its header), or None when it is gone."""
    try:
        header = WorkLogRecord.get(*_group_key(group_id), consistent_read=True)
    except DoesNotExist:
        return None
    return str(json.loads(header.body or "{}").get("title", ""))


def get_group(group_id: str, with_entries: bool = True) -> LogGroup:
    records = list(WorkLogRecord.query(f"LOG#{group_id}", consistent_read=True))
    header = next((r for r in records if r.sk == "GROUP"), None)
    if header is None:
        raise NotFound(f"Worker log group {group_id!r} does not exist.", code="log_group_not_found")
    body = json.loads(header.body or "{}")
    entries = [_entry(r) for r in records if r.sk.startswith("ENTRY#")] if with_entries else []
    return LogGroup(
        id=group_id,
        owner=header.owner or "",
        email=body.get("email", ""),
        title=body.get("title", ""),
        created_at=header.created_at or "",
        entries=entries,
    )


def groups_of(owner: str, limit: int = 100) -> list[LogGroup]:
    found = []
    for record in WorkLogRecord.by_owner.query(owner, scan_index_forward=False, limit=limit):
        if record.sk != "GROUP":
            continue
        body = json.loads(record.body or "{}")
        found.append(
            LogGroup(
                id=record.pk.removeprefix("LOG#"),
                owner=owner,
                email=body.get("email", ""),
                title=body.get("title", ""),
                created_at=record.created_at or "",
                entries=[],
            )
        )
    return found


def delete_group(group_id: str) -> None:
    """Remove the group first (so nothing more is said about it), then its entries."""
    WorkLogRecord(*_group_key(group_id)).delete()
    with WorkLogRecord.batch_write() as batch:
        for record in WorkLogRecord.query(f"LOG#{group_id}", consistent_read=True):
            batch.delete(record)


# -- digest claims: each run's e-mail to each person, once -----------------------------------

CLAIMED, SENT, SENDING = "claimed", "sent", "sending"


@dataclass(frozen=True)
class DigestClaim:
    """`claimed`: this caller may send (with `token`); `sent`: it went already; `sending`:
    another caller holds an unexpired claim."""

    state: str
    token: str | None = None


def _claim_key(run_id: str, recipient: str) -> tuple[str, str]:
    return f"RUN#{run_id}", f"NOTIFY#{recipient}"


def claim_digest(run_id: str, recipient: str, now: float, hold_seconds: float) -> DigestClaim:
    """Take the right to send the run's digest to `recipient` (a conditional write).

    Granted when nobody claimed it, when an earlier send failed (`unsent`), or when a claim
    was left `sending` past its hold (its holder died before it could record the outcome).
    """
    token = uuid.uuid4().hex
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    free = (
        WorkLogRecord.pk.does_not_exist()
        | (WorkLogRecord.claim_state == "unsent")
        | ((WorkLogRecord.claim_state == SENDING) & (WorkLogRecord.claim_until < now))
    )
    try:
        record.update(
            actions=[
                WorkLogRecord.claim_state.set(SENDING),
                WorkLogRecord.claim_token.set(token),
                WorkLogRecord.claim_until.set(now + hold_seconds),
                WorkLogRecord.expires_at.set(_expires(_now())),
            ],
            condition=free,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        current = WorkLogRecord.get(*_claim_key(run_id, recipient), consistent_read=True)
        return DigestClaim(SENT if current.claim_state == SENT else SENDING)
    return DigestClaim(CLAIMED, token)


def digest_sent(run_id: str, recipient: str, token: str, message_id: str) -> bool:
    """Record that the digest went (False if the claim had expired and was taken over)."""
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    try:
        record.update(
            actions=[
                WorkLogRecord.claim_state.set(SENT),
                WorkLogRecord.body.set(
                    json.dumps({"message_id": message_id, "sent_at": _now().isoformat()})
                ),
            ],
            condition=WorkLogRecord.claim_token == token,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def digest_unsent(run_id: str, recipient: str, token: str) -> None:
    """Give the claim back after a failed send, so that the retry may claim it at once."""
    record = WorkLogRecord(*_claim_key(run_id, recipient))
    try:
        record.update(
            actions=[WorkLogRecord.claim_state.set("unsent")],
            condition=(WorkLogRecord.claim_token == token) & (WorkLogRecord.claim_state == SENDING),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def digest_state(run_id: str, recipient: str) -> str | None:
    """`sending`, `sent`, `unsent`, or None when never claimed."""
    try:
        record = WorkLogRecord.get(*_claim_key(run_id, recipient), consistent_read=True)
    except DoesNotExist:
        return None
    return record.claim_state
