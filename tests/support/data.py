"""Sample companies and accounts, as a finance team would set them up."""

from __future__ import annotations

from typing import Any


def company_body(company_id: str = "ACME", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": company_id,
        "name": f"{company_id} Trading Ltd",
        "home_currency": "GBP",
        "dual_currency": "EUR",
        "timezone": "Europe/London",
        "periods": [
            {"name": "2026-11", "start": "2026-11-01", "end": "2026-11-30", "status": "open"},
            {"name": "2026-10", "start": "2026-10-01", "end": "2026-10-31", "status": "closed"},
        ],
        "exchange_rates": [
            {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-01-01", "rate": "1.15"},
            {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.79"},
        ],
        "gl_accounts": {
            "receivable_control": "1100",
            "payable_control": "2100",
            "sales_tax": "2200",
            "purchase_tax": "1200",
            "revenue": "4000",
            "expense": "5000",
            "deferred_income": "2300",
            "currency_rounding": "7900",
            "small_differences": "7910",
        },
        "credit_terms": {"days_due": 30, "discounts": [{"days": 10, "percent": "2"}]},
        "tax_codes": [{"code": "STD", "rate": "20"}, {"code": "ZERO", "rate": "0"}],
    }
    body.update(overrides)
    return body


def account_body(
    account_id: str = "CUST01", company: str = "ACME", kind: str = "customer", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": account_id,
        "company": company,
        "name": f"{account_id} Customer plc",
        "kind": kind,
        "trading_currencies": ["GBP", "USD"],
        "email": f"{account_id.lower()}@example.com",
    }
    body.update(overrides)
    return body


def document_body(doc_type: str = "sales_invoice", **overrides: Any) -> dict[str, Any]:
    """A document dated in the open period, in GBP, with two taxed lines (or a journal)."""
    if doc_type == "journal":
        body: dict[str, Any] = {
            "type": "journal",
            "company": "ACME",
            "document_date": "2026-11-20",
            "currency": "GBP",
            "lines": [
                {"gl_account": "6000", "value": "100.00", "description": "Accrual"},
                {"gl_account": "2400", "value": "-100.00", "description": "Accrual"},
            ],
        }
    else:
        account = "VEND01" if doc_type.startswith("payable") else "CUST01"
        body = {
            "type": doc_type,
            "company": "ACME",
            "account": account,
            "document_date": "2026-11-20",
            "currency": "GBP",
            "lines": [
                {
                    "description": "Widgets",
                    "quantity": "3",
                    "unit_price": "12.50",
                    "tax_code": "STD",
                },
                {
                    "description": "Delivery",
                    "quantity": "1",
                    "unit_price": "7.99",
                    "tax_code": "ZERO",
                },
            ],
        }
    body.update(overrides)
    return body
