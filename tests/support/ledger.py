"""Documents, companies and accounts as the ledger's pure rules take them, and posting one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import PREFIXES, Document
from background_posting.domain.ledger import TransactionDraft, build_transaction
from background_posting.domain.settings import CompanySettings
from tests.support.data import account_body, company_body, document_body

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SETTINGS = CompanySettings()


def make_document(doc_type: str = "sales_invoice", **overrides: Any) -> Document:
    """A stored document of ACME, numbered like the real ones (SIN000042, JNL000042...)."""
    body = {
        "id": f"doc-{doc_type}",
        "number": f"{PREFIXES[doc_type]}000042",
        "account": None,
        "tax_mode": "builtin",
        "created_at": NOW,
        "created_by": "clerk",
        "updated_at": NOW,
        **document_body(doc_type),
    }
    body.update(overrides)
    return Document.model_validate(body)


def acme(**overrides: Any) -> Company:
    return Company.model_validate(company_body(**overrides))


def customer(**overrides: Any) -> Account:
    return Account.model_validate(account_body("CUST01", kind="customer", **overrides))


def vendor(**overrides: Any) -> Account:
    body = account_body("VEND01", kind="vendor", **overrides)
    return Account.model_validate(body)


def accounts(*found: Account) -> dict[str, Account]:
    return {account.id: account for account in found}


def ledger_accounts() -> dict[str, Account]:
    return accounts(customer(), vendor())


def post(document: Document, company: Company | None = None, **kwargs: Any) -> TransactionDraft:
    return build_transaction(
        document,
        company or acme(),
        kwargs.pop("accounts", ledger_accounts()),
        kwargs.pop("settings", SETTINGS),
        **kwargs,
    )
