"""Reference data that has been posted to cannot change under the books (DESIGN.md v1.1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.company import CompanyPatch, Period
from background_posting.domain.errors import Conflict
from background_posting.services import posting, reference_data
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.scenario import ADMIN, given_company, given_document


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/companies", "admin", company_body("BETA")).status == 201
    for body in (
        account_body("CUST01", "ACME"),
        account_body("CUST02", "ACME"),
        account_body("VEND01", "ACME", kind="vendor", trading_currencies=["GBP"]),
    ):
        assert invoke_api(api, "POST", "/accounts", "admin", body).status == 201
    return api


def post(api: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = invoke_api(api, "POST", "/documents", "clerk", body).body
    answer = invoke_api(
        api, "POST", f"/documents/{created['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert answer.status == 200, answer.body
    return dict(answer.body)


def company(api: Any) -> dict[str, Any]:
    return dict(invoke_api(api, "GET", "/companies/ACME", "admin").body)


def test_currencies_change_until_something_is_posted_then_never(acme: Any) -> None:
    # Given a company with nothing posted: its currencies may still be corrected
    fixed = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"dual_currency": "USD"})
    assert fixed.status == 200 and fixed.body["dual_currency"] == "USD"
    invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"dual_currency": "EUR"})
    # When a GBP invoice is posted
    post(acme, document_body())
    # Then changing the home or dual currency is refused and nothing changes
    for change in ({"home_currency": "JPY", "dual_currency": "KWD"}, {"dual_currency": "USD"}):
        refused = invoke_api(acme, "PATCH", "/companies/ACME", "admin", change | {"name": "X"})
        assert refused.status == 409 and refused.error_code == "company_has_postings"
    after = company(acme)
    assert (after["home_currency"], after["dual_currency"], after["name"]) == (
        "GBP",
        "EUR",
        "ACME Trading Ltd",
    )
    # And other fields still change
    renamed = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"name": "Acme Group"})
    assert renamed.status == 200


def test_a_period_with_postings_cannot_be_deleted_or_moved_but_may_be_closed(acme: Any) -> None:
    # Given an invoice posted in 2026-11 (2026-10 holds nothing)
    post(acme, document_body())
    periods = company(acme)["periods"]
    november = next(p for p in periods if p["name"] == "2026-11")
    # When the periods are emptied, 2026-11 renamed, or its dates moved
    attempts = [
        [],
        [dict(november, name="Nov-26")],
        [dict(november, end="2026-11-29")],
        [dict(november, start="2026-11-21")],
    ]
    for attempt in attempts:
        refused = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"periods": attempt})
        # Then each is refused, naming the period, and nothing changes
        assert refused.status == 409, (attempt, refused.body)
        assert refused.error_code == "period_has_postings"
        assert refused.body["error"]["details"]["periods"] == ["2026-11"]
    assert company(acme)["periods"] == periods
    # But it may be closed and reopened, and the empty period may go
    closed = [dict(november, status="closed")]
    answer = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"periods": closed})
    assert answer.status == 200 and answer.body["periods"] == closed
    reopened = [dict(november, status="open")]
    assert (
        invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"periods": reopened}).status == 200
    )


def test_one_period_is_closed_and_reopened_without_resending_the_list(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    # When an administrator closes 2026-11
    closed = invoke_api(
        acme, "PATCH", "/companies/ACME/periods/2026-11", "admin", {"status": "closed"}
    )
    # Then it is closed, the other periods are as they were, and posting in it is refused
    assert closed.status == 200, closed.body
    assert closed.body == {
        "name": "2026-11",
        "start": "2026-11-01",
        "end": "2026-11-30",
        "status": "closed",
    }
    periods = {p["name"]: p["status"] for p in company(acme)["periods"]}
    assert periods == {"2026-11": "closed", "2026-10": "closed"}
    refused = invoke_api(
        acme, "POST", f"/documents/{created['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert refused.status == 422
    assert refused.body["error"]["details"]["errors"][0]["code"] == "period_closed"
    # And reopened, the document posts
    reopened = invoke_api(
        acme, "PATCH", "/companies/ACME/periods/2026-11", "admin", {"status": "open"}
    )
    assert reopened.status == 200 and reopened.body["status"] == "open"
    posted = invoke_api(
        acme, "POST", f"/documents/{created['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert posted.status == 200
    # Only an administrator closes a period; an unknown period or status is named
    clerk = invoke_api(
        acme, "PATCH", "/companies/ACME/periods/2026-11", "clerk", {"status": "closed"}
    )
    unknown = invoke_api(
        acme, "PATCH", "/companies/ACME/periods/2027-01", "admin", {"status": "closed"}
    )
    bad = invoke_api(acme, "PATCH", "/companies/ACME/periods/2026-11", "admin", {"status": "shut"})
    assert clerk.status == 403 and unknown.status == 404 and bad.status == 400
    assert bad.body["error"]["details"]["errors"][0]["field"] == "status"


def test_an_account_changes_company_or_kind_only_until_it_is_posted_to(acme: Any) -> None:
    # Given nothing posted for CUST01: it may become a vendor, or move to BETA, and back
    to_vendor = invoke_api(acme, "PATCH", "/accounts/CUST01", "admin", {"kind": "vendor"})
    assert to_vendor.status == 200 and to_vendor.body["kind"] == "vendor"
    moved = invoke_api(
        acme, "PATCH", "/accounts/CUST01", "admin", {"company": "BETA", "kind": "customer"}
    )
    assert moved.status == 200 and moved.body["company"] == "BETA"
    assert invoke_api(acme, "PATCH", "/accounts/CUST01", "admin", {"company": "ACME"}).status == 200
    nowhere = invoke_api(acme, "PATCH", "/accounts/CUST01", "admin", {"company": "NOPE"})
    assert nowhere.status == 400
    # When an invoice for CUST01 and a journal naming CUST02 on a line are posted
    post(acme, document_body())
    journal = document_body("journal")
    journal["lines"][0]["account"] = "CUST02"
    post(acme, journal)
    # Then neither may change company or kind, and nothing changes
    for account, change in [
        ("CUST01", {"kind": "vendor"}),
        ("CUST01", {"company": "BETA"}),
        ("CUST02", {"kind": "vendor", "name": "Renamed"}),
    ]:
        refused = invoke_api(acme, "PATCH", f"/accounts/{account}", "admin", change)
        assert refused.status == 409 and refused.error_code == "account_has_postings", account
    assert (
        invoke_api(acme, "GET", "/accounts/CUST02", "admin").body["name"] == "CUST02 Customer plc"
    )
    # But an account never posted to still may, and other fields of the posted ones change
    assert (
        invoke_api(acme, "PATCH", "/accounts/VEND01", "admin", {"kind": "customer"}).status == 200
    )
    renamed = invoke_api(acme, "PATCH", "/accounts/CUST01", "admin", {"name": "Renamed plc"})
    assert renamed.status == 200


def test_a_posting_that_lands_between_the_check_and_the_write_is_noticed(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a company on DynamoDB Local with an invoice posted in 2026-12 and one in
    # 2026-11 about to be posted
    given_company()
    december = Period(name="2026-12", start=date(2026, 12, 1), end=date(2026, 12, 31))
    company = reference_data.get_company(ADMIN, "ACME")
    reference_data.amend_company(ADMIN, "ACME", CompanyPatch(periods=[*company.periods, december]))
    posting.post_now(given_document(document_date="2026-12-05"), "clerk")
    pending = given_document(document_date="2026-11-20")
    company = reference_data.get_company(ADMIN, "ACME")
    check = reference_data.periods_with_postings
    checks: list[list[str]] = []

    def check_then_post(company_id: str, periods: Any, seen: int) -> list[str]:
        found = check(company_id, periods, seen)
        checks.append(found)
        if len(checks) == 1:  # the 2026-11 invoice posts after the check looked, before the write
            posting.post_now(pending, "clerk")
        return found

    monkeypatch.setattr(reference_data, "periods_with_postings", check_then_post)
    # When the administrator moves the end of 2026-11
    moved = [
        p.model_copy(update={"end": date(2026, 11, 29)}) if p.name == "2026-11" else p
        for p in company.periods
    ]
    with pytest.raises(Conflict) as refused:
        reference_data.amend_company(ADMIN, "ACME", CompanyPatch(periods=moved))
    # Then the first check found nothing in 2026-11, the write noticed the posting that came
    # between, the second check found it, and the change was refused: nothing changed
    assert checks == [[], ["2026-11"]]
    assert refused.value.code == "period_has_postings"
    assert reference_data.get_company(ADMIN, "ACME").periods == company.periods
