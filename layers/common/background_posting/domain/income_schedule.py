"""Income schedules: how a deferred line's income is recognised, period by period.

A sales invoice line with an income schedule (n periods of a frequency) is posted to
deferred income. Its net value is then moved to revenue by one journal per period:
`round(net / n)` for each period and, on the last one, whatever makes the parts add up to
the net exactly. Journal k is dated k periods after the invoice date, stepped from the
invoice date itself (`period_date`): a day the month lacks becomes its last day (31 January
+ 1 month is 28 or 29 February), and an invoice dated on a month end has every journal on a
month end (30 September over 4 months: 30 Sep, 31 Oct, 30 Nov, 31 Dec).

A part whose date falls in a closed period can no longer be posted on its own date: such
parts are recognised together by one **adjustment journal**, dated on the invoice's own
date (whose period is open: the invoice has just been posted in it). A part whose period
does not exist yet waits: its journal is queued to post on its date.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from background_posting.domain.company import Company
from background_posting.domain.documents import Document, DocumentLine, JournalLine
from background_posting.domain.money import round_money

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}
_NAMESPACE = uuid.UUID("6f1d9c52-2f4e-4a77-9f0b-3d6a1c9e8b10")


@dataclass(frozen=True)
class PlannedJournal:
    """One journal of an invoice's income schedules, with a stable id (safe to repeat)."""

    id: str
    document_date: date
    description: str
    lines: tuple[JournalLine, ...]
    when: str  # "now" (open period), "later" (period not set up yet) or "adjustment"


def _id(*parts: object) -> str:
    return uuid.uuid5(_NAMESPACE, ":".join(map(str, parts))).hex


def period_date(start: date, months: int) -> date:
    """The date `months` months after `start`, always stepped from `start` itself (never
    from the previous period's date, which would drift: 30 Sep, 30 Oct, 30 Nov...). A day
    the target month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb), and a month
    end stays a month end (30 Sep + 1 month = 31 Oct)."""
    on = start + relativedelta(months=months)
    if start.day == calendar.monthrange(start.year, start.month)[1]:
        on = on.replace(day=calendar.monthrange(on.year, on.month)[1])
    return on


def parts_of(net: Decimal, periods: int, currency: str) -> list[Decimal]:
    """`periods` amounts that add up to `net` exactly, the last one taking the remainder."""
    each = round_money(net / periods, currency)
    parts = [each] * (periods - 1)
    parts.append(net - sum(parts, Decimal(0)))
    return parts


def plan_journals(invoice: Document, company: Company) -> list[PlannedJournal]:
    """The journals that recognise every scheduled line of a posted sales invoice."""
    deferred = company.gl_accounts.deferred_income
    catch_up: list[JournalLine] = []
    planned: list[PlannedJournal] = []
    for index, line in enumerate(invoice.lines):
        if not isinstance(line, DocumentLine) or line.income_schedule is None:
            continue
        schedule = line.income_schedule
        revenue = line.gl_account or company.gl_accounts.revenue
        net = round_money(line.quantity * line.unit_price, invoice.currency)
        step = MONTHS[schedule.frequency]
        for k, part in enumerate(parts_of(net, schedule.periods, invoice.currency)):
            on = period_date(invoice.document_date, step * k)
            text = (
                f"Income schedule {invoice.number} line {index + 1}: "
                f"period {k + 1} of {schedule.periods}"
            )
            lines = (
                JournalLine(gl_account=deferred, value=part, description=text),
                JournalLine(gl_account=revenue, value=-part, description=text),
            )
            period = company.period_for(on)
            if period is not None and period.status == "closed":
                catch_up.extend(lines)
                continue
            planned.append(
                PlannedJournal(
                    id=_id(invoice.id, index, k),
                    document_date=on,
                    description=text,
                    lines=lines,
                    when="now" if period is not None else "later",
                )
            )
    if catch_up:
        planned.insert(
            0,
            PlannedJournal(
                id=_id(invoice.id, "adjustment"),
                document_date=invoice.document_date,
                description=f"Income schedule adjustment for {invoice.number}: periods "
                "already closed",
                lines=tuple(catch_up),
                when="adjustment",
            ),
        )
    return planned
