"""A company at every documented maximum fits its one DynamoDB item (400 KB) and posts:
5,000 exchange rates answered 500 (issue 31, item 5). The maximum is 2,000 rates; more is a
400 naming the field, and nothing is written."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body

CURRENCIES = ["USD", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD"]


def _rates(count: int) -> list[dict[str, str]]:
    """`count` rates into GBP with the longest rate text, and the GBP/EUR one the books use."""
    start = date(2000, 1, 1)
    rates = [
        {
            "from_currency": CURRENCIES[n % len(CURRENCIES)],
            "to_currency": "GBP",
            "date": (start + timedelta(days=n // len(CURRENCIES))).isoformat(),
            "rate": "123456789012345.1234567890123",
        }
        for n in range(count - 1)
    ]
    return [
        *rates,
        {"from_currency": "GBP", "to_currency": "EUR", "date": "2000-01-01", "rate": "1.15"},
    ]


def _periods(count: int) -> list[dict[str, str]]:
    """`count` monthly periods with names of the longest, the last one November 2026 (open)."""
    first = 2026 * 12 + 10 - (count - 1)
    periods = []
    for n in range(count):
        year, month = divmod(first + n, 12)
        start = date(year, month + 1, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        periods.append(
            {"name": f"{start:%Y-%m}".ljust(40, "x"), "start": start.isoformat(),
             "end": end.isoformat(), "status": "open"}
        )  # fmt: skip
    return periods


def _at_every_maximum(company_id: str, rates: int = 2000) -> dict[str, Any]:
    codes = [{"code": "STD", "rate": "20"}, {"code": "ZERO", "rate": "0"}]
    codes += [
        {"code": f"CODE{n:03d}".ljust(20, "X"), "rate": "12.5", "description": "d" * 200}
        for n in range(198)
    ]
    return company_body(
        company_id, exchange_rates=_rates(rates), periods=_periods(600), tax_codes=codes
    )


def test_a_company_at_every_maximum_is_created_amended_and_posts(api: Any) -> None:
    # Given a company with 600 periods, 2,000 rates and 200 tax codes, each at its longest
    headers = {"Idempotency-Key": "acme-at-every-maximum"}
    created = invoke_api(
        api, "POST", "/companies", "admin", _at_every_maximum("ACME"), headers=headers
    )
    again = invoke_api(
        api, "POST", "/companies", "admin", _at_every_maximum("ACME"), headers=headers
    )
    # Then it is created, once, and answered again from its key
    assert created.status == 201, created.body
    assert again.status == 201 and again.body == created.body
    read = invoke_api(api, "GET", "/companies/ACME", "clerk").body
    assert (len(read["periods"]), len(read["exchange_rates"]), len(read["tax_codes"])) == (
        600,
        2000,
        200,
    )
    # And it can be amended and posted in
    renamed = invoke_api(api, "PATCH", "/companies/ACME", "admin", {"name": "Acme Group"})
    assert renamed.status == 200, renamed.body
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    document = invoke_api(api, "POST", "/documents", "clerk", document_body()).body
    posted = invoke_api(
        api, "POST", f"/documents/{document['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert posted.status == 200 and posted.body["status"] == "Complete", posted.body


def test_more_exchange_rates_than_the_maximum_is_a_400_naming_the_field(api: Any) -> None:
    answer = invoke_api(
        api, "POST", "/companies", "admin", company_body(exchange_rates=_rates(2001))
    )
    assert answer.status == 400, answer.body
    assert [e["field"] for e in answer.body["error"]["details"]["errors"]] == ["exchange_rates"]
    assert invoke_api(api, "GET", "/companies/ACME", "admin").status == 404
    invoke_api(api, "POST", "/companies", "admin", company_body())
    amended = invoke_api(api, "PATCH", "/companies/ACME", "admin", {"exchange_rates": _rates(5000)})
    assert amended.status == 400 and amended.body["error"]["details"]["errors"][0]["field"] == (
        "exchange_rates"
    )
    assert len(invoke_api(api, "GET", "/companies/ACME", "admin").body["exchange_rates"]) == 2


def test_a_company_stored_with_more_rates_by_an_earlier_version_is_still_read(api: Any) -> None:
    # Given a company an earlier version stored with 3,000 short rates (it fitted then)
    from background_posting.domain.company import Company
    from background_posting.store import companies

    stored = Company.model_validate(company_body(exchange_rates=_short_rates(3000)))
    companies.CompanyRecord("ACME", companies.PROFILE, body=stored.model_dump_json()).save()
    # Then it is read, renamed, and refused only when its rates are given again
    assert len(invoke_api(api, "GET", "/companies/ACME", "clerk").body["exchange_rates"]) == 3000
    assert invoke_api(api, "PATCH", "/companies/ACME", "admin", {"name": "Acme"}).status == 200
    again = invoke_api(
        api, "PATCH", "/companies/ACME", "admin", {"exchange_rates": _short_rates(3000)}
    )
    assert again.status == 400 and again.body["error"]["details"]["errors"][0]["field"] == (
        "exchange_rates"
    )


def _short_rates(count: int) -> list[dict[str, str]]:
    return [{**rate, "rate": "1.1"} for rate in _rates(count)]
