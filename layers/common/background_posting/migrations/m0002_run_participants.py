"""Migration 2: the participants of runs recorded before runs recorded them.

A run now records, as its scan queues work, each submitter of that work (store/work_log.py,
`PARTICIPANT#<user>`), which is how `GET /runs` lists a user's runs and `GET /runs/{id}` lets
them read one. A run stored before that has none; its participants are the owners of the
worker log groups its entries went to. The step reads a page of runs by the `by-owner`
index's `RUNS` key (oldest first, a Query), each run's groups by its `RUN#<id>` key, their
owners in one BatchGetItem, and writes each missing participant conditionally (never twice,
whoever else writes it meanwhile: a run's own scan, or another runner of this migration).
"""

from __future__ import annotations

from typing import Any

from background_posting.store import log_groups, work_log
from background_posting.store.work_log import RUNS_OWNER, WorkLogRecord

PAGE_SIZE = 50
"""Runs examined per step."""


def step(cursor: dict[str, Any] | None, page_size: int = PAGE_SIZE) -> tuple[int, Any]:
    """One page of runs: each gets the participant items it lacks. Answers (participants
    written, the cursor after the page; None when no run is left)."""
    result = WorkLogRecord.by_owner.query(
        RUNS_OWNER,
        limit=page_size,
        page_size=page_size,
        last_evaluated_key=cursor or None,
    )
    runs = [(r.pk.removeprefix("RUN#"), r.created_at or "") for r in result if r.sk == "RUN"]
    changed = 0
    for run_id, created_at in runs:
        owners = set(log_groups.group_owners(log_groups.groups_in_run(run_id)).values())
        for owner in sorted(owners - {""}):
            if work_log.add_participant_once(run_id, created_at, owner):
                changed += 1
    return changed, result.last_evaluated_key
