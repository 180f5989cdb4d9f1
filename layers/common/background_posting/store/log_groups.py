"""Worker log groups and their entries, in the work log table (layout: `work_log`).

A group is what a user's submitted work reports into (the console's worker log); an entry is
one result of one attempt at one document's worker item, with every error in full. Both
expire by TTL after `work_log.RETENTION`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from background_posting import clock
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.work import LogEntry, LogGroup
from background_posting.store import page_tokens
from background_posting.store.work_log import RUN_OWNER, WorkLogRecord, expiry
from background_posting.store.writes import Write


def _group_key(group_id: str) -> tuple[str, str]:
    return f"LOG#{group_id}", "GROUP"


def _group_record(
    group_id: str, owner: str, email: str, title: str, companies: Iterable[str]
) -> WorkLogRecord:
    at = clock.now()
    return WorkLogRecord(
        *_group_key(group_id),
        owner=owner,
        created_at=at.isoformat(),
        body=json.dumps({"title": title, "email": email, "companies": sorted(set(companies))}),
        expires_at=expiry(at),
    )


def group_created(
    owner: str, email: str, title: str, companies: Iterable[str]
) -> tuple[str, Write]:
    """A new worker log group's id and its write, for a transaction; `companies`: those of
    the documents submitted, which decide which administrators may read it."""
    group_id = uuid.uuid4().hex
    write = Write.put(
        _group_record(group_id, owner, email, title, companies),
        WorkLogRecord.pk.does_not_exist(),
        refusal=Conflict(
            "A worker log group with this id exists already.", code="log_group_exists"
        ),
    )
    return group_id, write


def create_group(owner: str, email: str, title: str, companies: Iterable[str]) -> str:
    group_id = uuid.uuid4().hex
    _group_record(group_id, owner, email, title, companies).save(
        condition=WorkLogRecord.pk.does_not_exist()
    )
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
        expires_at=expiry(at),
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
        companies=tuple(body.get("companies", ())),
    )


def _header_group(record: WorkLogRecord, entries: list[LogEntry]) -> LogGroup:
    body = json.loads(record.body or "{}")
    return LogGroup(
        id=record.pk.removeprefix("LOG#"),
        owner=record.owner or "",
        email=body.get("email", ""),
        title=body.get("title", ""),
        created_at=record.created_at or "",
        entries=entries,
        companies=tuple(body.get("companies", ())),
    )


@dataclass(frozen=True)
class GroupsPage:
    groups: list[LogGroup]
    next_token: str | None


_GROUPS_KEY = frozenset({"pk", "sk", "owner", "created_at"})


def groups_of(owner: str, limit: int = 100, token: str | None = None) -> GroupsPage:
    """A page of `owner`'s worker log groups, newest first (the by-owner index, a Query);
    `next` resumes after the last one read, bound to the owner."""
    query = ("groups", owner)
    start = (
        page_tokens.start_key(
            token,
            query,
            _GROUPS_KEY,
            lambda key: key["owner"] == owner and key["pk"].startswith("LOG#"),
            another="another owner",
        )
        if token
        else None
    )
    result = WorkLogRecord.by_owner.query(
        owner, scan_index_forward=False, limit=limit, last_evaluated_key=start, page_size=limit
    )
    found = [_header_group(record, []) for record in result if record.sk == "GROUP"]
    return GroupsPage(found, page_tokens.token_for(query, result.last_evaluated_key))


@dataclass(frozen=True)
class GroupPage:
    group: LogGroup
    """The group, with this page's entries."""
    next_token: str | None


_ENTRIES_KEY = frozenset({"pk", "sk"})


def group_page(group_id: str, limit: int, token: str | None) -> GroupPage:
    """The group's header (a GetItem) and a page of its entries in the order they were
    written (a Query of its key); `next` resumes after the last entry read, bound to the
    group."""
    query = ("group", group_id)
    start = (
        page_tokens.start_key(
            token,
            query,
            _ENTRIES_KEY,
            lambda key: key["pk"] == f"LOG#{group_id}" and key["sk"].startswith("ENTRY#"),
            another="another worker log group",
        )
        if token
        else None
    )
    try:
        header = WorkLogRecord.get(*_group_key(group_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Worker log group {group_id!r} does not exist.", code="log_group_not_found"
        ) from exc
    result = WorkLogRecord.query(
        f"LOG#{group_id}",
        WorkLogRecord.sk.startswith("ENTRY#"),
        consistent_read=True,
        limit=limit,
        last_evaluated_key=start,
        page_size=limit,
    )
    entries = [_entry(record) for record in result]
    return GroupPage(
        _header_group(header, entries), page_tokens.token_for(query, result.last_evaluated_key)
    )


def delete_group(group_id: str) -> None:
    """Remove the group first (so nothing more is said about it), then its entries."""
    WorkLogRecord(*_group_key(group_id)).delete()
    with WorkLogRecord.batch_write() as batch:
        for record in WorkLogRecord.query(f"LOG#{group_id}", consistent_read=True):
            batch.delete(record)


# -- a run's results -----------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    group_id: str
    entry: LogEntry


@dataclass(frozen=True)
class RunResultsPage:
    results: list[RunResult]
    next_token: str | None


_RESULT_KEY = frozenset({"pk", "sk", "owner", "created_at"})


def results_of_run(
    run_id: str, outcome: str | None, limit: int, token: str | None
) -> RunResultsPage:
    """A page of the run's log entries in the order they were written (the by-owner index,
    `RUN#<run id>`: a Query, no scan), with the group each is in; `next` resumes after the
    last entry read, bound to this run and outcome."""
    query = ("results", run_id, outcome)
    start = (
        page_tokens.start_key(
            token,
            query,
            _RESULT_KEY,
            lambda key: (
                key["owner"] == f"{RUN_OWNER}{run_id}"
                and key["pk"].startswith("LOG#")
                and key["sk"].startswith("ENTRY#")
            ),
            another="another run or outcome",
        )
        if token
        else None
    )
    result = WorkLogRecord.by_owner.query(
        f"{RUN_OWNER}{run_id}", limit=limit, last_evaluated_key=start, page_size=limit
    )
    found = []
    for record in result:
        entry = _entry(record)
        if outcome is None or entry.outcome == outcome:
            found.append(RunResult(record.pk.removeprefix("LOG#"), entry))
    return RunResultsPage(found, page_tokens.token_for(query, result.last_evaluated_key))


def group_owners(group_ids: Iterable[str]) -> dict[str, str]:
    """Each existing group's owner (one BatchGetItem per 100 groups)."""
    keys = [_group_key(group_id) for group_id in sorted(set(group_ids))]
    return {
        record.pk.removeprefix("LOG#"): record.owner or ""
        for record in WorkLogRecord.batch_get(keys)
    }
