"""Tests of a company's settings and the custom validations it sets up as data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import Document
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.ledger import TransactionDraft, build_transaction
from background_posting.domain.settings import BackgroundPostingSettings, CompanySettings
from background_posting.domain.validations import GLAccountNotAllowed, MaxLineValue
from tests.support.data import account_body, company_body
from tests.support.ledger import make_document

COMPANY = Company.model_validate(company_body())
ACCOUNTS = {
    "CUST01": Account.model_validate(account_body("CUST01")),
    "VEND01": Account.model_validate(account_body("VEND01", kind="vendor")),
}


def with_rules(*rules: dict[str, Any]) -> CompanySettings:
    return CompanySettings.model_validate({"custom_validations": list(rules)})


def post(document: Document, *rules: dict[str, Any]) -> TransactionDraft:
    return build_transaction(document, COMPANY, ACCOUNTS, with_rules(*rules))


def problems_of(document: Document, *rules: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailed) as failed:
        post(document, *rules)
    errors: list[dict[str, str]] = failed.value.details["errors"]
    return errors


# -- accounting settings -------------------------------------------------------------------


def test_new_settings_use_250_lines_for_every_type() -> None:
    settings = CompanySettings()
    assert settings.line_thresholds == {
        "sales_invoice": 250,
        "sales_credit_note": 250,
        "payable_invoice": 250,
        "payable_credit_note": 250,
    }
    assert settings.journal_line_limit == 250
    assert settings.custom_validations == []


def test_a_type_left_out_of_the_thresholds_uses_250() -> None:
    settings = CompanySettings.model_validate(
        {"line_thresholds": {"sales_invoice": 10}, "journal_line_limit": 5000}
    )
    assert settings.threshold_for("sales_invoice") == 10
    assert settings.threshold_for("payable_credit_note") == 250
    assert settings.threshold_for("journal") == 5000
    assert settings.model_dump(mode="json")["line_thresholds"]["payable_invoice"] == 250


@pytest.mark.parametrize(
    "body",
    [
        {"line_thresholds": {"sales_invoice": 0}},
        {"line_thresholds": {"sales_invoice": 100_001}},
        {"line_thresholds": {"journal": 10}},
        {"journal_line_limit": 0},
        {"custom_validations": [{"rule": "max_line_value", "amount": "1"}] * 101},
        {"custom_validations": [{"rule": "no_such_rule"}]},
        {"custom_validations": [{"rule": "required_field", "field": "lines.quantity"}]},
        {"custom_validations": [{"rule": "max_line_value", "amount": 5000.0}]},
        {"custom_validations": [{"rule": "max_line_value", "amount": "-1"}]},
        {"custom_validations": [{"rule": "gl_account_not_allowed", "gl_accounts": []}]},
        {"custom_validations": [{"rule": "max_line_value", "amount": "1", "colour": "red"}]},
        {"line_threshold": 100},
    ],
)
def test_settings_out_of_bounds_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CompanySettings.model_validate(body)


def test_background_posting_settings_default_to_three_attempts_and_allow_up_to_twenty() -> None:
    assert BackgroundPostingSettings() == BackgroundPostingSettings(
        max_attempts_avatax=3, max_attempts=3
    )
    assert BackgroundPostingSettings.model_validate({"max_attempts": 20}).max_attempts == 20
    for bad in ({"max_attempts": 0}, {"max_attempts_avatax": 21}, {"retries": 2}):
        with pytest.raises(ValidationError):
            BackgroundPostingSettings.model_validate(bad)


def test_custom_validations_read_back_as_the_json_they_were_given() -> None:
    rules = [
        {"rule": "required_field", "field": "reference", "document_types": ["sales_invoice"]},
        {"rule": "max_document_total", "amount": "10000.00", "message": "Ask finance first."},
        {"rule": "gl_account_not_allowed", "gl_accounts": ["9999", "9998"]},
        {"rule": "max_line_value", "amount": "5000.00"},
    ]
    settings = CompanySettings.model_validate({"custom_validations": rules})
    assert isinstance(settings.custom_validations[2], GLAccountNotAllowed)
    assert isinstance(settings.custom_validations[3], MaxLineValue)
    dumped = settings.model_dump(mode="json", exclude_defaults=True)["custom_validations"]
    assert dumped == rules
    assert CompanySettings.model_validate_json(settings.model_dump_json()) == settings


# -- each rule -----------------------------------------------------------------------------


def test_a_required_reference_stops_a_document_without_one() -> None:
    rule = {"rule": "required_field", "field": "reference"}
    assert problems_of(make_document(), rule) == [
        {
            "code": "required_field",
            "message": "SIN000042 has no reference, which this company requires.",
            "field": "reference",
        }
    ]
    assert post(make_document(reference="PO-7"), rule).document_number == "SIN000042"


def test_a_required_line_field_names_every_line_without_it() -> None:
    lines = [
        {"quantity": "1", "unit_price": "1", "gl_account": "4100"},
        {"quantity": "1", "unit_price": "1"},
        {"quantity": "1", "unit_price": "1", "gl_account": "4200"},
        {"quantity": "1", "unit_price": "1"},
    ]
    rule = {"rule": "required_field", "field": "lines.gl_account"}
    problems = problems_of(make_document(lines=lines), rule)
    assert [(p["code"], p["field"]) for p in problems] == [
        ("required_field", "lines[1].gl_account"),
        ("required_field", "lines[3].gl_account"),
    ]
    assert problems[0]["message"] == (
        "Line 2 of SIN000042 has no GL account, which this company requires."
    )


def test_a_required_account_applies_to_journals_too_and_a_tax_code_never_does() -> None:
    journal = make_document("journal")
    assert [
        p["field"] for p in problems_of(journal, {"rule": "required_field", "field": "account"})
    ] == ["account"]
    assert post(journal, {"rule": "required_field", "field": "lines.tax_code"}).lines


def test_a_document_total_over_the_limit_in_home_currency_is_stopped() -> None:
    # Given a limit of 40.00 (home GBP) and a USD invoice of 52.99 USD = 41.86 GBP
    rule = {"rule": "max_document_total", "amount": "40.00"}
    invoice = make_document(currency="USD")

    problems = problems_of(invoice, rule)

    assert problems == [
        {
            "code": "max_document_total",
            "message": "SIN000042 totals 41.86 GBP in home currency, more than the 40.00 GBP "
            "this company allows.",
            "field": "lines",
        }
    ]
    # and the same invoice in GBP (52.99 GBP) is stopped too, while a limit of 41.86 passes it
    assert problems_of(make_document(), rule)[0]["code"] == "max_document_total"
    assert post(invoice, {"rule": "max_document_total", "amount": "41.86"}).lines


def test_a_credit_note_is_held_to_the_same_total_limit() -> None:
    rule = {"rule": "max_document_total", "amount": "50"}
    assert problems_of(make_document("sales_credit_note"), rule)[0]["code"] == "max_document_total"


def test_a_barred_gl_account_is_caught_on_a_line_and_as_a_default() -> None:
    # Given revenue (4000, the default) and 9999 barred
    lines = [
        {"quantity": "1", "unit_price": "1", "gl_account": "9999"},
        {"quantity": "1", "unit_price": "1", "gl_account": "4100"},
        {"quantity": "1", "unit_price": "1"},
    ]
    rule = {"rule": "gl_account_not_allowed", "gl_accounts": ["9999", "4000"]}

    problems = problems_of(make_document(lines=lines), rule)

    assert problems == [
        {
            "code": "gl_account_not_allowed",
            "message": "Line 1 of SIN000042 posts to GL account 9999, which this company does "
            "not allow.",
            "field": "lines[0].gl_account",
        },
        {
            "code": "gl_account_not_allowed",
            "message": "Line 3 of SIN000042 posts to GL account 4000 (the company's default for "
            "it), which this company does not allow.",
            "field": "lines[2].gl_account",
        },
    ]


def test_a_barred_gl_account_is_caught_on_a_journal_line() -> None:
    rule = {"rule": "gl_account_not_allowed", "gl_accounts": ["2400"]}
    problems = problems_of(make_document("journal"), rule)
    assert [p["field"] for p in problems] == ["lines[1].gl_account"]


def test_a_line_worth_more_than_the_limit_is_stopped_whatever_its_sign() -> None:
    lines = [
        {"quantity": "2", "unit_price": "2500.00"},
        {"quantity": "-1", "unit_price": "5000.01"},
        {"quantity": "1", "unit_price": "5000.004"},
    ]
    rule = {"rule": "max_line_value", "amount": "5000.00"}
    problems = problems_of(make_document(lines=lines), rule)
    assert problems == [
        {
            "code": "max_line_value",
            "message": "Line 2 of SIN000042 is worth 5,000.01 GBP, more than the 5,000.00 GBP "
            "this company allows on one line.",
            "field": "lines[1].unit_price",
        }
    ]


def test_a_rule_applies_only_to_the_document_types_it_names() -> None:
    rule = {"rule": "required_field", "field": "reference", "document_types": ["payable_invoice"]}
    assert post(make_document("sales_invoice"), rule).lines
    assert problems_of(make_document("payable_invoice"), rule)[0]["code"] == "required_field"


def test_a_companys_own_message_replaces_the_explanation_but_keeps_the_place() -> None:
    lines = [{"quantity": "1", "unit_price": "1"}, {"quantity": "1", "unit_price": "1"}]
    rule = {
        "rule": "required_field",
        "field": "lines.description",
        "message": "Describe every line for the auditors.",
    }
    messages = [p["message"] for p in problems_of(make_document(lines=lines), rule)]
    assert messages == [
        "Line 1 of SIN000042: Describe every line for the auditors.",
        "Line 2 of SIN000042: Describe every line for the auditors.",
    ]


def test_custom_problems_come_after_the_built_in_ones_and_all_are_reported() -> None:
    # Given a closed period, a missing reference and a barred GL account
    invoice = make_document(document_date="2026-10-02")
    rules = (
        {"rule": "required_field", "field": "reference"},
        {"rule": "gl_account_not_allowed", "gl_accounts": ["4000"]},
    )

    with pytest.raises(ValidationFailed) as failed:
        post(invoice, *rules)

    problems = failed.value.details["errors"]
    assert [(p["code"], p["field"]) for p in problems] == [
        ("period_closed", "document_date"),
        ("required_field", "reference"),
        ("gl_account_not_allowed", "lines[0].gl_account"),
        ("gl_account_not_allowed", "lines[1].gl_account"),
    ]
    assert failed.value.message.startswith("4 problems stop SIN000042 from posting:")


def test_no_rule_means_no_problem() -> None:
    assert post(make_document()).totals["gross"] == Decimal("52.99")
