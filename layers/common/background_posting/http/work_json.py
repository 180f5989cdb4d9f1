"""The JSON of the work vocabulary (`domain.work`): worker items, runs, log groups, entries.

The API's words live here, not in the domain: a run's `returned` counter is
`returned_to_in_progress`, its `done` is `processed`, and a worker item says whether a worker
holds it now rather than until when. `jsonable` applies the same shapes to an error's
details, so a 409 that names the worker items in the way lists them as `GET /worker-items`
does.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from background_posting import clock
from background_posting.domain.work import LogEntry, LogGroup, Run, WorkerItem

RUN_COUNT_KEYS: tuple[tuple[str, str], ...] = (
    ("queued", "queued"),
    ("posted", "posted"),
    ("completed", "completed"),
    ("failed", "failed"),
    ("returned_to_in_progress", "returned"),
    ("skipped", "skipped"),
    ("processed", "done"),
    ("abandoned", "abandoned"),
    ("waiting_for_goods", "waiting_for_goods"),
)
"""(the API's key, the run's counter) for each count of a run's JSON."""


def _at(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def worker_item_json(item: WorkerItem, now: float | None = None) -> dict[str, Any]:
    now = clock.timestamp() if now is None else now
    return {
        "reference": item.reference,
        "number": item.reference,
        "account": item.account,
        "document_id": item.document_id,
        "document_type": item.document_type,
        "company": item.company,
        "action": item.action,
        "sequence": item.sequence,
        "attempts": item.attempts,
        "max_attempts": item.max_attempts,
        "last_error": item.last_error,
        "submitted_by": item.submitted_by,
        "log_group": item.log_group,
        "created_at": item.created_at,
        "held_by_worker": item.held_at(now),
        "state": item.state_at(now),
        # a held item's next try is when its lease runs out; a waiting one's, its retry delay
        "next_try": _at(
            item.lease_until
            if item.held_at(now) and item.lease_until is not None
            else max(item.not_before, now)
        ),
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "requested_by": run.requested_by,
        "started_by": run.requested_by,
        "created_at": run.created_at,
        "started_at": run.created_at,
        "scheduled_for": run.scheduled_for,
        "scope": {
            "companies": run.companies or "all",
            "document_type": run.document_type,
            "document": run.document,
            "reference": run.reference,
        },
        "status": run.status,
        "counts": {key: run.counts.get(counter, 0) for key, counter in RUN_COUNT_KEYS},
    }


def entry_json(entry: LogEntry) -> dict[str, Any]:
    return asdict(entry)


def group_json(group: LogGroup, with_entries: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id,
        "owner": group.owner,
        "title": group.title,
        "created_at": group.created_at,
    }
    if with_entries:
        body["entries"] = [entry_json(e) for e in group.entries]
        body["summary"] = group.summary
    return body


def jsonable(value: Any) -> Any:
    """`value` with every worker item, run, log group or entry in it as its JSON."""
    if isinstance(value, WorkerItem):
        return worker_item_json(value)
    if isinstance(value, Run):
        return run_json(value)
    if isinstance(value, LogGroup):
        return group_json(value)
    if isinstance(value, LogEntry):
        return entry_json(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
