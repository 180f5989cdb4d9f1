from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from background_posting.domain.company import Account, AccountPatch, Company, CompanyPatch
from background_posting.domain.money import Rate
from tests.support.data import account_body, company_body


def test_a_company_reads_its_rate_in_force_on_a_date() -> None:
    company = Company.model_validate(
        company_body(
            exchange_rates=[
                {
                    "from_currency": "USD",
                    "to_currency": "GBP",
                    "date": "2026-01-01",
                    "rate": "0.80",
                },
                {
                    "from_currency": "USD",
                    "to_currency": "GBP",
                    "date": "2026-06-01",
                    "rate": "0.75",
                },
                {
                    "from_currency": "USD",
                    "to_currency": "GBP",
                    "date": "2026-12-01",
                    "rate": "0.70",
                },
            ]
        )
    )
    assert company.rate("USD", "GBP", date(2026, 11, 24)) == Rate(Decimal("0.75"))
    assert company.rate("USD", "GBP", date(2026, 3, 1)) == Rate(Decimal("0.80"))
    assert company.rate("USD", "GBP", date(2025, 12, 31)) is None
    assert company.rate("GBP", "GBP", date(2020, 1, 1)) == Rate.one()


def test_a_rate_quoted_the_other_way_is_applied_by_dividing() -> None:
    company = Company.model_validate(
        company_body(
            exchange_rates=[
                {"from_currency": "EUR", "to_currency": "KWD", "date": "2026-01-01", "rate": "1.2"},
            ]
        )
    )
    rate = company.rate("KWD", "EUR", date(2026, 11, 24))
    assert rate is not None
    assert rate.apply(Decimal("0.414")) == Decimal("0.345")  # not 0.34499... from 1/1.2
    assert format(rate.value, ".4f") == "0.8333"


def test_on_the_same_date_a_rate_quoted_in_the_asked_direction_wins() -> None:
    company = Company.model_validate(
        company_body(
            exchange_rates=[
                {"from_currency": "KWD", "to_currency": "EUR", "date": "2026-01-01", "rate": "1"},
                {"from_currency": "EUR", "to_currency": "KWD", "date": "2026-01-01", "rate": "1.2"},
            ]
        )
    )
    assert company.rate("KWD", "EUR", date(2026, 2, 1)) == Rate(Decimal("1"))
    assert company.rate("EUR", "KWD", date(2026, 2, 1)) == Rate(Decimal("1.2"))


def test_a_company_finds_the_period_of_a_date() -> None:
    company = Company.model_validate(company_body())
    period = company.period_for(date(2026, 11, 24))
    assert period is not None and period.name == "2026-11"
    assert company.period_for(date(2026, 12, 1)) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"home_currency": "XXZ"}, "home_currency"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"periods": [{"name": "A", "start": "2026-02-01", "end": "2026-01-01"}]}, "periods"),
        (
            {
                "exchange_rates": [
                    {
                        "from_currency": "USD",
                        "to_currency": "GBP",
                        "date": "2026-01-01",
                        "rate": "0",
                    }
                ]
            },
            "exchange_rates",
        ),
        (
            {
                "exchange_rates": [
                    {
                        "from_currency": "USD",
                        "to_currency": "GBP",
                        "date": "2026-01-01",
                        "rate": 0.5,
                    }
                ]
            },
            "exchange_rates",
        ),
        (
            {"credit_terms": {"days_due": 30, "discounts": [{"days": 10, "percent": "120"}]}},
            "credit_terms",
        ),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_company_fields_are_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Company.model_validate(company_body(**change))
    assert field in {str(error["loc"][0]) for error in raised.value.errors()}


def test_overlapping_periods_are_refused() -> None:
    periods = [
        {"name": "A", "start": "2026-01-01", "end": "2026-01-31"},
        {"name": "B", "start": "2026-01-31", "end": "2026-02-28"},
    ]
    with pytest.raises(ValidationError, match="overlap"):
        Company.model_validate(company_body(periods=periods))


def test_a_patch_changes_only_what_it_names_and_is_validated_whole() -> None:
    company = Company.model_validate(company_body())
    renamed = CompanyPatch(name="New name").apply_to(company)
    assert renamed.name == "New name"
    assert renamed.model_dump(exclude={"name"}) == company.model_dump(exclude={"name"})
    with pytest.raises(ValidationError):
        CompanyPatch.model_validate({"id": "OTHER"})


def test_an_account_currency_is_its_first_trading_currency() -> None:
    account = Account.model_validate(account_body(trading_currencies=["usd", "GBP"]))
    assert account.account_currency == "USD"
    with pytest.raises(ValidationError):
        Account.model_validate(account_body(trading_currencies=[]))
    with pytest.raises(ValidationError):
        Account.model_validate(account_body(email="not-an-address"))
    amended = AccountPatch(trading_currencies=["EUR"]).apply_to(account)
    assert amended.trading_currencies == ["EUR"] and amended.id == account.id
