"""Companies, accounts and the caller's logged-in companies: who may read and change them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from background_posting.domain.company import (
    MAX_EXCHANGE_RATES,
    MAX_TAX_CODE_DESCRIPTION,
    Account,
    AccountPatch,
    Company,
    CompanyPatch,
    Period,
    PeriodStatus,
)
from background_posting.domain.documents import TRANSACTION_PREFIX, Document, format_number
from background_posting.domain.errors import Conflict, InvalidRequest, NotFound
from background_posting.domain.identity import ALL_COMPANIES, Caller
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import counters, document_store, history, ledger_store, listings
from background_posting.store import org as org_store
from background_posting.store.writes import Write

# How often a change is checked again when a posting lands between its check and its write.
GUARD_TRIES = 3
# The newest transactions read from the ledger itself (consistent), besides the documents'
# index (which lags writes by a fraction of a second), when checking what was posted.
RECENT_TRANSACTIONS = 25


def with_session(caller: Caller) -> Caller:
    """The caller narrowed to the companies they are logged into (`PUT /me/companies`)."""
    return caller.with_logged_in(org_store.logged_in_companies(caller.user_id))


def _entered_within_limits(company: Company) -> None:
    """What a company is given stays within what one stored item holds (the model reads what
    an earlier version stored, whose limits were wider)."""
    errors = []
    if len(company.exchange_rates) > MAX_EXCHANGE_RATES:
        errors.append(
            {
                "field": "exchange_rates",
                "message": f"at most {MAX_EXCHANGE_RATES:,} exchange rates "
                f"({len(company.exchange_rates):,} given)",
            }
        )
    errors += [
        {
            "field": f"tax_codes[{n}].description",
            "message": f"at most {MAX_TAX_CODE_DESCRIPTION} characters",
        }
        for n, code in enumerate(company.tax_codes)
        if len(code.description) > MAX_TAX_CODE_DESCRIPTION
    ]
    if errors:
        raise InvalidRequest(
            f"Company {company.id!r}: {errors[0]['field']}: {errors[0]['message']}.",
            details={"errors": errors},
        )


def create_company(caller: Caller, company: Company) -> Company:
    caller.require_admin("create a company")
    _entered_within_limits(company)
    company_store.create_company(company, _company_audit(caller, None, company, "create"))
    return company


def list_companies(caller: Caller, limit: int, token: str | None) -> company_store.CompaniesPage:
    """A page of the companies the caller may use (those logged into), in id order."""
    return company_store.list_companies(caller.companies_for(None), limit, token)


def get_company(caller: Caller, company_id: str) -> Company:
    caller.require_company(company_id)
    return company_store.get_company(company_id)[0]


def amend_company(caller: Caller, company_id: str, patch: CompanyPatch) -> Company:
    """Amend a company; what postings depend on cannot change once posted to (409):

    - `home_currency` and `dual_currency` once any transaction was posted in the company
      (`company_has_postings`);
    - a period that holds transactions cannot be deleted, renamed or given other dates
      (`period_has_postings`); its status may change (closed and reopened).

    The write is conditional on the company's transaction counter still holding the value
    the check saw, so a posting that commits between the check and the write is noticed
    (the change is checked again).
    """
    caller.require_company(company_id)
    caller.require_admin("change a company")
    for _attempt in range(GUARD_TRIES):
        company, version = company_store.get_company(company_id)
        amended = patch.apply_to(company)
        if patch.exchange_rates is not None or patch.tax_codes is not None:
            _entered_within_limits(amended)
        try:
            _save_company(company, amended, version, _company_audit(caller, company, amended))
        except company_store.PostingsMoved:
            continue
        return amended
    raise Conflict(
        f"Company {company_id!r} is being posted to heavily; try the change again.",
        code="postings_changed",
    )


def _company_audit(
    caller: Caller, before: Company | None, after: Company, action: str = "amend"
) -> Write:
    return _audit(caller, after.id, f"company {after.id}", action, before, after)


def _account_audit(
    caller: Caller, before: Account | None, after: Account, action: str = "amend"
) -> Write:
    return _audit(caller, after.company, f"account {after.id}", action, before, after)


def _audit(
    caller: Caller,
    company: str,
    subject: str,
    action: str,
    before: Company | Account | None,
    after: Company | Account,
) -> Write:
    was = None if before is None else before.model_dump(mode="json")
    return history.audited(
        company, subject, action, caller.user_id, was, after.model_dump(mode="json")
    )


def _save_company(before: Company, after: Company, version: int, audit: Write) -> None:
    currencies = (before.home_currency, before.dual_currency) != (
        after.home_currency,
        after.dual_currency,
    )
    moved = moved_periods(before, after)
    if not currencies and not moved:
        company_store.replace_company(after, version, audit)
        return
    seen = counters.current(before.id, TRANSACTION_PREFIX)
    if seen and currencies:
        raise Conflict(
            f"Company {before.id!r} has posted transactions: its home and dual currency "
            f"({before.home_currency}, {before.dual_currency}) can no longer change.",
            code="company_has_postings",
            details={
                "home_currency": before.home_currency,
                "dual_currency": before.dual_currency,
                "transactions": seen,
            },
        )
    holding = periods_with_postings(before.id, moved, seen) if seen else []
    if holding:
        raise Conflict(
            f"Period{'s' if len(holding) > 1 else ''} {', '.join(map(repr, holding))} of "
            f"company {before.id!r} hold{'' if len(holding) > 1 else 's'} posted transactions: "
            "a period with postings cannot be deleted, renamed or moved (it may be closed).",
            code="period_has_postings",
            details={"periods": holding},
        )
    company_store.replace_company(after, version, audit, transactions_seen=seen)


def moved_periods(before: Company, after: Company) -> list[Period]:
    """Periods of `before` that `after` deletes, renames or gives other dates."""
    kept = {(p.name, p.start, p.end) for p in after.periods}
    return [p for p in before.periods if (p.name, p.start, p.end) not in kept]


def periods_with_postings(company_id: str, periods: Sequence[Period], seen: int) -> list[str]:
    """The names of `periods` that hold a posted document's transaction."""

    def periods_of(day: date) -> set[str]:
        return {p.name for p in periods if p.start <= day <= p.end}

    holding: set[str] = set()
    for document in _posted_documents(company_id, seen, with_lines=False):
        holding |= periods_of(document.document_date)
        if len(holding) == len(periods):
            break
    return sorted(holding)


def _recent_headers(company_id: str, seen: int) -> Iterator[dict[str, Any]]:
    """The newest transaction headers, read from the ledger (consistently)."""
    for number in range(seen, max(0, seen - RECENT_TRANSACTIONS), -1):
        try:
            name = format_number(TRANSACTION_PREFIX, number)
            yield ledger_store.get_transaction(company_id, name, 0, 0).header
        except NotFound:
            continue


def _posted_documents(company_id: str, seen: int, *, with_lines: bool) -> Iterator[Document]:
    """Every posted document of the company: the Complete ones the documents' index lists,
    then those of the newest transactions (which the index may not show yet). Journals come
    with their lines when `with_lines` (a journal line may name an account)."""
    listed: set[str] = set()
    for header in listings.iter_posted(company_id):
        listed.add(header.id)
        yield _with_lines(header) if with_lines else header
    for transaction in _recent_headers(company_id, seen):
        document_id = str(transaction.get("document_id", ""))
        if document_id and document_id not in listed:
            listed.add(document_id)
            stored = document_store.get_document(document_id, with_lines=with_lines)
            yield stored.document


def _with_lines(document: Document) -> Document:
    if not document.is_journal:
        return document
    return document_store.get_document(document.id).document


def set_period_status(caller: Caller, company_id: str, name: str, status: PeriodStatus) -> Period:
    """Close or reopen one period without sending the whole list (System Administrator)."""
    caller.require_company(company_id)
    caller.require_admin("close or reopen a period")
    company, version = company_store.get_company(company_id)
    period = next((p for p in company.periods if p.name == name), None)
    if period is None:
        raise NotFound(
            f"Company {company_id!r} has no period {name!r}.",
            code="period_not_found",
            details={"company": company_id, "period": name},
        )
    changed = period.model_copy(update={"status": status})
    periods = [changed if p.name == name else p for p in company.periods]
    after = company.model_copy(update={"periods": periods})
    action = "close_period" if status == "closed" else "reopen_period"
    company_store.replace_company(after, version, _company_audit(caller, company, after, action))
    return changed


def create_account(caller: Caller, account: Account) -> Account:
    caller.require_company(account.company)
    company_store.get_company(account.company)
    account_store.create_account(account, _account_audit(caller, None, account, "create"))
    return account


def list_accounts(
    caller: Caller, company: str, kind: str | None, limit: int, token: str | None
) -> account_store.AccountsPage:
    """A page of the customers and vendors of a company the caller may use."""
    caller.require_company(company)
    return account_store.accounts_of(company, kind, limit, token)


def get_account(caller: Caller, account_id: str) -> Account:
    return _visible_account(caller, account_id)[0]


def _visible_account(caller: Caller, account_id: str) -> tuple[Account, int]:
    """The account and its version, if it is of a company the caller is logged into; else
    404 as for no account (never revealing that another company has it)."""
    account, version = account_store.get_account(account_id)
    if not caller.may_use(account.company):
        raise NotFound(
            f"Account {account_id!r} does not exist.",
            code="account_not_found",
            details={"id": account_id},
        )
    return account, version


def amend_account(caller: Caller, account_id: str, patch: AccountPatch) -> Account:
    """Amend an account; its company and kind may change only while nothing posted names it
    (409 `account_has_postings`), checked and written as `amend_company` does."""
    for _attempt in range(GUARD_TRIES):
        account, version = _visible_account(caller, account_id)
        amended = patch.apply_to(account)
        audit = _account_audit(caller, account, amended)
        if (amended.company, amended.kind) == (account.company, account.kind):
            account_store.replace_account(amended, version, audit)
            return amended
        if amended.company != account.company:
            caller.require_company(amended.company)
            if not company_store.existing([amended.company]):
                raise InvalidRequest(
                    f"company: company {amended.company!r} does not exist.",
                    details={"errors": [{"field": "company", "message": "does not exist"}]},
                )
        seen = counters.current(account.company, TRANSACTION_PREFIX)
        if seen and _account_has_postings(account, seen):
            raise Conflict(
                f"Account {account_id!r} has posted documents: its company and kind "
                f"({account.company}, {account.kind}) can no longer change.",
                code="account_has_postings",
                details={"company": account.company, "kind": account.kind},
            )
        try:
            account_store.replace_account(amended, version, audit, guard=(account.company, seen))
        except company_store.PostingsMoved:
            continue
        return amended
    raise Conflict(
        f"Company {account.company!r} is being posted to heavily; try the change again.",
        code="postings_changed",
    )


def _account_has_postings(account: Account, seen: int) -> bool:
    for document in _posted_documents(account.company, seen, with_lines=True):
        if document.account == account.id:
            return True
        if document.is_journal and any(
            getattr(line, "account", None) == account.id for line in document.lines
        ):
            return True
    return False


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
            "read_audit": caller.is_admin,
        },
        "allowed_companies": sorted(caller.allowed_companies),
        "logged_in_companies": None if caller.logged_in is None else sorted(caller.logged_in),
    }


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
