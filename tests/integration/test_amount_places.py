"""Amounts with more decimals than their currency has are refused when entered, not at post."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    return api


def three_decimal_journal() -> dict[str, Any]:
    return document_body(
        "journal",
        lines=[
            {"gl_account": "6000", "value": "100.00"},
            {"gl_account": "6100", "value": "0.005"},
            {"gl_account": "2400", "value": "-100.005"},
        ],
    )


def test_a_gbp_journal_with_three_decimals_is_refused_at_create_naming_each_line(
    acme: Any,
) -> None:
    # Given a GBP journal whose lines 2 and 3 carry three decimals
    # When it is created
    answer = invoke_api(acme, "POST", "/documents", "clerk", three_decimal_journal())
    # Then it is refused with a sentence naming the line, and its path for programs
    assert answer.status == 400 and answer.error_code == "invalid_request"
    assert answer.body["error"]["message"] == (
        "Value on line 2: 0.005 has more decimal places than GBP allows (2): enter it as 0.01. "
        "There is 1 more problem, listed with this one."
    )
    errors = answer.body["error"]["details"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("lines[1].value", "amount_precision"),
        ("lines[2].value", "amount_precision"),
    ]
    assert errors[1]["message"] == (
        "Value on line 3: -100.005 has more decimal places than GBP allows (2): "
        "enter it as -100.01."
    )
    # and nothing was created
    listed = invoke_api(acme, "GET", "/documents?company=ACME", "clerk")
    assert listed.body["documents"] == []


def test_a_jpy_journal_refuses_any_decimals_and_a_kwd_one_takes_three(acme: Any) -> None:
    yen = document_body(
        "journal",
        currency="JPY",
        lines=[{"gl_account": "6000", "value": "100.5"}, {"gl_account": "2400", "value": "-100.5"}],
    )
    refused = invoke_api(acme, "POST", "/documents", "clerk", yen)
    assert refused.status == 400
    assert refused.body["error"]["details"]["errors"][0]["message"] == (
        "Value on line 1: 100.5 has more decimal places than JPY allows (0): enter it as 101."
    )
    dinar = document_body(
        "journal",
        currency="KWD",
        lines=[
            {"gl_account": "6000", "value": "1.125"},
            {"gl_account": "2400", "value": "-1.125"},
        ],
    )
    assert invoke_api(acme, "POST", "/documents", "clerk", dinar).status == 201


def test_amending_a_journal_to_three_decimals_is_refused_and_changes_nothing(acme: Any) -> None:
    # Given a balanced GBP journal
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal")).body
    doc = f"/documents/{created['id']}"
    # When its lines are amended to three decimals
    answer = invoke_api(acme, "PATCH", doc, "clerk", {"lines": three_decimal_journal()["lines"]})
    # Then the amendment is refused naming the lines
    assert answer.status == 400
    fields = [e["field"] for e in answer.body["error"]["details"]["errors"]]
    assert fields == ["lines[1].value", "lines[2].value"]
    # and the journal is as it was
    after = invoke_api(acme, "GET", doc, "clerk").body
    assert [line["value"] for line in after["lines"]] == ["100.00", "-100.00"]
    assert after["version"] == created["version"]


def test_amending_a_journals_currency_so_its_values_have_too_many_decimals_is_refused(
    acme: Any,
) -> None:
    # Given a GBP journal of 100.50 (and 100.00, a whole number of yen)
    body = document_body(
        "journal",
        lines=[
            {"gl_account": "6000", "value": "100.50"},
            {"gl_account": "6100", "value": "100.00"},
            {"gl_account": "2400", "value": "-200.50"},
        ],
    )
    created = invoke_api(acme, "POST", "/documents", "clerk", body).body
    # When its currency is amended to JPY (no decimals)
    answer = invoke_api(acme, "PATCH", f"/documents/{created['id']}", "clerk", {"currency": "JPY"})
    # Then the lines with pence are named
    assert answer.status == 400
    fields = [e["field"] for e in answer.body["error"]["details"]["errors"]]
    assert fields == ["lines[0].value", "lines[2].value"]
    after = invoke_api(acme, "GET", f"/documents/{created['id']}", "clerk").body
    assert after["currency"] == "GBP"


def test_unit_prices_keep_their_decimals(acme: Any) -> None:
    # Given a GBP invoice line priced at 10.1234 (a price, not an amount)
    body = document_body()
    body["lines"][0]["unit_price"] = "10.1234"
    # When it is created
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    # Then it is accepted and the price kept as entered
    assert answer.status == 201, answer.body
    assert answer.body["lines"][0]["unit_price"] == "10.1234"
