"""Versioned upgrades of stored data, run after every deploy and at every local start.

Each migration is a version, a name and a `step`: one page of work from a cursor (None: the
start; `{}`: the start again), answering how many items it changed and the cursor after the
page (None: finished). A step is idempotent (it changes only what is still in the old shape,
each write conditional on what it read), so a page done twice, or two runners at once,
change nothing twice.

`run_migrations` runs the unfinished ones in version order, storing the cursor after every
page (store/migration_records.py), until all are done or `time_left()` says to stop; the
next run resumes where it stopped. Adding a migration: a module `m<version>_<name>.py` with a
`step`, and its row in `MIGRATIONS` (the test in tests/integration/test_migrations.py runs
every one twice, interrupted halfway).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from background_posting import clock
from background_posting.migrations import m0001_outstanding, m0002_run_participants
from background_posting.store import migration_records
from background_posting.store.migration_records import MigrationRecord

Cursor = dict[str, Any]
Step = Callable[[Cursor | None], tuple[int, Cursor | None]]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    step: Step


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "outstanding on documents posted before matching", m0001_outstanding.step),
    Migration(
        2, "participants of runs recorded before runs recorded them", m0002_run_participants.step
    ),
)

STOP_WITH_SECONDS_LEFT = 30.0
"""A deployed run stops a page early enough to store its cursor before Lambda's timeout."""


@dataclass(frozen=True)
class Report:
    version: int
    name: str
    done: bool
    changed: int

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "done": self.done,
            "changed": self.changed,
        }


def run_migrations(
    time_left: Callable[[], float] = lambda: float("inf"),
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[Report]:
    """Run what has not finished, in version order, page by page, while `time_left()` (in
    seconds) is above STOP_WITH_SECONDS_LEFT; a later migration waits for an earlier one."""
    reports = []
    for migration in sorted(migrations, key=lambda m: m.version):
        record = migration_records.get_record(migration.version) or MigrationRecord(
            version=migration.version, name=migration.name, started_at=clock.now()
        )
        while not record.done and time_left() > STOP_WITH_SECONDS_LEFT:
            changed, cursor = migration.step(record.cursor)
            record = record.model_copy(
                update={
                    "cursor": cursor,
                    "changed": record.changed + changed,
                    "done": cursor is None,
                    "finished_at": clock.now() if cursor is None else None,
                }
            )
            migration_records.save_record(record)
        reports.append(Report(migration.version, migration.name, record.done, record.changed))
        if not record.done:
            break
    return reports
