"""Listing documents through the documents table's `by-company` index, a page at a time.

A page's `next` token is opaque to the caller: the position to resume from (the company's
place in the list, the index prefix, DynamoDB's last evaluated key) bound to the query that
gave it out and signed (`store/page_tokens.py`: HMACs keyed by a secret). A token from another
list (other companies or filters), one not signed with the key, or one that does not decode to
a position of this query, is refused with a 400 rather than starting again or reaching
DynamoDB as a malformed key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition

from background_posting.domain.documents import COMPLETE, DOCUMENT_TYPES, TRADING_TYPES, Document
from background_posting.domain.types import STORED
from background_posting.store import page_tokens
from background_posting.store.document_store import (
    HEADER,
    WITH_BACKGROUND_ERRORS,
    DocumentRecord,
    with_verification,
)


@dataclass(frozen=True)
class Page:
    documents: list[Document]
    next_token: str | None


# -- page tokens (store/page_tokens.py signs and opens them) ---------------------------------

_TOKEN_FIELDS = frozenset({"company", "prefix", "key"})
_KEY_FIELDS = frozenset({"pk", "sk", "list_pk", "list_sk"})
_HEADER_PK = re.compile(r"DOC#[0-9a-f]{32}")


def _encode(query: page_tokens.Terms, company: int, prefix: int, key: dict[str, Any] | None) -> str:
    return page_tokens.sealed(query, {"company": company, "prefix": prefix, "key": key})


def _is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def _is_header_key(key: Any, company: str, prefix: str | None) -> bool:
    """A position this list gives out: a document header's key in the company's part of the
    index, under the list's prefix (a DynamoDB start key outside the query's key range, or an
    empty key attribute, would otherwise reach DynamoDB and fail as a 500)."""
    if not (
        isinstance(key, dict)
        and set(key) == _KEY_FIELDS
        and all(
            isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
            for v in key.values()
        )
    ):
        return False
    values = {name: v["S"] for name, v in key.items()}
    return (
        _HEADER_PK.fullmatch(values["pk"]) is not None
        and values["sk"] == HEADER
        and values["list_pk"] == company
        and values["list_sk"].count("#") >= 2
        and values["list_sk"].startswith(prefix or "")
        and len(values["list_sk"]) > len(prefix or "")
    )


def _decode(
    token: str, query: page_tokens.Terms, companies: Sequence[str], prefixes: Sequence[str | None]
) -> tuple[int, int, dict[str, Any] | None]:
    """The position (company, prefix, key) a token of this query stands for, or a 400."""
    value = page_tokens.opened(
        token, query, _TOKEN_FIELDS, "another query (other companies or filters)"
    )
    company, prefix, key = value["company"], value["prefix"], value["key"]
    if not _is_index(company, len(companies)) or not _is_index(prefix, len(prefixes)):
        raise page_tokens.bad_token("is not one this API gave out")
    if key is not None and not _is_header_key(key, companies[company], prefixes[prefix]):
        raise page_tokens.bad_token("is not one this API gave out")
    return company, prefix, key


# -- the plain list ---------------------------------------------------------------------------


def list_documents(
    companies: Sequence[str],
    doc_type: str | None,
    status: str | None,
    limit: int,
    token: str | None,
    has_background_errors: bool | None = None,
    verification: str | None = None,
) -> Page:
    """Headers of the given companies (in order), filtered; `next` resumes where this stopped.

    `verification`: only payable invoices whose verification has that status (e.g.
    `posted_not_completed`, the invoices waiting for someone to complete them).

    `has_background_errors`: only the documents that carry (True) or do not carry (False) the
    errors of a background attempt (`last_background_errors`, an object in the stored header
    JSON, which pydantic writes as `"last_background_errors":{` or `...:null`).

    A token is bound to its query: one from another list (other companies or filters), or
    one that does not decode to a position, is refused rather than starting again.
    """
    query = ("documents", companies, doc_type, status, has_background_errors, verification)
    prefix = (
        f"{doc_type}#{status}#" if doc_type and status else (f"{doc_type}#" if doc_type else None)
    )
    index, _, last_key = _decode(token, query, companies, [prefix]) if token else (0, 0, None)
    found: list[Document] = []
    while index < len(companies) and len(found) < limit:
        condition = DocumentRecord.list_sk.startswith(prefix) if prefix else None
        filter_condition: Condition | None = (
            DocumentRecord.status == status if status and not doc_type else None
        )
        if has_background_errors is not None:
            carries = DocumentRecord.body.contains(WITH_BACKGROUND_ERRORS)
            wanted = carries if has_background_errors else ~carries
            filter_condition = wanted if filter_condition is None else filter_condition & wanted
        if verification is not None:
            shows = DocumentRecord.body.contains(with_verification(verification))
            filter_condition = shows if filter_condition is None else filter_condition & shows
        result = DocumentRecord.by_company.query(
            companies[index],
            condition,
            filter_condition=filter_condition,
            limit=limit - len(found),
            last_evaluated_key=last_key,
        )
        for record in result:
            found.append(Document.model_validate_json(record.body or "{}", context=STORED))
        last_key = result.last_evaluated_key
        if last_key is None:
            index, last_key = index + 1, None
    more = index < len(companies)
    next_token = _encode(query, index, 0, last_key) if more else None
    return Page(found, next_token)


def iter_posted(company: str) -> Iterator[Document]:
    """The headers of every Complete document of the company, type by type (no lines).

    Reads the `by-company` index, which lags writes by a fraction of a second: a caller that
    must see the latest postings also reads the newest ledger headers (see reference_data).
    """
    for doc_type in DOCUMENT_TYPES:
        for record in DocumentRecord.by_company.query(
            company, DocumentRecord.list_sk.startswith(f"{doc_type}#{COMPLETE}#")
        ):
            yield Document.model_validate_json(record.body or "{}", context=STORED)


# -- by account, and what is outstanding ----------------------------------------------------


def _key_of(record: DocumentRecord) -> dict[str, Any]:
    """The exclusive start key that resumes a `by-company` query just after `record`."""
    return {
        "pk": {"S": record.pk},
        "sk": {"S": record.sk},
        "list_pk": {"S": record.list_pk or ""},
        "list_sk": {"S": record.list_sk or ""},
    }


def _prefixes(doc_type: str | None, status: str | None, outstanding: bool) -> list[str | None]:
    if outstanding:  # only posted invoices and credit notes have an outstanding amount
        types = [doc_type] if doc_type else list(TRADING_TYPES)
        if status not in (None, COMPLETE):
            return []
        return [f"{t}#{COMPLETE}#" for t in types if t in TRADING_TYPES]
    if doc_type:
        return [f"{doc_type}#{status}#" if status else f"{doc_type}#"]
    return [None]


def _wanted(document: Document, status: str | None, account: str | None, outstanding: bool) -> bool:
    if status and document.status != status:
        return False
    if account and document.account != account:
        return False
    return not outstanding or bool(document.outstanding)


def _headers(company: str, prefix: str | None, start: dict[str, Any] | None) -> Iterator[Any]:
    condition = DocumentRecord.list_sk.startswith(prefix) if prefix else None
    yield from DocumentRecord.by_company.query(
        company, condition, last_evaluated_key=start, page_size=200
    )


def list_by_account(
    companies: Sequence[str],
    doc_type: str | None,
    status: str | None,
    account: str | None,
    outstanding: bool,
    limit: int,
    token: str | None,
) -> Page:
    """Headers of the companies filtered by account and by having something outstanding
    (read through the `by-company` index, narrowed to posted trading documents when
    `outstanding`); `next` resumes after the last document returned."""
    prefixes = _prefixes(doc_type, status, outstanding)
    query = ("by-account", companies, doc_type, status, account, outstanding)
    company_index, prefix_index, start = (
        _decode(token, query, companies, prefixes) if token else (0, 0, None)
    )
    found: list[Document] = []
    while company_index < len(companies) and prefix_index < len(prefixes):
        for record in _headers(companies[company_index], prefixes[prefix_index], start):
            document = Document.model_validate_json(record.body or "{}", context=STORED)
            if _wanted(document, status, account, outstanding):
                found.append(document)
                if len(found) == limit:
                    token = _encode(query, company_index, prefix_index, _key_of(record))
                    return Page(found, token)
        start = None
        prefix_index += 1
        if prefix_index == len(prefixes):
            company_index, prefix_index = company_index + 1, 0
    return Page(found, None)
