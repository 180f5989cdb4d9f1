"""What posting a document reads besides the document: one consistent BatchGetItem.

The company's profile, its accounting settings and its transaction counter (the companies
table) and the accounts the document names (the accounts table) come back in one request,
strongly consistent, instead of four or more GetItems.

The posting's commit checks that the company profile and the document's account are still
at the versions this read saw (`unchanged`): a currency, period or account change that lands
between the read and the commit makes the commit fail (`ReferenceChanged`), and the posting is
built again from what the company says now. (The change itself is refused once anything is
posted with what it would change: `services/reference_data.py`.)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from background_posting.domain.company import Account, Company
from background_posting.domain.documents import TRANSACTION_PREFIX
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.settings import CompanySettings
from background_posting.store import counters
from background_posting.store.accounts import AccountRecord
from background_posting.store.base import connection, table_name
from background_posting.store.companies import PROFILE, SETTINGS, CompanyRecord
from background_posting.store.writes import Write

MAX_KEYS = 100  # BatchGetItem's limit per request


@dataclass
class Reference:
    """A company's reference data as one read saw it."""

    company: Company
    settings: CompanySettings
    transaction_counter: int
    accounts: dict[str, Account] = field(default_factory=dict)
    company_version: int = 0
    account_versions: dict[str, int] = field(default_factory=dict)


class ReferenceChanged(Conflict):
    """The company profile or an account changed between a posting's read and its commit."""


def read(company_id: str, account_ids: Collection[str] = ()) -> Reference:
    """The company, its settings, its transaction counter and these accounts (missing ones
    are left out: posting reports them). NotFound when the company does not exist."""
    companies_table, accounts_table = table_name(CompanyRecord), table_name(AccountRecord)
    accounts = sorted(set(account_ids))[: MAX_KEYS - 3]
    request: dict[str, Any] = {
        companies_table: {
            "Keys": [
                {"id": {"S": company_id}, "kind": {"S": kind}}
                for kind in (PROFILE, SETTINGS, counters.key(company_id, TRANSACTION_PREFIX)[1])
            ],
            "ConsistentRead": True,
        }
    }
    if accounts:
        request[accounts_table] = {
            "Keys": [{"id": {"S": account_id}} for account_id in accounts],
            "ConsistentRead": True,
        }
    found = _batch_get(request)
    by_kind = {
        item["kind"]["S"]: CompanyRecord.from_raw_data(item)
        for item in found.get(companies_table, [])
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
    account_records = [AccountRecord.from_raw_data(item) for item in found.get(accounts_table, [])]
    return Reference(
        company=Company.model_validate_json(profile.body or "{}"),
        settings=(
            CompanySettings.model_validate_json(stored_settings.body or "{}")
            if stored_settings is not None
            else CompanySettings()
        ),
        transaction_counter=int(counter.value or 0) if counter is not None else 0,
        accounts={r.id: Account.model_validate_json(r.body) for r in account_records},
        company_version=int(profile.version or 0),
        account_versions={r.id: int(r.version or 0) for r in account_records},
    )


def refresh(reference: Reference) -> None:
    """Read the company's reference data again, into `reference` itself (a worker batch that
    shares it sees the news too)."""
    fresh = read(reference.company.id, reference.accounts.keys())
    reference.company, reference.settings = fresh.company, fresh.settings
    reference.transaction_counter = fresh.transaction_counter
    reference.accounts, reference.account_versions = fresh.accounts, fresh.account_versions
    reference.company_version = fresh.company_version


def unchanged(reference: Reference, account_ids: Iterable[str]) -> list[Write]:
    """The checks, for a posting's commit, that the company profile and these accounts are
    still at the versions `reference` read (an account it found missing is not checked: the
    posting reports it)."""
    company = reference.company.id
    refusal = ReferenceChanged(
        f"Company {company}'s profile or an account changed while the posting was being "
        "prepared; it is prepared again with what they say now.",
        code="reference_changed",
        details={"company": company},
    )
    checks = [
        Write.check(
            CompanyRecord,
            company,
            PROFILE,
            _at_version(CompanyRecord.version, reference.company_version),
            refusal=refusal,
        )
    ]
    for account_id in sorted(set(account_ids) & reference.account_versions.keys()):
        checks.append(
            Write.check(
                AccountRecord,
                account_id,
                None,
                _at_version(AccountRecord.version, reference.account_versions[account_id]),
                refusal=refusal,
            )
        )
    return checks


def _at_version(attribute: Any, version: int) -> Any:
    return attribute == version if version else attribute.does_not_exist()


def read_accounts(account_ids: Collection[str]) -> dict[str, Account]:
    """These accounts (missing ones left out), in one consistent BatchGetItem."""
    accounts_table = table_name(AccountRecord)
    wanted = sorted(set(account_ids))
    found: dict[str, Account] = {}
    for start in range(0, len(wanted), MAX_KEYS):
        request = {
            accounts_table: {
                "Keys": [{"id": {"S": a}} for a in wanted[start : start + MAX_KEYS]],
                "ConsistentRead": True,
            }
        }
        for item in _batch_get(request).get(accounts_table, []):
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
