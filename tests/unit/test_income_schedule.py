from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from background_posting.domain.company import Company
from background_posting.domain.documents import Document
from background_posting.domain.income_schedule import parts_of, plan_journals
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
        ("later", date(2027, 1, 30)),
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
