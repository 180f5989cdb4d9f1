"""Posting preview: the transaction posting a document would make, without making it.

`POST /documents/{id}/preview` answers what the Post button would write: the transaction's
lines in document, home and dual currency, the totals with the tax per code, the settlement
discount, and every validation problem as a list (`can_post` False when there is any). It
reads the document, the company, its settings and the accounts, and writes nothing: no
number is taken, no ledger item, counter, worker item or log entry is written, and the
document keeps its version. An AvaTax document whose tax has not been calculated is not sent
to AvaTax (that would create a transaction there): the preview says the tax is calculated when
the document posts. A payable invoice that references purchase order lines is verified
against its receipts by the background step's own rule (`verification`), and the transaction
shown is the one the verified invoice would post (a reduction or small difference included).
"""

from __future__ import annotations

import itertools
from typing import Any

from background_posting.domain.documents import IN_PROGRESS, READY_TO_POST
from background_posting.domain.errors import ValidationFailed
from background_posting.domain.identity import Caller
from background_posting.domain.posting_checks import DocumentTotals, document_totals
from background_posting.domain.verification import needs_verification
from background_posting.services import posting, verification_service, visible
from background_posting.store import companies as company_store


def _totals_json(totals: DocumentTotals) -> dict[str, Any]:
    return {
        "net": format(totals.net, "f"),
        "tax": format(totals.tax, "f") if totals.tax_known else None,
        "gross": format(totals.gross, "f") if totals.tax_known else None,
        "taxes": [
            {"tax_code": code, "tax": format(amount, "f")}
            for code, amount in sorted(totals.taxes.items(), key=lambda kv: str(kv[0] or ""))
        ],
        "tax_known": totals.tax_known,
    }


def preview(caller: Caller, document_id: str, offset: int, limit: int) -> dict[str, Any]:
    """What posting the document now would write (lines [offset, offset + limit)), or every
    problem that stops it; changes nothing."""
    document = visible.read_document(caller, document_id)
    document.require_status("previewed", IN_PROGRESS, READY_TO_POST)
    company = company_store.get_company(document.company)[0]
    body: dict[str, Any] = {
        "document_id": document.id,
        "number": document.number,
        "status": document.status,
        "version": document.version,
        "currency": document.currency,
        "totals": _totals_json(document_totals(document, company)),
    }
    try:
        if needs_verification(document):  # what the verification would say, and post
            verification = verification_service.verification_now(document)
            body["verification"] = verification.model_dump(mode="json")
            document = document.model_copy(update={"verification": verification})
        draft = posting.draft_for(document)
    except ValidationFailed as failed:
        return body | {
            "can_post": False,
            "problems": _problems(failed),
            "transaction": None,
        }
    line_count = len(draft.lines)
    shown = list(itertools.islice(posting.line_rows(draft), offset, offset + limit))
    end = offset + len(shown)
    return body | {
        "can_post": True,
        "problems": [],
        "transaction": {"number": None}
        | posting.draft_json(draft)
        | {
            "lines": shown,
            "lines_offset": offset,
            "lines_next": end if end < line_count else None,
        },
    }


def _problems(failed: ValidationFailed) -> list[dict[str, Any]]:
    """Every problem posting would report; a failure without a list is one problem."""
    listed = failed.details.get("errors") if failed.details else None
    if isinstance(listed, list) and listed:
        return [dict(problem) for problem in listed]
    return [{"code": failed.code, "message": failed.message, "field": None}]
