"""Recurring invoice templates, in the organisation table.

Keys: `pk = RECURRING`, `sk = <template id>`, so a run finds every template with one query
(no scan). A template's progress (`created_through`, the date of the last invoice it created)
moves forward with a write conditional on the body as it was read: two runs at once cannot
move it back, and the one that loses reads it again.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.recurring import RecurringInvoice
from background_posting.domain.types import STORED
from background_posting.store.base import is_condition_failure
from background_posting.store.org import OrgRecord

PARTITION = "RECURRING"


def _body(template: RecurringInvoice) -> str:
    return template.model_dump_json(exclude={"next_date"})


def insert(template: RecurringInvoice) -> RecurringInvoice:
    """Store a new template; condition: no template with its id exists."""
    try:
        OrgRecord(PARTITION, template.id, body=_body(template)).save(
            condition=OrgRecord.pk.does_not_exist()
        )
    except PutError as exc:
        if is_condition_failure(exc):
            raise Conflict(
                f"Recurring invoice {template.id} exists already.",
                code="recurring_invoice_exists",
            ) from exc
        raise
    return template


def get(template_id: str) -> RecurringInvoice:
    try:
        record = OrgRecord.get(PARTITION, template_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Recurring invoice {template_id!r} does not exist.",
            code="recurring_invoice_not_found",
            details={"id": template_id},
        ) from exc
    return RecurringInvoice.model_validate_json(record.body or "{}", context=STORED)


def active() -> list[RecurringInvoice]:
    """Every template that may still create invoices."""
    found = [
        RecurringInvoice.model_validate_json(record.body or "{}", context=STORED)
        for record in OrgRecord.query(PARTITION, consistent_read=True)
    ]
    return [template for template in found if template.status == "active"]


def replace(before: RecurringInvoice, after: RecurringInvoice) -> bool:
    """Write `after` over `before`; condition: the stored body is still `before`'s.
    False when someone else changed it first (nothing written)."""
    try:
        OrgRecord(PARTITION, after.id, body=_body(after)).save(
            condition=OrgRecord.body == _body(before)
        )
    except PutError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True
