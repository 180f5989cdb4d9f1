"""Companies, accounts and the caller's logged-in companies: who may read and change them."""

from __future__ import annotations

from background_posting.domain.company import Account, AccountPatch, Company, CompanyPatch
from background_posting.domain.errors import InvalidRequest, NotFound
from background_posting.domain.identity import ALL_COMPANIES, Caller
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
    """Narrow the caller's session to `companies`, each of which must exist and be allowed;
    `["*"]` ends the narrowing: the caller is logged into every company allowed again."""
    if ALL_COMPANIES in companies:
        if companies != [ALL_COMPANIES]:
            raise _invalid_companies(
                'companies: "*" (every company you are allowed) cannot be combined with ids.',
                {"companies": 'must be ["*"] alone or a list of company ids'},
            )
        org_store.set_logged_in_companies(caller.user_id, None)
        return [ALL_COMPANIES]
    unique = sorted(set(companies))
    everywhere = caller.with_logged_in(None)
    refused = [c for c in unique if not everywhere.may_use(c)]
    missing = sorted(set(unique) - set(refused) - company_store.existing(unique))
    if refused or missing:
        problems = {
            **{
                f"companies[{companies.index(c)}]": "is not a company you are allowed"
                for c in refused
            },
            **{f"companies[{companies.index(c)}]": "does not exist" for c in missing},
        }
        parts = []
        if refused:
            parts.append(f"you are not allowed {', '.join(map(repr, refused))}")
        if missing:
            parts.append(
                f"{', '.join(map(repr, missing))} do{'es' if len(missing) == 1 else ''} not exist"
            )
        raise _invalid_companies(
            f"companies: {'; '.join(parts)}. Nothing was changed.",
            problems,
            refused=refused,
            missing=missing,
        )
    org_store.set_logged_in_companies(caller.user_id, frozenset(unique))
    return unique


def _invalid_companies(
    message: str, problems: dict[str, str], **named: list[str]
) -> InvalidRequest:
    return InvalidRequest(
        message,
        details={
            "errors": [{"field": f, "message": m} for f, m in problems.items()],
            **named,
        },
    )
