"""What a worker batch reads before posting its plain documents: two BatchGetItems in all.

The first asks for the documents' headers and, beside them, each company's profile,
settings and transaction counter (the messages name the companies); the second for the line
chunks the headers name and the accounts the headers name. Each document comes back whole
and of one version (`store/document_store.assembled`) and the companies' reference data as
`store/reference.read` reads it, every read consistent. A journal whose lines name accounts has
those read when it is posted (`services/worker.Batch.reference` reads what it lacks).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from background_posting.domain.errors import NotFound
from background_posting.store import document_store
from background_posting.store import reference as reference_store
from background_posting.store.base import batch_get


def documents_and_references(
    document_ids: Collection[str], company_ids: Collection[str]
) -> tuple[dict[str, document_store.Stored], dict[str, reference_store.Reference]]:
    """The documents found (by id), and the reference data of the companies found (by id)
    with the accounts their documents' headers name."""
    companies = sorted(set(company_ids))
    first = batch_get(
        _joined(
            document_store.header_keys(document_ids),
            *(reference_store.company_keys(company) for company in companies),
        )
    )
    headers = document_store.headers_found(first)
    named: dict[str, set[str]] = {company: set() for company in companies}
    for header in headers.values():
        body = json.loads(header.body or "{}")
        if body.get("account") and body.get("company") in named:
            named[body["company"]].add(str(body["account"]))
    second = batch_get(
        _joined(
            document_store.chunk_keys(headers),
            reference_store.account_keys(set().union(*named.values())),
        )
    )
    documents = document_store.assembled(headers, second)
    found = first | second  # for the reference data: companies in the first, accounts in the second
    references = {}
    for company in companies:
        try:
            references[company] = reference_store.from_items(company, found, named[company])
        except NotFound:
            continue  # the ordinary path reads it again, and reports it
    return documents, references


def _joined(*requests: dict[str, Any]) -> dict[str, Any]:
    """Requests (RequestItems) for one BatchGetItem: the keys of each table put together."""
    joined: dict[str, Any] = {}
    for request in requests:
        for table, asked in request.items():
            if table in joined:
                joined[table] = joined[table] | {"Keys": joined[table]["Keys"] + asked["Keys"]}
            else:
                joined[table] = asked
    return joined
