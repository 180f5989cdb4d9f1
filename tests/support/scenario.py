"""Given-steps that set up companies, accounts and documents through the services."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from background_posting.domain.company import Account, Company
from background_posting.domain.document_input import DocumentInput
from background_posting.domain.documents import Document
from background_posting.domain.identity import Caller
from background_posting.services import document_service, reference_data
from tests.support.data import account_body, company_body, document_body

ADMIN = Caller(
    "admin",
    "admin@example.com",
    groups=frozenset({"SystemAdministrator"}),
    allowed_companies=frozenset({"*"}),
)
_documents: TypeAdapter[Any] = TypeAdapter(DocumentInput)


def given_company(company_id: str = "ACME") -> None:
    reference_data.create_company(ADMIN, Company.model_validate(company_body(company_id)))
    for body in (
        account_body("CUST01", company_id),
        account_body("VEND01", company_id, kind="vendor", trading_currencies=["GBP"]),
    ):
        body["id"] = f"{body['id']}-{company_id}" if company_id != "ACME" else body["id"]
        reference_data.create_account(ADMIN, Account.model_validate(body))


def given_document(
    doc_type: str = "sales_invoice", lines: int | None = None, **overrides: Any
) -> Document:
    body = document_body(doc_type, **overrides)
    if lines is not None and doc_type != "journal":
        body["lines"] = [
            {
                "description": f"Line {n}",
                "quantity": "2",
                "unit_price": f"{n % 97 + 1}.33",
                "tax_code": "STD" if n % 2 else "ZERO",
            }
            for n in range(lines)
        ]
    return document_service.create_document(ADMIN, _documents.validate_python(body))
