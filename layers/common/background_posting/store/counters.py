"""Per-company number sequences (SIN000042, TRN000007), kept in the companies table.

A number is taken inside the same DynamoDB transaction that writes what it numbers: the
counter item is updated on the condition that it still holds the value read, so two writers
can never take one number and a failed write never burns one (no gaps, strictly in order).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from background_posting.domain.errors import DomainError
from background_posting.store.base import StoreModel, register
from background_posting.store.writes import Write


@register(lambda s: s.companies_table)
class CounterRecord(StoreModel):
    class Meta:
        table_name = "companies"

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)


def _kind(prefix: str) -> str:
    return f"counter#{prefix}"


def current(company_id: str, prefix: str) -> int:
    try:
        return int(CounterRecord.get(company_id, _kind(prefix), consistent_read=True).value)
    except DoesNotExist:
        return 0


def take_next(company_id: str, prefix: str, seen: int, count: int = 1) -> Write:
    """The write that moves the counter from `seen` to `seen + count` (numbers `seen + 1` to
    `seen + count` taken at once): a race if another writer moved it first."""
    condition: Condition = (
        CounterRecord.value.does_not_exist() if seen == 0 else CounterRecord.value == seen
    )
    return Write.update(
        CounterRecord(company_id, _kind(prefix)),
        [CounterRecord.value.set(seen + count)],
        condition,
        race=True,
    )


def key(company_id: str, prefix: str) -> tuple[str, str]:
    """The counter's key in the companies table (for a caller's batch read)."""
    return company_id, _kind(prefix)


def unchanged(company_id: str, prefix: str, seen: int, refusal: DomainError) -> Write:
    """The check that the counter still holds `seen` (no number taken since), for a
    transaction; `refusal` when it moved."""
    condition: Condition = (
        CounterRecord.value.does_not_exist() if seen == 0 else CounterRecord.value == seen
    )
    return Write.check(CounterRecord, company_id, _kind(prefix), condition, refusal=refusal)
