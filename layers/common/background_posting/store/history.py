"""History and audit: what changed, who changed it and when, written with the change itself.

Every change of a document appends one history entry *in the same transaction* as the change
(a companion of the document's write: `document_store.moved`, `save_amendment`,
`append_lines`, `insert_document` all require the `Change` they make), so the history and the
document never disagree: a change that is refused or lost leaves no entry, and an entry
never describes a change that did not happen. Reference data and settings (a company, its
periods and rates, accounts, company settings, background posting settings, the schedule)
append an audit entry in the transaction of their own write.

Both live in the documents table, kept as long as the ledger (no TTL), apart from the worker
log (which expires) and from the document's own items, so a document read never reads them:

* a document's history: `pk = HIST#<document id>`, `sk = <version>#<stamp>#<action>`, oldest
  first (by the document's version, then time: an entry that does not move the version, such
  as removing worker items, sorts after the change that made that version);
* the audit: one partition, `pk = AUDIT`, `sk = <ISO time>#<company>#<id>`, read by time range
  (changes of reference data are rare: a few a day, far below a partition's write limit).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting import clock
from background_posting.domain.errors import Conflict
from background_posting.store import page_tokens
from background_posting.store.base import StoreModel, register
from background_posting.store.writes import Write

ORGANISATION = "*"
"""The audit's company for changes of the whole organisation (schedule, background posting
settings)."""


@dataclass(frozen=True)
class Change:
    """What a change of a document is, for its history: the action, who made it and what
    else is worth keeping (the fields an amendment changed, the run, the reason)."""

    action: str
    by: str
    details: Mapping[str, Any] = field(default_factory=dict)


class _ByCompany(GlobalSecondaryIndex["HistoryRecord"]):
    """The documents table's index (document_store.ByCompany): the store's one connection keeps
    the schema of the first model it meets on a table, so each model on it declares it whole."""

    class Meta:
        index_name = "by-company"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


@register(lambda s: s.documents_table)
class HistoryRecord(StoreModel):
    class Meta:
        table_name = "documents"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    company = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)

    by_company = _ByCompany()


@dataclass(frozen=True)
class Entry:
    at: datetime
    by: str
    action: str
    from_status: str | None
    to_status: str | None
    details: Mapping[str, Any]
    version: int

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "action": self.action,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "details": dict(self.details),
            "version": self.version,
        }


def _history_pk(document_id: str) -> str:
    return f"HIST#{document_id}"


def entry(
    document_id: str,
    change: Change,
    *,
    from_status: str | None,
    to_status: str | None,
    version: int,
) -> Write:
    """The history entry of one change of a document, for the change's own transaction."""
    at = clock.now()
    body = Entry(at, change.by, change.action, from_status, to_status, change.details, version)
    sk = f"{version:010d}#{at.strftime('%Y%m%dT%H%M%S%f')}#{change.action}#{uuid.uuid4().hex[:8]}"
    return Write.put(
        HistoryRecord(
            _history_pk(document_id),
            sk,
            body=json.dumps(body.as_json(), separators=(",", ":"), default=str),
        ),
        HistoryRecord.pk.does_not_exist(),
        refusal=Conflict("A history entry exists already.", code="concurrent_update"),
    )


def _entry(record: HistoryRecord) -> Entry:
    data = json.loads(record.body or "{}")
    return Entry(
        at=datetime.fromisoformat(data["at"]),
        by=data.get("by", ""),
        action=data["action"],
        from_status=data.get("from_status"),
        to_status=data.get("to_status"),
        details=data.get("details") or {},
        version=int(data.get("version") or 0),
    )


@dataclass(frozen=True)
class Page:
    entries: list[Any]
    next_token: str | None


_KEY = frozenset({"pk", "sk"})


def history_of(document_id: str, limit: int, token: str | None) -> Page:
    """A page of the document's history, oldest first (a Query of its partition)."""
    pk = _history_pk(document_id)
    query = ("history", document_id)
    start = (
        page_tokens.start_key(
            token, query, _KEY, lambda key: key["pk"] == pk, another="another document"
        )
        if token
        else None
    )
    result = HistoryRecord.query(
        pk, limit=limit, last_evaluated_key=start, page_size=limit, consistent_read=True
    )
    entries = [_entry(record) for record in result]
    return Page(entries, page_tokens.token_for(query, result.last_evaluated_key))


# -- the audit of reference data and settings -----------------------------------------------

AUDIT_PK = "AUDIT"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    by: str
    company: str
    subject: str
    action: str
    before: Any
    after: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "by": self.by,
            "company": None if self.company == ORGANISATION else self.company,
            "subject": self.subject,
            "action": self.action,
            "before": self.before,
            "after": self.after,
        }


MAX_AUDIT_BYTES = 64_000
"""What an audit entry keeps of the fields changed; beyond it, their names and sizes."""


def audited(
    company: str,
    subject: str,
    action: str,
    by: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> Write:
    """The audit entry of one change of reference data or settings, for its transaction.

    `subject` names what changed (`company ACME`, `account CUST01`, `settings`, `schedule`);
    `before` and `after` are the whole thing as it was and is (JSON-ready; None: created or
    removed): the entry keeps the fields that differ."""
    at = clock.now()
    was, now = changed_fields(before or {}, after or {})
    if len(json.dumps([was, now], default=str)) > MAX_AUDIT_BYTES:
        was = {name: _size(value) for name, value in was.items()}
        now = {name: _size(value) for name, value in now.items()}
    body = AuditEntry(
        at,
        by,
        company,
        subject,
        action,
        None if before is None else was,
        None if after is None else now,
    )
    sk = f"{at.isoformat()}#{company}#{uuid.uuid4().hex[:12]}"
    return Write.put(
        HistoryRecord(
            AUDIT_PK,
            sk,
            company=company,
            body=json.dumps(body.as_json(), separators=(",", ":"), default=str),
        ),
        HistoryRecord.pk.does_not_exist(),
        refusal=Conflict("An audit entry exists already.", code="concurrent_update"),
    )


def _audit_entry(record: HistoryRecord) -> AuditEntry:
    data = json.loads(record.body or "{}")
    return AuditEntry(
        at=datetime.fromisoformat(data["at"]),
        by=data.get("by", ""),
        company=record.company or ORGANISATION,
        subject=data.get("subject", ""),
        action=data.get("action", ""),
        before=data.get("before"),
        after=data.get("after"),
    )


def audit(
    companies: Collection[str] | None,
    start: str | None,
    end: str | None,
    limit: int,
    token: str | None,
) -> Page:
    """A page of audit entries from `start` to `end` (UTC ISO 8601 times, inclusive), oldest
    first, of these companies and of the organisation (None: every company). A Query of the
    audit's partition by time; the companies are a filter on it."""
    wanted = None if companies is None else sorted({*companies, ORGANISATION})
    query = ("audit", wanted, start, end)
    begin = start or "0"
    finish = f"{end or '9999'}~"
    resume = (
        page_tokens.start_key(
            token,
            query,
            _KEY,
            lambda key: key["pk"] == AUDIT_PK and begin <= key["sk"] <= finish,
            another="another audit query",
        )
        if token
        else None
    )
    condition = None if wanted is None else HistoryRecord.company.is_in(*wanted)
    result = HistoryRecord.query(
        AUDIT_PK,
        HistoryRecord.sk.between(begin, finish),
        filter_condition=condition,
        limit=limit,
        last_evaluated_key=resume,
        page_size=limit,
        consistent_read=True,
    )
    entries = [_audit_entry(record) for record in result]
    return Page(entries, page_tokens.token_for(query, result.last_evaluated_key))


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """The fields that differ between two JSON-ready objects: (before, after) of those only.
    Lists of objects (periods, rates, tax codes) are told by what was removed and added, so an
    entry stays small however long the list."""
    was: dict[str, Any] = {}
    now: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, list) and isinstance(new, list):
            old_keys, new_keys = _keyed(old), _keyed(new)
            removed = [item for key, item in old_keys.items() if key not in new_keys]
            added = [item for key, item in new_keys.items() if key not in old_keys]
            was[name], now[name] = {"removed": removed}, {"added": added}
            continue
        was[name], now[name] = old, new
    return was, now


def _keyed(items: list[Any]) -> dict[str, Any]:
    return {json.dumps(item, sort_keys=True, default=str): item for item in items}


def _size(value: Any) -> Any:
    """A value too large to keep, told by its size."""
    if isinstance(value, dict) and set(value) <= {"added", "removed"}:
        return {key: f"{len(items)} entries" for key, items in value.items()}
    return f"{len(json.dumps(value, default=str)):,} characters"
