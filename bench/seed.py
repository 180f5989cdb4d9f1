"""Seeding, fast (it is not measured): a company, its customer and vendor, and a backlog of
Ready to Post documents with their worker items, as posting from a list view leaves them.

Documents are built and validated by the domain models and written as the store writes them
(the store's own item builders: document header and line chunks, `worker_items.item_records`),
but in batches of 25 instead of one transaction per document. The counters are set to the
numbers taken. A backlog cycles through the five document types and three currencies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import TypeAdapter
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from background_posting.domain.background import plan_items
from background_posting.domain.company import Account, Company
from background_posting.domain.document_input import DocumentInput, new_document
from background_posting.domain.documents import DOCUMENT_TYPES, PREFIXES, READY_TO_POST, Document
from background_posting.domain.identity import LISTVIEW, SYSTEM_ADMINISTRATOR, Caller
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.services import reference_data
from background_posting.store import (
    counters,
    document_store,
    ledger_store,
    log_groups,
    org,
    work_log,
)
from background_posting.store import worker_items as item_store
from tests.support.data import company_body

COMPANY = "BENCH"  # the measured documents
FILLER = "FILLER"  # the rest of a backlog, when only part of it is measured
CURRENCIES = ("GBP", "USD", "EUR")
DOCUMENT_DATE = date(2026, 11, 20)
ADMIN = Caller(
    "bench-admin",
    "bench-admin@example.com",
    groups=frozenset({SYSTEM_ADMINISTRATOR}),
    allowed_companies=frozenset({"*"}),
)
LISTER = Caller(  # a list view's Background Post in the measured company only
    "bench-lister",
    "bench-lister@example.com",
    groups=frozenset({LISTVIEW}),
    allowed_companies=frozenset({COMPANY}),
)
_inputs: TypeAdapter[Any] = TypeAdapter(DocumentInput)


def customer(company_id: str) -> str:
    return f"{company_id}-CUST"


def vendor(company_id: str) -> str:
    return f"{company_id}-VEND"


def company(company_id: str = COMPANY) -> Company:
    """The tests' sample company, with October to December 2026 open."""
    periods = [
        {"name": f"2026-{m:02d}", "start": f"2026-{m:02d}-01", "end": end, "status": "open"}
        for m, end in ((10, "2026-10-31"), (11, "2026-11-30"), (12, "2026-12-31"))
    ]
    return Company.model_validate(company_body(company_id, periods=periods))


def reference(company_id: str = COMPANY) -> None:
    """The company and its two accounts, through the services (a handful of writes)."""
    reference_data.create_company(ADMIN, company(company_id))
    for account_id, kind in ((customer(company_id), "customer"), (vendor(company_id), "vendor")):
        account = Account(
            id=account_id,
            company=company_id,
            name=f"{account_id} plc",
            kind=kind,
            trading_currencies=list(CURRENCIES),
            email=f"{account_id.lower()}@example.com",
        )
        reference_data.create_account(ADMIN, account)


def warm_models() -> None:
    """One read per table, so that each model's client exists before anything is timed."""
    for read in (
        lambda: counters.current(COMPANY, "TRN"),
        lambda: ledger_store.LedgerRecord.get("warm", "warm"),
        lambda: document_store.DocumentRecord.get("warm", "warm"),
        lambda: item_store.WorkerItemRecord.get("warm", "warm"),
        lambda: work_log.WorkLogRecord.get("warm", "warm"),
        org.background_posting_settings,
    ):
        with contextlib.suppress(DoesNotExist):
            read()


def document_body(
    index: int, lines: int, doc_type: str | None = None, company_id: str = COMPANY
) -> dict[str, Any]:
    """Document `index` of a backlog: types and currencies in turn, `lines` lines."""
    doc_type = doc_type or DOCUMENT_TYPES[index % len(DOCUMENT_TYPES)]
    currency = CURRENCIES[(index // len(DOCUMENT_TYPES)) % len(CURRENCIES)]
    body: dict[str, Any] = {
        "type": doc_type,
        "company": company_id,
        "document_date": DOCUMENT_DATE.isoformat(),
        "currency": currency,
        "reference": f"BENCH-{index}",
    }
    if doc_type == "journal":
        values = [f"{(n % 89) + 1}.{n % 100:02d}" for n in range(lines - 1)]
        total = sum(int(v.replace(".", "")) for v in values)
        body["lines"] = [
            {"gl_account": "6000", "value": v, "description": f"Accrual {n}"}
            for n, v in enumerate(values)
        ] + [{"gl_account": "2400", "value": f"-{total // 100}.{total % 100:02d}"}]
    else:
        account = vendor if doc_type.startswith("payable") else customer
        body["account"] = account(company_id)
        body["lines"] = [
            {
                "description": f"Line {n}",
                "quantity": str(n % 7 + 1),
                "unit_price": f"{n % 97 + 1}.33",
                "tax_code": "STD" if n % 2 else "ZERO",
            }
            for n in range(lines)
        ]
    return body


@dataclass
class Backlog:
    """What was seeded: the documents and the records written (for the floor's copies)."""

    documents: list[Document] = field(default_factory=list)
    headers: list[Model] = field(default_factory=list)
    items: list[Model] = field(default_factory=list)
    log_group: str = ""

    @property
    def lines(self) -> int:
        return sum(d.line_count for d in self.documents)


def _documents(
    count: int, lines: int, doc_type: str | None, company_id: str, taken: dict[str, int]
) -> Iterator[Document]:
    """Validated documents, numbered on from `taken` (prefix -> last number, updated)."""
    stamp = datetime.now(UTC)
    for index in range(count):
        data = _inputs.validate_python(document_body(index, lines, doc_type, company_id))
        prefix = PREFIXES[data.type]
        taken[prefix] += 1
        yield new_document(data, ADMIN.user_id, stamp).model_copy(
            update={
                "number": f"{prefix}{taken[prefix]:06d}",
                "status": READY_TO_POST,
                "version": 2,  # created (1), then queued (2)
            }
        )


def backlog(
    count: int, lines: int, doc_type: str | None = None, company_id: str = COMPANY
) -> Backlog:
    """`count` Ready to Post documents of `lines` lines, queued in one worker log group."""
    seeded = Backlog()
    title = f"{count} documents posted from a list view (benchmark)"
    seeded.log_group = log_groups.create_group(ADMIN.user_id, ADMIN.email, title, [company_id])
    settings = BackgroundPostingSettings()
    taken = {prefix: counters.current(company_id, prefix) for prefix in PREFIXES.values()}
    with (
        document_store.DocumentRecord.batch_write() as documents,
        item_store.WorkerItemRecord.batch_write() as items,
    ):
        for document in _documents(count, lines, doc_type, company_id, taken):
            planned = plan_items(document, settings, posted_already=False)
            chunks = document_store._chunks(document, 1)
            header = document_store._header(document, 1, len(chunks))
            for record in (header, *chunks):
                documents.save(record)
            records = item_store.item_records(
                document, planned, ADMIN.user_id, seeded.log_group, title
            )
            for item in records:
                items.save(item)
            seeded.documents.append(document)
            seeded.headers.append(header)
            seeded.items.extend(records)
    for prefix, number in taken.items():
        if number:
            counters.CounterRecord(company_id, f"counter#{prefix}", value=number).save()
    return seeded
