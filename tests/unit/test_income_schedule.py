import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.company import Company
from background_posting.domain.documents import Document
from background_posting.domain.income_schedule import parts_of, period_date, plan_journals
from tests.support.data import company_body


def invoice(lines: list[dict[str, Any]], on: date = date(2026, 11, 30)) -> Document:
    return Document.model_validate(
        {
            "id": "a" * 32,
            "number": "SIN000042",
            "type": "sales_invoice",
            "company": "ACME",
            "account": "CUST01",
            "document_date": on,
            "currency": "GBP",
            "tax_mode": "builtin",
            "lines": lines,
            "created_at": "2026-11-30T10:00:00Z",
            "created_by": "clerk",
            "updated_at": "2026-11-30T10:00:00Z",
        }
    )


def company(periods: list[tuple[str, str, str, str]]) -> Company:
    return Company.model_validate(
        company_body(
            periods=[{"name": n, "start": s, "end": e, "status": st_} for n, s, e, st_ in periods]
        )
    )


@given(
    net=st.decimals(min_value=Decimal("-99999"), max_value=Decimal("99999"), places=2),
    periods=st.integers(1, 36),
)
def test_the_parts_add_up_to_the_net_exactly(net: Decimal, periods: int) -> None:
    parts = parts_of(net, periods, "GBP")
    assert sum(parts) == net and len(parts) == periods
    assert all(p.as_tuple().exponent == -2 for p in parts)
    assert max(parts) - min(parts) <= Decimal("0.01") * periods


def test_one_journal_per_period_month_ends_kept_closed_periods_caught_up_future_ones_wait() -> None:
    # Given an invoice of 30 November with a line of 100.00 over 3 months
    doc = invoice(
        [
            {
                "description": "Support",
                "quantity": "1",
                "unit_price": "100.00",
                "income_schedule": {"periods": 3, "frequency": "monthly"},
            },
            {"description": "Set-up", "quantity": "1", "unit_price": "50.00"},
        ]
    )
    # and November open, December already closed, January not set up yet
    firm = company(
        [
            ("2026-11", "2026-11-01", "2026-11-30", "open"),
            ("2026-12", "2026-12-01", "2026-12-31", "closed"),
        ]
    )
    # When the journals are planned
    planned = plan_journals(doc, firm)
    # Then December's part is caught up by an adjustment on the invoice date
    assert [(p.when, p.document_date) for p in planned] == [
        ("adjustment", date(2026, 11, 30)),
        ("now", date(2026, 11, 30)),
        ("later", date(2027, 1, 31)),
    ]
    values = [[line.value for line in p.lines] for p in planned]
    assert values == [
        [Decimal("33.33"), Decimal("-33.33")],
        [Decimal("33.33"), Decimal("-33.33")],
        [Decimal("33.34"), Decimal("-33.34")],
    ]
    assert {line.gl_account for p in planned for line in p.lines} == {"2300", "4000"}
    # and planning again gives the same journals (the same ids: safe to repeat)
    assert [p.id for p in plan_journals(doc, firm)] == [p.id for p in planned]


def test_a_month_end_invoice_recognises_on_month_ends() -> None:
    doc = invoice(
        [
            {
                "description": "x",
                "quantity": "1",
                "unit_price": "3.00",
                "income_schedule": {"periods": 3, "frequency": "monthly"},
            }
        ],
        date(2027, 1, 31),
    )
    firm = company([("2027-01", "2027-01-01", "2027-01-31", "open")])
    assert [p.document_date for p in plan_journals(doc, firm)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]


def test_an_invoice_of_30_september_over_4_months_recognises_on_each_month_end() -> None:
    # Given an invoice dated 30 September with a line over 4 monthly periods
    doc = invoice(
        [
            {
                "description": "Licence",
                "quantity": "1",
                "unit_price": "400.00",
                "income_schedule": {"periods": 4, "frequency": "monthly"},
            }
        ],
        date(2026, 9, 30),
    )
    firm = company([("2026-09", "2026-09-01", "2026-09-30", "open")])
    # When its journals are planned
    dates = [p.document_date.isoformat() for p in plan_journals(doc, firm)]
    # Then they fall on 30 Sep, 31 Oct, 30 Nov and 31 Dec (not 30 Oct, 30 Dec)
    assert dates == ["2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31"]


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


@given(
    start=st.dates(min_value=date(1996, 1, 1), max_value=date(2104, 12, 31)),
    step=st.sampled_from([1, 3, 12]),
    periods=st.integers(1, 60),
)
def test_journal_k_is_k_periods_after_the_invoice_and_month_ends_stay_month_ends(
    start: date, step: int, periods: int
) -> None:
    # Given any invoice date (every month, leap years included) and a schedule
    dates = [period_date(start, step * k) for k in range(periods)]
    for k, on in enumerate(dates):
        # Then journal k is in the month k periods after the invoice's month
        months = start.year * 12 + start.month - 1 + step * k
        year, month0 = divmod(months, 12)
        assert (on.year, on.month) == (year, month0 + 1)
        # and on the invoice's day, or the month's last day when the month is shorter
        last = calendar.monthrange(on.year, on.month)[1]
        assert on.day == min(start.day, last) or (_is_month_end(start) and on.day == last)
        # and an invoice on a month end gives journals on month ends only
        if _is_month_end(start):
            assert _is_month_end(on)
    # and the dates increase, never drifting: each is stepped from the invoice date itself
    assert dates == sorted(dates) and dates[0] == start


def test_month_ends_in_a_leap_year() -> None:
    # 31 January 2028 (a leap year) month by month: 29 February, then 31 March
    assert [period_date(date(2028, 1, 31), k) for k in range(3)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
    ]
    # 29 February 2028 is a month end: a year on it is 28 February 2029, a month on 31 March
    assert period_date(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert period_date(date(2028, 2, 29), 1) == date(2028, 3, 31)
    # 28 February 2027 (not a leap year) is a month end too
    assert period_date(date(2027, 2, 28), 1) == date(2027, 3, 31)
    assert period_date(date(2027, 2, 28), 12) == date(2028, 2, 29)
    assert period_date(date(2027, 2, 28), 12) - timedelta(days=1) == date(2028, 2, 28)
