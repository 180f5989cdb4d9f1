"""Companies, accounts and logged-in companies through the API function (moto)."""

from __future__ import annotations

from typing import Any

from background_posting.config import Settings
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body


def test_an_administrator_creates_and_reads_a_company(api: Any) -> None:
    created = invoke_api(api, "POST", "/companies", "admin", company_body())
    assert created.status == 201
    assert created.body["id"] == "ACME"
    assert created.body["exchange_rates"][0]["rate"] == "1.15"

    read = invoke_api(api, "GET", "/companies/ACME", "clerk")
    assert read.status == 200
    assert read.body == created.body


def test_a_bad_body_names_the_field_and_writes_nothing(api: Any) -> None:
    bad = invoke_api(api, "POST", "/companies", "admin", company_body(home_currency="POUNDS"))
    assert bad.status == 400
    assert bad.error_code == "invalid_request"
    assert bad.body["error"]["message"] == (
        "Home currency: 'POUNDS' is not an ISO 4217 currency code."
    )
    assert bad.body["error"]["details"]["errors"][0]["field"] == "home_currency"
    assert invoke_api(api, "GET", "/companies/ACME", "admin").status == 404


def test_money_as_a_json_number_is_refused(api: Any) -> None:
    body = company_body(tax_codes=[{"code": "STD", "rate": 20.0}])
    answer = invoke_api(api, "POST", "/companies", "admin", body)
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "tax_codes[0].rate"


def test_broken_json_and_form_bodies_are_refused(api: Any) -> None:
    broken = invoke_api(api, "POST", "/companies", "admin", b"{not json")
    assert broken.status == 400 and broken.body["error"]["message"] == (
        "The request is not valid JSON: check its brackets, commas and quotes."
    )


def test_no_identity_is_401_and_a_clerk_cannot_create_companies(api: Any) -> None:
    assert invoke_api(api, "GET", "/companies/ACME", user=None).status == 401
    answer = invoke_api(api, "POST", "/companies", "clerk", company_body())
    assert answer.status == 403 and answer.error_code == "permission_denied"
    assert invoke_api(api, "GET", "/companies/ACME", "admin").status == 404


def test_a_company_is_created_once(api: Any) -> None:
    assert invoke_api(api, "POST", "/companies", "admin", company_body()).status == 201
    again = invoke_api(api, "POST", "/companies", "admin", company_body(name="Other"))
    assert again.status == 409 and again.error_code == "company_exists"
    assert invoke_api(api, "GET", "/companies/ACME", "admin").body["name"] == "ACME Trading Ltd"


def test_amending_a_company_keeps_what_is_not_named_and_refuses_bad_values(api: Any) -> None:
    invoke_api(api, "POST", "/companies", "admin", company_body())
    amended = invoke_api(api, "PATCH", "/companies/ACME", "admin", {"name": "Acme Group"})
    assert amended.status == 200 and amended.body["name"] == "Acme Group"
    assert amended.body["home_currency"] == "GBP"

    refused = invoke_api(api, "PATCH", "/companies/ACME", "admin", {"timezone": "Mars/Base"})
    assert refused.status == 400
    assert refused.body["error"]["message"].startswith("Time zone: 'Mars/Base' is not")
    assert refused.body["error"]["details"]["errors"][0]["field"] == "timezone"
    assert invoke_api(api, "GET", "/companies/ACME", "admin").body["timezone"] == "Europe/London"

    clerk = invoke_api(api, "PATCH", "/companies/ACME", "clerk", {"name": "Mine"})
    assert clerk.status == 403


def test_users_see_only_companies_they_are_allowed(api: Any) -> None:
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/companies", "admin", company_body("BETA"))
    beta_only = {"sub": "b", "email": "b@example.com", "custom:companies": "BETA"}
    assert invoke_api(api, "GET", "/companies/BETA", claims=beta_only).status == 200
    refused = invoke_api(api, "GET", "/companies/ACME", claims=beta_only)
    assert refused.status == 403 and refused.error_code == "company_not_allowed"


def test_the_list_of_companies_is_those_the_caller_may_use_in_pages(api: Any) -> None:
    # Given three companies
    for company in ("ACME", "BETA", "GAMMA"):
        invoke_api(api, "POST", "/companies", "admin", company_body(company))
    # When a user allowed every company lists them two at a time
    first = invoke_api(api, "GET", "/companies?limit=2", "clerk")
    assert first.status == 200
    assert [c["id"] for c in first.body["companies"]] == ["ACME", "BETA"]
    assert first.body["companies"][0]["name"] and first.body["companies"][0]["home_currency"]
    second = invoke_api(api, "GET", f"/companies?limit=2&next={first.body['next']}", "clerk")
    # Then the next page holds the rest, and says it is the last
    assert [c["id"] for c in second.body["companies"]] == ["GAMMA"]
    assert second.body["next"] is None

    # And a user allowed BETA and GAMMA sees only those, in pages too
    two = {"sub": "b", "email": "b@example.com", "custom:companies": "GAMMA,BETA"}
    page = invoke_api(api, "GET", "/companies?limit=1", claims=two)
    assert [c["id"] for c in page.body["companies"]] == ["BETA"]
    rest = invoke_api(api, "GET", f"/companies?limit=1&next={page.body['next']}", claims=two)
    assert [c["id"] for c in rest.body["companies"]] == ["GAMMA"] and rest.body["next"] is None
    # And a token of one list is refused by the other, naming `next`
    refused = invoke_api(api, "GET", f"/companies?next={first.body['next']}", claims=two)
    assert (
        refused.status == 400 and refused.body["error"]["details"]["errors"][0]["field"] == "next"
    )

    # And a user logged into GAMMA alone sees GAMMA alone
    invoke_api(api, "PUT", "/me/companies", "clerk", {"companies": ["GAMMA"]})
    narrowed = invoke_api(api, "GET", "/companies", "clerk")
    assert [c["id"] for c in narrowed.body["companies"]] == ["GAMMA"]


def test_a_company_s_accounts_are_listed_by_kind_in_pages(api: Any) -> None:
    # Given two customers and a vendor of ACME, and a customer of BETA
    for company in ("ACME", "BETA"):
        invoke_api(api, "POST", "/companies", "admin", company_body(company))
    for account in (
        account_body("C1", "ACME"),
        account_body("C2", "ACME"),
        account_body("V1", "ACME", kind="vendor", trading_currencies=["GBP"]),
        account_body("B1", "BETA"),
    ):
        assert invoke_api(api, "POST", "/accounts", "admin", account).status == 201
    # When ACME's accounts are listed two at a time
    first = invoke_api(api, "GET", "/accounts?company=ACME&limit=2", "clerk")
    rest = invoke_api(
        api, "GET", f"/accounts?company=ACME&limit=2&next={first.body['next']}", "clerk"
    )
    # Then they are ACME's, in id order, with their fields
    assert [a["id"] for a in first.body["accounts"] + rest.body["accounts"]] == ["C1", "C2", "V1"]
    assert first.body["accounts"][0]["name"] and first.body["accounts"][0]["kind"] == "customer"
    # And only the vendors when asked
    vendors = invoke_api(api, "GET", "/accounts?company=ACME&kind=vendor", "clerk")
    assert [a["id"] for a in vendors.body["accounts"]] == ["V1"] and vendors.body["next"] is None
    # And a user who may not use ACME is refused
    beta_only = {"sub": "b", "email": "b@example.com", "custom:companies": "BETA"}
    refused = invoke_api(api, "GET", "/accounts?company=ACME", claims=beta_only)
    assert refused.status == 403


def test_logging_into_fewer_companies_narrows_what_a_user_sees(api: Any) -> None:
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/companies", "admin", company_body("BETA"))
    narrowed = invoke_api(api, "PUT", "/me/companies", "clerk", {"companies": ["BETA"]})
    assert narrowed.status == 200 and narrowed.body == {"companies": ["BETA"]}
    assert invoke_api(api, "GET", "/companies/ACME", "clerk").status == 403
    assert invoke_api(api, "GET", "/companies/BETA", "clerk").status == 200
    assert invoke_api(api, "GET", "/companies/ACME", "admin").status == 200

    beta_only = {"sub": "b", "email": "b@example.com", "custom:companies": "BETA"}
    refused = invoke_api(
        api, "PUT", "/me/companies", claims=beta_only, body={"companies": ["ACME"]}
    )
    assert refused.status == 400 and refused.error_code == "invalid_request"


def test_accounts_belong_to_a_company_the_caller_uses(api: Any) -> None:
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    created = invoke_api(api, "POST", "/accounts", "clerk", account_body())
    assert created.status == 201 and created.body["trading_currencies"] == ["GBP", "USD"]
    assert invoke_api(api, "GET", "/accounts/CUST01", "clerk").body == created.body

    missing_company = invoke_api(api, "POST", "/accounts", "clerk", account_body("C2", "NOPE"))
    assert missing_company.status == 404 and missing_company.error_code == "company_not_found"

    other = {"sub": "o", "email": "o@example.com", "custom:companies": "BETA"}
    assert invoke_api(api, "GET", "/accounts/CUST01", claims=other).status == 404
    assert invoke_api(api, "POST", "/accounts", claims=other, body=account_body("C3")).status == 403

    amended = invoke_api(api, "PATCH", "/accounts/CUST01", "clerk", {"trading_currencies": ["EUR"]})
    assert amended.status == 200 and amended.body["trading_currencies"] == ["EUR"]
    bad = invoke_api(api, "POST", "/accounts", "clerk", account_body("C4", kind="supplier"))
    assert bad.status == 400 and bad.body["error"]["details"]["errors"][0]["field"] == "kind"


BETA_ONLY = {"sub": "b", "email": "b@example.com", "custom:companies": "BETA"}


def test_an_id_another_company_uses_is_taken_without_saying_whose(api: Any) -> None:
    # Given ACME's customer CUST01 and vendor VEND01 with its purchase order PO-1
    for company in ("ACME", "BETA"):
        assert invoke_api(api, "POST", "/companies", "admin", company_body(company)).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    vendor = account_body("VEND01", kind="vendor", trading_currencies=["GBP"])
    assert invoke_api(api, "POST", "/accounts", "admin", vendor).status == 201
    order = {
        "id": "PO-1",
        "company": "ACME",
        "vendor": "VEND01",
        "currency": "GBP",
        "lines": [{"line": 1, "description": "Bolts", "quantity": "1", "unit_price": "1.00"}],
    }
    assert invoke_api(api, "POST", "/purchase-orders", "admin", order).status == 201
    beta_vendor = account_body("VEND-B", "BETA", kind="vendor", trading_currencies=["GBP"])
    assert invoke_api(api, "POST", "/accounts", "admin", beta_vendor).status == 201
    # When a user of BETA alone creates an account and an order with those ids
    account = invoke_api(
        api, "POST", "/accounts", body=account_body("CUST01", "BETA"), claims=BETA_ONLY
    )
    beta_order = order | {"company": "BETA", "vendor": "VEND-B"}
    ordered = invoke_api(api, "POST", "/purchase-orders", body=beta_order, claims=BETA_ONLY)
    # Then each is a 409 saying the id is taken, naming neither ACME nor what it has there
    assert (account.status, account.error_code) == (409, "account_exists"), account.body
    assert account.body["error"]["message"] == "Account id 'CUST01' is taken; choose another."
    assert (ordered.status, ordered.error_code) == (409, "purchase_order_exists"), ordered.body
    assert ordered.body["error"]["message"] == (
        "Purchase order id 'PO-1' is taken; choose another."
    )
    for answer in (account, ordered):
        assert "ACME" not in str(answer.body) and "customer" not in str(answer.body)
        assert answer.body["error"]["details"] == {"id": answer.body["error"]["details"]["id"]}
    # And nothing changed: ACME's account and order are as they were
    assert invoke_api(api, "GET", "/accounts/CUST01", "admin").body["company"] == "ACME"
    assert invoke_api(api, "GET", "/purchase-orders/PO-1", "admin").body["company"] == "ACME"


def test_amending_another_company_s_account_is_a_404_as_for_none(api: Any) -> None:
    # Given ACME's customer CUST01, and a user of BETA alone
    for company in ("ACME", "BETA"):
        assert invoke_api(api, "POST", "/companies", "admin", company_body(company)).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    # When they amend it, and an account that does not exist
    amended = invoke_api(api, "PATCH", "/accounts/CUST01", body={"name": "Mine"}, claims=BETA_ONLY)
    missing = invoke_api(api, "PATCH", "/accounts/NOPE", body={"name": "Mine"}, claims=BETA_ONLY)
    # Then both answer alike: 404, not a 403 naming ACME
    assert (amended.status, amended.error_code) == (404, "account_not_found"), amended.body
    assert amended.body["error"]["message"] == missing.body["error"]["message"].replace(
        "NOPE", "CUST01"
    )
    assert "ACME" not in str(amended.body)
    # And the account is unchanged
    assert invoke_api(api, "GET", "/accounts/CUST01", "admin").body["name"] != "Mine"


def test_unknown_routes_answer_in_the_error_format(api: Any, aws: Settings) -> None:
    answer = invoke_api(api, "GET", "/nowhere", "admin")
    assert answer.status == 404 and answer.error_code == "route_not_found"


def test_the_openapi_document_lists_the_routes(api: Any) -> None:
    answer = invoke_api(api, "GET", "/openapi.json", user=None)
    assert answer.status == 200
    assert {"/companies", "/companies/{company_id}", "/accounts", "/me/companies"} <= set(
        answer.body["paths"]
    )
