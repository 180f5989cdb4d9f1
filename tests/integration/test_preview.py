"""Posting preview: the transaction posting would make, in three currencies, changing nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import boto3
import pytest

from background_posting.config import Settings
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    return api


def every_item(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every item of every table: what a preview must leave exactly as it was."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    tables = {
        name: getattr(settings, name)
        for name in type(settings).model_fields
        if name.endswith("_table")
    }
    found = {}
    for field, table in tables.items():
        items = client.scan(TableName=table, ConsistentRead=True)["Items"]
        found[field] = sorted(items, key=repr)
    return found


def test_a_preview_shows_the_transaction_in_three_currencies_and_changes_nothing(
    acme: Any, aws: Settings
) -> None:
    # Given a US-dollar invoice of a GBP company reporting in EUR (two lines, one taxed at 20%)
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body(currency="USD")).body
    doc = f"/documents/{created['id']}"
    before = every_item(aws)
    # When the clerk previews its posting
    answer = invoke_api(acme, "POST", f"{doc}/preview", "clerk")
    # Then the answer is the transaction posting would make
    assert answer.status == 200, answer.body
    preview = answer.body
    assert preview["can_post"] is True and preview["problems"] == []
    assert preview["totals"] == {
        "net": "45.49",
        "tax": "7.50",
        "gross": "52.99",
        "taxes": [{"tax_code": "STD", "tax": "7.50"}, {"tax_code": "ZERO", "tax": "0.00"}],
        "tax_known": True,
    }
    transaction = preview["transaction"]
    assert transaction["number"] is None and transaction["period"] == "2026-11"
    assert (
        transaction["currency"],
        transaction["home_currency"],
        transaction["dual_currency"],
    ) == (
        "USD",
        "GBP",
        "EUR",
    )
    lines = transaction["lines"]
    assert [(line["kind"], line["document_value"]) for line in lines] == [
        ("control", "52.99"),
        ("analysis", "-37.50"),
        ("analysis", "-7.99"),
        ("tax", "-7.50"),
        ("tax", "0.00"),
        ("rounding", "0.00"),  # converting line by line leaves a residue in home or dual
    ]
    for column in ("document_value", "home_value", "dual_value"):
        assert sum(Decimal(line[column]) for line in lines) == 0
    control = next(line for line in lines if line["kind"] == "control")
    assert control["home_value"] == "41.86"  # 52.99 USD x 0.79
    assert control["dual_value"] == "48.14"  # 41.86 GBP x 1.15
    assert transaction["discount"]["tiers"][0]["document_amount"] == "1.06"  # 2% of 52.99
    # and nothing changed: every table holds what it held (no number, ledger item, counter)
    assert every_item(aws) == before
    after = invoke_api(acme, "GET", doc, "clerk").body
    assert after["version"] == created["version"] and after["status"] == "In Progress"
    assert invoke_api(acme, "GET", f"{doc}/transaction", "clerk").status == 404
    # and posting afterwards gives the transaction the preview showed
    posted = invoke_api(acme, "POST", f"{doc}/post", "clerk", {"mode": "immediate"})
    assert posted.status == 200
    real = invoke_api(acme, "GET", f"{doc}/transaction", "clerk").body
    assert real["number"] == "TRN000001"
    assert [
        (line["kind"], line["document_value"], line["home_value"], line["dual_value"])
        for line in real["lines"]
    ] == [
        (line["kind"], line["document_value"], line["home_value"], line["dual_value"])
        for line in lines
    ]


def test_a_preview_lists_every_problem_and_changes_nothing(acme: Any, aws: Settings) -> None:
    # Given an invoice in a closed period with an unknown tax code, in a currency not traded
    body = document_body(document_date="2026-10-15", currency="JPY")
    body["lines"][0]["tax_code"] = "NOPE"
    created = invoke_api(acme, "POST", "/documents", "clerk", body).body
    before = every_item(aws)
    # When it is previewed
    answer = invoke_api(acme, "POST", f"/documents/{created['id']}/preview", "clerk")
    # Then the preview is an answer, not an error: it lists every problem in words
    assert answer.status == 200
    assert answer.body["can_post"] is False and answer.body["transaction"] is None
    problems = {p["code"]: p for p in answer.body["problems"]}
    assert {"period_closed", "currency_not_traded", "tax_code_unknown"} <= set(problems)
    assert problems["tax_code_unknown"]["field"] == "lines[0].tax_code"
    assert problems["period_closed"]["message"].startswith("SIN000001 is dated 2026-10-15")
    # and the totals are still shown (the unknown code counts no tax)
    assert answer.body["totals"]["net"] == "46"
    assert every_item(aws) == before


def test_a_posted_document_has_no_preview(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    invoke_api(acme, "POST", f"/documents/{created['id']}/post", "clerk", {"mode": "immediate"})
    answer = invoke_api(acme, "POST", f"/documents/{created['id']}/preview", "clerk")
    assert answer.status == 409 and answer.error_code == "document_complete"
    assert answer.body["error"]["message"] == "SIN000001 is Complete: it cannot be previewed."
