"""Companies, accounts and the caller's logged-in companies: who may read and change them."""

from __future__ import annotations

from typing import Any

from background_posting.domain.company import Account, AccountPatch, Company, CompanyPatch
from background_posting.domain.errors import Forbidden, NotFound
from background_posting.domain.identity import Caller
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import org as org_store


def with_session(caller: Caller) -> Caller:
    """The caller narrowed to the companies they are logged into (`PUT /me/companies`)."""
    return caller.with_logged_in(org_store.logged_in_companies(caller.user_id))


def create_company(caller: Caller, company: Company) -> Company:
    caller.require_admin("create a company")
    company_store.create_company(company)
    return company


def get_company(caller: Caller, company_id: str) -> Company:
    caller.require_company(company_id)
    return company_store.get_company(company_id)[0]


def amend_company(caller: Caller, company_id: str, patch: CompanyPatch) -> Company:
    caller.require_company(company_id)
    caller.require_admin("change a company")
    company, version = company_store.get_company(company_id)
    amended = patch.apply_to(company)
    company_store.replace_company(amended, version)
    return amended


def create_account(caller: Caller, account: Account) -> Account:
    caller.require_company(account.company)
    company_store.get_company(account.company)
    account_store.create_account(account)
    return account


def get_account(caller: Caller, account_id: str) -> Account:
    account = account_store.get_account(account_id)[0]
    if not caller.may_use(account.company):
        # Do not reveal that an account exists in a company the caller cannot see.
        raise NotFound(
            f"Account {account_id!r} does not exist.",
            code="account_not_found",
            details={"id": account_id},
        )
    return account


def amend_account(caller: Caller, account_id: str, patch: AccountPatch) -> Account:
    account, version = account_store.get_account(account_id)
    caller.require_company(account.company)
    amended = patch.apply_to(account)
    account_store.replace_account(amended, version)
    return amended


def log_into_companies(caller: Caller, companies: list[str]) -> list[str]:
    """Narrow the caller's session to `companies`, each of which they must be allowed."""
    refused = [c for c in companies if not caller.with_logged_in(None).may_use(c)]
    if refused:
        raise Forbidden(
            f"You are not allowed to use {', '.join(map(repr, refused))}.",
            code="company_not_allowed",
            details={"companies": refused},
        )
    unique = sorted(set(companies))
    org_store.set_logged_in_companies(caller.user_id, frozenset(unique))
    return unique


def who_am_i(caller: Caller) -> dict[str, Any]:
    """The caller and what they may do: what the console shows and hides."""
    return {
        "user_id": caller.user_id,
        "email": caller.email,
        "groups": sorted(caller.groups),
        "may": {
            "schedule_job": caller.is_admin,
            "view_scheduler": caller.may_run_now,
            "run_now": caller.may_run_now,
            "background_post": caller.may_use_listview,
            "set_back_to_in_progress": caller.is_admin,
        },
        "allowed_companies": sorted(caller.allowed_companies),
        "logged_in_companies": None if caller.logged_in is None else sorted(caller.logged_in),
    }
