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
from background_posting.domain.types import STORED
from background_posting.store import counters
from background_posting.store.accounts import AccountRecord
from background_posting.store.base import batch_get, table_name
from background_posting.store.companies import PROFILE, SETTINGS, CompanyRecord
from background_posting.store.writes import Write


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
    return from_items(company_id, batch_get(keys(company_id, account_ids)))


def keys(company_id: str, account_ids: Collection[str] = ()) -> dict[str, Any]:
    """The BatchGetItem request of `read` (its RequestItems), to send alone or with others."""
    return company_keys(company_id) | account_keys(account_ids)


def company_keys(company_id: str) -> dict[str, Any]:
    """The request for a company's profile, settings and transaction counter."""
    kinds = (PROFILE, SETTINGS, counters.key(company_id, TRANSACTION_PREFIX)[1])
    return {
        table_name(CompanyRecord): {
            "Keys": [{"id": {"S": company_id}, "kind": {"S": kind}} for kind in kinds],
            "ConsistentRead": True,
        }
    }


def account_keys(account_ids: Collection[str]) -> dict[str, Any]:
    """The request for these accounts (none: an empty request)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    return {
        table_name(AccountRecord): {
            "Keys": [{"id": {"S": account_id}} for account_id in wanted],
            "ConsistentRead": True,
        }
    }


def from_items(
    company_id: str,
    found: dict[str, list[dict[str, Any]]],
    account_ids: Collection[str] | None = None,
) -> Reference:
    """The Reference of `company_id` among the items a BatchGetItem found (other companies'
    items and other tables may be among them); with `account_ids`, only those accounts."""
    companies_table, accounts_table = table_name(CompanyRecord), table_name(AccountRecord)
    by_kind = {
        item["kind"]["S"]: CompanyRecord.from_raw_data(item)
        for item in found.get(companies_table, [])
        if item["id"]["S"] == company_id
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
    account_records = [
        AccountRecord.from_raw_data(item)
        for item in found.get(accounts_table, [])
        if account_ids is None or item["id"]["S"] in account_ids
    ]
    return Reference(
        company=Company.model_validate_json(profile.body or "{}", context=STORED),
        settings=(
            CompanySettings.model_validate_json(stored_settings.body or "{}")
            if stored_settings is not None
            else CompanySettings()
        ),
        transaction_counter=int(counter.value or 0) if counter is not None else 0,
        accounts={
            r.id: Account.model_validate_json(r.body, context=STORED) for r in account_records
        },
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
    """These accounts (missing ones left out), in one consistent BatchGetItem (or more, of
    100 keys each)."""
    found = batch_get(account_keys(account_ids)).get(table_name(AccountRecord), [])
    records = (AccountRecord.from_raw_data(item) for item in found)
    return {r.id: Account.model_validate_json(r.body, context=STORED) for r in records}
