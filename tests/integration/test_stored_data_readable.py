"""Data an earlier version stored within its wider limits stays readable: the limits on what
is entered (dates 1900-2999, 15 digits before the point, one rate per pair and date, discounts
within the due date) are not checked again when the store reads it back, so one old item
never turns a company's page or a list into a 500."""

from __future__ import annotations

import json
from typing import Any

from background_posting.store import companies
from background_posting.store.document_store import DocumentRecord
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


def test_a_company_and_a_document_stored_before_the_limits_are_still_read(api: Any) -> None:
    # Given a company and an invoice as the API accepts them
    assert invoke_api(api, "POST", "/companies", "admin", company_body()).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    invoice = invoke_api(api, "POST", "/documents", "clerk", document_body()).body
    # And then changed in the store as an earlier version could have stored them
    record = companies.CompanyRecord.get("ACME", companies.PROFILE)
    body = json.loads(record.body or "{}")
    rate = {"from_currency": "USD", "to_currency": "GBP", "date": "1899-12-31", "rate": "0.8"}
    body["exchange_rates"] += [rate, rate | {"rate": "0.9"}]  # out of range, and twice
    body["credit_terms"] = {"days_due": 10, "discounts": [{"days": 14, "percent": "2"}]}
    record.body = json.dumps(body)
    record.save()
    header = DocumentRecord.get(f"DOC#{invoice['id']}", "HEADER")
    stored = json.loads(header.body or "{}")
    stored["document_date"] = "9999-12-31"
    header.body = json.dumps(stored)
    header.save()
    for chunk in DocumentRecord.query(
        f"DOC#{invoice['id']}", DocumentRecord.sk.startswith("LINES#")
    ):
        lines = json.loads(chunk.lines or "[]")
        lines[0]["quantity"] = "12345678901234567890"  # 20 digits before the point
        chunk.lines = json.dumps(lines)
        chunk.save()
    # Then the company, the document and the list still read
    company = invoke_api(api, "GET", "/companies/ACME", "clerk")
    assert company.status == 200 and len(company.body["exchange_rates"]) == 4, company.body
    document = invoke_api(api, "GET", f"/documents/{invoice['id']}", "clerk")
    assert document.status == 200, document.body
    assert document.body["lines"][0]["quantity"] == "12345678901234567890"
    listed = invoke_api(api, "GET", "/documents?company=ACME", "clerk")
    assert listed.status == 200 and [d["id"] for d in listed.body["documents"]] == [invoice["id"]]
    # And what is entered again is checked: the rates given back are refused by name
    again = invoke_api(
        api, "PATCH", "/companies/ACME", "admin", {"exchange_rates": body["exchange_rates"]}
    )
    assert again.status == 400, again.body
