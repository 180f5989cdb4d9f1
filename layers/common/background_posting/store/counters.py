"""Per-company number sequences (SIN000042, TRN000007), kept in the companies table.

A number is taken inside the same DynamoDB transaction that writes what it numbers: the
counter item is updated on the condition that it still holds the value read, so two writers
can never take one number and a failed write never burns one (no gaps, strictly in order).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from background_posting.store.base import bound, register


@register(lambda s: s.companies_table)
class CounterRecord(Model):
    class Meta:
        table_name = "companies"

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)


def _kind(prefix: str) -> str:
    return f"counter#{prefix}"


def current(company_id: str, prefix: str) -> int:
    bound()
    try:
        return int(CounterRecord.get(company_id, _kind(prefix), consistent_read=True).value)
    except DoesNotExist:
        return 0


def take_next(tx: TransactWrite, company_id: str, prefix: str, seen: int) -> int:
    """Add to `tx` the update that moves the counter from `seen` to `seen + 1`; the new number."""
    condition: Condition = (
        CounterRecord.value.does_not_exist() if seen == 0 else CounterRecord.value == seen
    )
    tx.update(
        CounterRecord(company_id, _kind(prefix)),
        actions=[CounterRecord.value.set(seen + 1)],
        condition=condition,
    )
    return seen + 1


def check_unchanged(tx: TransactWrite, company_id: str, prefix: str, seen: int) -> None:
    """Add to `tx` the check that the counter still holds `seen` (no number taken since)."""
    condition: Condition = (
        CounterRecord.value.does_not_exist() if seen == 0 else CounterRecord.value == seen
    )
    tx.condition_check(CounterRecord, company_id, _kind(prefix), condition=condition)
