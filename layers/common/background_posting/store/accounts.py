"""The accounts table: customers and vendors, one item each."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.attributes import UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from background_posting.domain.company import Account
from background_posting.domain.errors import Conflict, NotFound
from background_posting.domain.types import STORED
from background_posting.store import companies, page_tokens
from background_posting.store.base import StoreModel, register
from background_posting.store.writes import Write, put_with


class ByCompany(GlobalSecondaryIndex["AccountRecord"]):
    """A company's accounts, in id order (GET /accounts?company=)."""

    class Meta:
        index_name = "by-company"
        projection = AllProjection()

    company = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@register(lambda s: s.accounts_table)
class AccountRecord(StoreModel):
    class Meta:
        table_name = "accounts"

    id = UnicodeAttribute(hash_key=True)
    company = UnicodeAttribute()
    body = UnicodeAttribute()
    version = VersionAttribute()

    by_company = ByCompany()


@dataclass(frozen=True)
class AccountsPage:
    accounts: list[Account]
    next_token: str | None


def accounts_of(company: str, kind: str | None, limit: int, token: str | None) -> AccountsPage:
    """A page of the company's accounts in id order (the by-company index, a Query), only
    those of `kind` when given; `next` resumes after the last one read, bound to the query."""
    query = ("accounts", company, kind)
    start = (
        page_tokens.start_key(
            token, query, frozenset({"id", "company"}), lambda key: key["company"] == company
        )
        if token
        else None
    )
    result = AccountRecord.by_company.query(
        company, limit=limit, last_evaluated_key=start, page_size=limit
    )
    found = [Account.model_validate_json(record.body, context=STORED) for record in result]
    return AccountsPage(
        [a for a in found if kind is None or a.kind == kind],
        page_tokens.token_for(query, result.last_evaluated_key),
    )


def create_account(account: Account, audit: Write) -> None:
    """A new account (with its `audit` entry); its id must be free. Ids are global (one table,
    keyed by id), so the refusal says only that the id is taken: never which company has it,
    nor what it is."""
    put_with(
        AccountRecord(account.id, company=account.company, body=account.model_dump_json()),
        AccountRecord.id.does_not_exist(),
        Conflict(
            f"Account id {account.id!r} is taken; choose another.",
            code="account_exists",
            details={"id": account.id},
        ),
        [audit],
    )


def get_account(account_id: str) -> tuple[Account, int]:
    try:
        record = AccountRecord.get(account_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Account {account_id!r} does not exist.",
            code="account_not_found",
            details={"id": account_id},
        ) from exc
    return Account.model_validate_json(record.body, context=STORED), int(record.version or 0)


def replace_account(
    account: Account, version: int, audit: Write, guard: tuple[str, int] | None = None
) -> None:
    """Write the account (with its `audit` entry) if nobody changed it since `version`; with
    `guard` (company, transactions seen), also only if nothing was posted in that company
    since it was checked."""
    if guard is not None:
        record = AccountRecord(
            account.id, company=account.company, body=account.model_dump_json(), version=version
        )
        companies.guarded_write(
            guard[0],
            guard[1],
            record,
            Conflict(
                f"Account {account.id!r} was changed by someone else; read it again.",
                code="concurrent_update",
            ),
            [audit],
        )
        return
    put_with(
        AccountRecord(
            account.id, company=account.company, body=account.model_dump_json(), version=version
        ),
        None,
        Conflict(
            f"Account {account.id!r} was changed by someone else; read it again.",
            code="concurrent_update",
        ),
        [audit],
    )
