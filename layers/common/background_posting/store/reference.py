"""What posting a document reads besides the document: one consistent BatchGetItem.

The company's profile, its accounting settings and its transaction counter (the companies
table) and the accounts the document names (the accounts table) come back in one request,
strongly consistent, instead of four or more GetItems.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import TRANSACTION_PREFIX
from background_posting.domain.errors import NotFound
from background_posting.domain.settings import CompanySettings
from background_posting.store import counters
from background_posting.store.accounts import AccountRecord
from background_posting.store.base import bound, connection
from background_posting.store.companies import PROFILE, SETTINGS, CompanyRecord

MAX_KEYS = 100  # BatchGetItem's limit per request


@dataclass
class Reference:
    """A company's reference data as one read saw it."""

    company: Company
    settings: CompanySettings
    transaction_counter: int
    accounts: dict[str, Account] = field(default_factory=dict)


def read(company_id: str, account_ids: Collection[str] = ()) -> Reference:
    """The company, its settings, its transaction counter and these accounts (missing ones
    are left out: posting reports them). NotFound when the company does not exist."""
    settings = bound()
    accounts = sorted(set(account_ids))[: MAX_KEYS - 3]
    request: dict[str, Any] = {
        settings.companies_table: {
            "Keys": [
                {"id": {"S": company_id}, "kind": {"S": kind}}
                for kind in (PROFILE, SETTINGS, counters.key(company_id, TRANSACTION_PREFIX)[1])
            ],
            "ConsistentRead": True,
        }
    }
    if accounts:
        request[settings.accounts_table] = {
            "Keys": [{"id": {"S": account_id}} for account_id in accounts],
            "ConsistentRead": True,
        }
    found = _batch_get(request)
    by_kind = {
        item["kind"]["S"]: CompanyRecord.from_raw_data(item)
        for item in found.get(settings.companies_table, [])
    }
    profile = by_kind.get(PROFILE)
    if profile is None:
        raise NotFound(
            f"Company {company_id!r} does not exist.",
            code="company_not_found",
            details={"id": company_id},
        )
    stored_settings = by_kind.get(SETTINGS)
    counter = by_kind.get(counters.key(company_id, TRANSACTION_PREFIX)[1])
    return Reference(
        company=Company.model_validate_json(profile.body or "{}"),
        settings=(
            CompanySettings.model_validate_json(stored_settings.body or "{}")
            if stored_settings is not None
            else CompanySettings()
        ),
        transaction_counter=int(counter.value or 0) if counter is not None else 0,
        accounts={
            record.id: Account.model_validate_json(record.body)
            for record in (
                AccountRecord.from_raw_data(item) for item in found.get(settings.accounts_table, [])
            )
        },
    )


def read_accounts(account_ids: Collection[str]) -> dict[str, Account]:
    """These accounts (missing ones left out), in one consistent BatchGetItem."""
    settings = bound()
    wanted = sorted(set(account_ids))
    found: dict[str, Account] = {}
    for start in range(0, len(wanted), MAX_KEYS):
        request = {
            settings.accounts_table: {
                "Keys": [{"id": {"S": a}} for a in wanted[start : start + MAX_KEYS]],
                "ConsistentRead": True,
            }
        }
        for item in _batch_get(request).get(settings.accounts_table, []):
            record = AccountRecord.from_raw_data(item)
            found[record.id] = Account.model_validate_json(record.body)
    return found


def _batch_get(request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem, asking again for the keys DynamoDB left unprocessed."""
    client: Any = connection().client  # botocore's client (its stubs name no operations)
    found: dict[str, list[dict[str, Any]]] = {}
    for _attempt in range(10):
        answer = client.batch_get_item(RequestItems=request)
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
    raise RuntimeError("DynamoDB left keys unprocessed ten times in a row")
