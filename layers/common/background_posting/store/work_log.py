"""The work log table, and its runs (worker log groups: `log_groups`; digests: `digest_claims`).

* a run: `pk = RUN#<id>`, `sk = RUN`, with its scope, its scan cursor and outcome counters;
* a worker log group: `pk = LOG#<id>`, `sk = GROUP`, `owner` = the user who submitted the
  work (the `by-owner` index lists a user's groups, newest first);
* a log entry: `pk = LOG#<id>`, `sk = ENTRY#<time>#<document>#<unique>`: one result of one
  attempt at one document's worker item, with every error in full; an entry written by a
  run has `owner = RUN#<run id>`, so the `by-owner` index lists a run's entries;
* a digest's claim: `pk = RUN#<run id>`, `sk = NOTIFY#<recipient>`: the once-only record of
  the run's e-mail to one person (`claim_state` sending | sent | unsent);
* a run's participant: `pk = RUN#<run id>`, `sk = PARTICIPANT#<user>`, `owner =
  RUNS-OF#<user>`, `created_at` = the run's: written (idempotently) when the run's scan queues
  work that user submitted, so the `by-owner` index lists the runs that processed a user's
  work, newest first, and one GetItem says whether a run did.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting import clock
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.work import (
    COUNTER_NAMES,
    RUN_COUNTERS,
    Outcome,
    Run,
)
from background_posting.store import page_tokens
from background_posting.store.base import StoreModel, is_condition_failure, register
from background_posting.store.writes import Write

RETENTION = timedelta(days=90)
RUN_OWNER = "RUN#"  # the by-owner index key of a run's log entries
RUNS_OWNER = "RUNS"  # the by-owner index key under which every run is listed by creation time
PARTICIPANT_OWNER = "RUNS-OF#"  # the by-owner index key of the runs that processed a user's work


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
    waiting_for_goods = NumberAttribute(null=True)  # of `failed`: invoices short of goods
    claim_state = UnicodeAttribute(null=True)  # a digest's claim: sending | sent | unsent
    claim_token = UnicodeAttribute(null=True)
    claim_until = NumberAttribute(null=True)

    by_owner = ByOwner()


def expiry(at: datetime) -> int:
    """When a work log item written at `at` expires (TTL, seconds since the epoch)."""
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
    document: tuple[str, str] | None = None,
) -> tuple[Run, bool]:
    """Record a new run; with a given id (a scheduled time), only once: (run, created). A run
    over one document (Retry now) names it: `document` = (its id, its number)."""
    at = clock.now()
    run_id = run_id or uuid.uuid4().hex
    body = {
        "trigger": trigger,
        "requested_by": requested_by,
        "companies": companies,
        "document_type": document_type,
        "scheduled_for": scheduled_for,
    }
    if document is not None:
        body["document"], body["reference"] = document
    record = WorkLogRecord(
        *_run_key(run_id),
        owner=RUNS_OWNER,  # listed, so that runs a restart interrupted can be found
        created_at=at.isoformat(),
        body=json.dumps(body),
        expires_at=expiry(at),
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
        document=body.get("document"),
        reference=body.get("reference"),
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


# -- who a run processed work for, and lists of runs -------------------------------------------


def _participant_key(run_id: str, user: str) -> tuple[str, str]:
    return f"RUN#{run_id}", f"PARTICIPANT#{user}"


def add_participants(run: Run, users: Iterable[str]) -> int:
    """Record that the run processes work these users submitted: one item per (run, user),
    written with a plain PutItem of the same values each time (idempotent: a redelivered scan
    page, or two scans at once, leave one item). Outside any posting's commit. How many were
    written."""
    created = datetime.fromisoformat(run.created_at)
    written = 0
    for user in sorted(set(users)):
        WorkLogRecord(
            *_participant_key(run.id, user),
            owner=f"{PARTICIPANT_OWNER}{user}",
            created_at=run.created_at,
            expires_at=expiry(created),
        ).save()
        written += 1
    return written


def add_participant_once(run_id: str, created_at: str, user: str) -> bool:
    """The participant item, unless it exists (the migration's write): True when written."""
    record = WorkLogRecord(
        *_participant_key(run_id, user),
        owner=f"{PARTICIPANT_OWNER}{user}",
        created_at=created_at,
        expires_at=expiry(datetime.fromisoformat(created_at)),
    )
    try:
        record.save(condition=WorkLogRecord.pk.does_not_exist())
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def took_part(run_id: str, user: str) -> bool:
    """Whether the run processed work `user` submitted (one GetItem)."""
    try:
        WorkLogRecord.get(*_participant_key(run_id, user), consistent_read=True)
    except DoesNotExist:
        return False
    return True


@dataclass(frozen=True)
class RunsPage:
    runs: list[Run]
    next_token: str | None


_LIST_KEY = frozenset({"pk", "sk", "owner", "created_at"})


def list_runs(
    user: str | None,
    since: str | None,
    until: str | None,
    keep: Callable[[Run], bool],
    limit: int,
    token: str | None,
    terms: tuple[object, ...] = (),
) -> RunsPage:
    """A page of runs, newest first: every run (`user` None: the `RUNS` key of the by-owner
    index) or those that processed `user`'s work (their participant items, then one
    BatchGetItem of the runs), started within [`since`, `until`] (ISO 8601, either open),
    those `keep` accepts. A Query (and a BatchGetItem), never a scan; `next` resumes after
    the last index item read, bound to this query (`terms`: the filters `keep` applies)."""
    owner = RUNS_OWNER if user is None else f"{PARTICIPANT_OWNER}{user}"
    query = ("runs", owner, since, until, *terms)
    start = (
        page_tokens.start_key(
            token,
            query,
            _LIST_KEY,
            lambda key: key["owner"] == owner and key["pk"].startswith("RUN#"),
            another="another query (another user or filter)",
        )
        if token
        else None
    )
    condition: Any = None
    if since is not None and until is not None:
        condition = WorkLogRecord.created_at.between(since, until)
    elif since is not None:
        condition = WorkLogRecord.created_at >= since
    elif until is not None:
        condition = WorkLogRecord.created_at <= until
    result = WorkLogRecord.by_owner.query(
        owner,
        condition,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start,
        page_size=limit,
    )
    records = list(result)
    if user is None:
        runs = [_run_of(r.pk.removeprefix("RUN#"), r) for r in records if r.sk == "RUN"]
    else:
        ids = list(dict.fromkeys(r.pk.removeprefix("RUN#") for r in records))
        found = {
            r.pk.removeprefix("RUN#"): _run_of(r.pk.removeprefix("RUN#"), r)
            for r in WorkLogRecord.batch_get([_run_key(i) for i in ids], consistent_read=True)
        }
        runs = [found[run_id] for run_id in ids if run_id in found]
    return RunsPage(
        [run for run in runs if keep(run)],
        page_tokens.token_for(query, result.last_evaluated_key),
    )
