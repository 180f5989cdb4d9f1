"""The companies table: company profiles and their accounting settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from background_posting.domain.company import Company
from background_posting.domain.documents import TRANSACTION_PREFIX
from background_posting.domain.errors import Conflict, InvalidRequest, NotFound
from background_posting.domain.settings import CompanySettings
from background_posting.domain.types import STORED
from background_posting.store import counters, page_tokens
from background_posting.store.base import StoreModel, register
from background_posting.store.writes import Write, put_with, transact

PROFILE = "profile"


class ByKind(GlobalSecondaryIndex["CompanyRecord"]):
    """Every company's profile key under `kind = profile`, in id order: the list of companies
    (keys only; the profiles are read by id)."""

    class Meta:
        index_name = "by-kind"
        projection = KeysOnlyProjection()

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


@register(lambda s: s.companies_table)
class CompanyRecord(StoreModel):
    class Meta:
        table_name = "companies"

    id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(null=True)
    value = NumberAttribute(null=True)
    version = VersionAttribute()

    by_kind = ByKind()


MAX_PROFILE_BYTES = 350_000
"""A company profile is one DynamoDB item (at most 400 KB), and an API answer kept for its
Idempotency-Key holds it again: what it may take, with room for both. The documented maxima
(600 periods, 2,000 exchange rates, 200 tax codes, at their longest) fit within it."""


def _profile(company: Company) -> str:
    """The profile as stored, or InvalidRequest naming its longest list when it cannot fit."""
    body = company.model_dump_json()
    size = len(body.encode())
    if size > MAX_PROFILE_BYTES:
        field = max(
            ("exchange_rates", "periods", "tax_codes"),
            key=lambda name: len(company.model_dump_json(include={name})),
        )
        raise InvalidRequest(
            f"Company {company.id!r} would take {size // 1000} KB, more than the "
            f"{MAX_PROFILE_BYTES // 1000} KB a company may hold: remove some of its {field} "
            "(exchange rates older than its open periods are no longer used).",
            code="company_too_large",
            details={"errors": [{"field": field, "message": "too much to store"}]},
        )
    return body


def create_company(company: Company, audit: Write) -> None:
    """Store a new company, with its `audit` entry."""
    put_with(
        CompanyRecord(company.id, PROFILE, body=_profile(company)),
        CompanyRecord.id.does_not_exist(),
        Conflict(
            f"Company {company.id!r} already exists.",
            code="company_exists",
            details={"id": company.id},
        ),
        [audit],
    )


def get_company(company_id: str) -> tuple[Company, int]:
    """The company and its version (for an optimistic update)."""
    try:
        record = CompanyRecord.get(company_id, PROFILE, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            f"Company {company_id!r} does not exist.",
            code="company_not_found",
            details={"id": company_id},
        ) from exc
    return Company.model_validate_json(record.body or "{}", context=STORED), int(
        record.version or 0
    )


def existing(company_ids: list[str]) -> set[str]:
    """Which of these companies exist (one consistent batch read per 100)."""
    keys = [(company_id, PROFILE) for company_id in sorted(set(company_ids))]
    return {record.id for record in CompanyRecord.batch_get(keys, consistent_read=True)}


@dataclass(frozen=True)
class CompaniesPage:
    companies: list[Company]
    next_token: str | None


_PROFILE_KEY = frozenset({"id", "kind"})


def list_companies(companies: Sequence[str] | None, limit: int, token: str | None) -> CompaniesPage:
    """A page of companies in id order: `companies` (those named, the ones that exist), or
    every company (None: the by-kind index, a Query); `next` resumes after the last one."""
    query = ("companies", None if companies is None else sorted(companies))
    if companies is not None:
        named = sorted(set(companies))
        after = page_tokens.opened(token, query, frozenset({"after"}))["after"] if token else ""
        if not isinstance(after, str):
            raise page_tokens.bad_token("is not one this API gave out")
        ids = [c for c in named if c > after][:limit]
        more = len([c for c in named if c > after]) > limit
        return CompaniesPage(
            _profiles(ids), page_tokens.sealed(query, {"after": ids[-1]}) if more else None
        )
    start = (
        page_tokens.start_key(
            token, query, _PROFILE_KEY, lambda key: key["kind"] == PROFILE, "another list"
        )
        if token
        else None
    )
    result = CompanyRecord.by_kind.query(
        PROFILE, limit=limit, last_evaluated_key=start, page_size=limit
    )
    ids = [record.id for record in result]
    return CompaniesPage(_profiles(ids), page_tokens.token_for(query, result.last_evaluated_key))


def _profiles(company_ids: list[str]) -> list[Company]:
    """These companies' profiles, in the order given (one consistent batch read per 100)."""
    keys = [(company_id, PROFILE) for company_id in company_ids]
    found = {
        record.id: Company.model_validate_json(record.body or "{}", context=STORED)
        for record in CompanyRecord.batch_get(keys, consistent_read=True)
    }
    return [found[c] for c in company_ids if c in found]


class PostingsMoved(Conflict):
    """A transaction was posted in the company after its postings were checked."""


def replace_company(
    company: Company, version: int, audit: Write, transactions_seen: int | None = None
) -> None:
    """Write the new profile (with its `audit` entry) only if nobody changed it since
    `version` was read.

    With `transactions_seen`, also only if the company's transaction counter still holds that
    value: nothing was posted since the caller checked what the change may touch (one
    transaction; `PostingsMoved` when a posting came between).
    """
    if transactions_seen is not None:
        record = CompanyRecord(company.id, PROFILE, body=_profile(company), version=version)
        guarded_write(
            company.id,
            transactions_seen,
            record,
            Conflict(
                f"Company {company.id!r} was changed by someone else; read it again.",
                code="concurrent_update",
            ),
            [audit],
        )
        return
    put_with(
        CompanyRecord(company.id, PROFILE, body=_profile(company), version=version),
        None,
        Conflict(
            f"Company {company.id!r} was changed by someone else; read it again.",
            code="concurrent_update",
        ),
        [audit],
    )


SETTINGS = "settings"


def get_settings(company_id: str) -> CompanySettings:
    """The company's accounting settings; the defaults until someone saves them."""
    return settings_and_version(company_id)[0]


def settings_and_version(company_id: str) -> tuple[CompanySettings, int | None]:
    """The settings and their version (None: never saved), for an optimistic update."""
    try:
        record = CompanyRecord.get(company_id, SETTINGS, consistent_read=True)
    except DoesNotExist:
        return CompanySettings(), None
    return CompanySettings.model_validate_json(record.body or "{}"), record.version


def put_settings(
    company_id: str, settings: CompanySettings, version: int | None, audit: Write
) -> None:
    """Replace the company's settings (read at `version`), with their `audit` entry."""
    record = CompanyRecord(company_id, SETTINGS, body=settings.model_dump_json())
    if version is not None:  # else never saved: it must not exist yet
        record.version = version
    put_with(
        record,
        None,
        Conflict(
            f"The settings of company {company_id!r} were changed by someone else; read them "
            "again.",
            code="concurrent_update",
        ),
        [audit],
    )


def guarded_write(
    company_id: str,
    transactions_seen: int,
    record: Model,
    changed: Conflict,
    also: list[Write],
) -> None:
    """Save `record` (conditional on its own version) together with the check that the
    company's transaction counter still holds `transactions_seen`, in one transaction;
    `PostingsMoved` when it does not, `changed` when the record's own condition failed."""
    moved = PostingsMoved(
        f"Something was posted in company {company_id!r} meanwhile; try again.",
        code="postings_changed",
    )
    transact(
        [
            counters.unchanged(company_id, TRANSACTION_PREFIX, transactions_seen, moved),
            Write.put(record, refusal=changed),
            *also,
        ]
    )
