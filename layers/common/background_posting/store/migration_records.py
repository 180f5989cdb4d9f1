"""Which migrations of stored data have run, and where an unfinished one stopped.

One item per migration in the organisation table (`pk = MIGRATION`, `sk = <version>`): its
name, `done`, the cursor it resumes from (the last page's DynamoDB key, or None), how many
items it changed, and when it started and finished. Writing it after every page is what
makes a migration resumable: an interrupted run starts again from the stored cursor.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pynamodb.exceptions import DoesNotExist

from background_posting.store.org import OrgRecord

PK = "MIGRATION"


class MigrationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    name: str
    done: bool = False
    cursor: dict[str, Any] | None = None
    changed: int = 0
    started_at: datetime
    finished_at: datetime | None = None


def _sk(version: int) -> str:
    return f"{version:04d}"


def get_record(version: int) -> MigrationRecord | None:
    try:
        record = OrgRecord.get(PK, _sk(version), consistent_read=True)
    except DoesNotExist:
        return None
    return MigrationRecord.model_validate(json.loads(record.body or "{}"))


def save_record(record: MigrationRecord) -> None:
    OrgRecord(PK, _sk(record.version), body=record.model_dump_json()).save()
