"""Sample addresses and AvaTax documents (AvaTax tax codes, `tax_mode: avatax`)."""

from __future__ import annotations

from typing import Any

from background_posting.domain.company import Company
from background_posting.domain.documents import Document
from tests.support.data import account_body, company_body, document_body
from tests.support.ledger import make_document

ACME_OFFICE = {
    "line1": "1 Poultry",
    "city": "London",
    "postal_code": "EC2R 8EJ",
    "country": "GB",
}
CUSTOMER_GB = {
    "line1": "12 Deansgate",
    "city": "Manchester",
    "postal_code": "M3 2BW",
    "country": "GB",
}
CUSTOMER_NOWHERE = {
    "line1": "1 Unknown Road",
    "city": "Atlantis",
    "postal_code": "0000",
    "country": "ZZ",
}


def avatax_customer(
    account_id: str = "CUSTTAX", company: str = "ACME", **overrides: Any
) -> dict[str, Any]:
    """A customer with a UK address, trading in GBP."""
    return account_body(account_id, company, address=CUSTOMER_GB, **overrides)


def avatax_invoice(account: str = "CUSTTAX", **overrides: Any) -> dict[str, Any]:
    """A sales invoice whose tax AvaTax calculates: 37.50 of goods and 7.99 of delivery, both
    taxable at the stand-in's UK rate of 20% (7.50 and 1.60 of tax)."""
    body = document_body("sales_invoice", account=account, tax_mode="avatax")
    body["lines"] = [
        {"description": "Widgets", "quantity": "3", "unit_price": "12.50", "tax_code": "P0000000"},
        {"description": "Delivery", "quantity": "1", "unit_price": "7.99", "tax_code": "FR020100"},
    ]
    body.update(overrides)
    return body


def with_office() -> Company:
    """ACME, with its London office: where its sales ship from."""
    return Company.model_validate(company_body(address=ACME_OFFICE))


def avatax_document(doc_type: str = "sales_invoice", **overrides: Any) -> Document:
    """A stored document of ACME whose tax AvaTax calculates."""
    return make_document(doc_type, tax_mode="avatax", **overrides)
