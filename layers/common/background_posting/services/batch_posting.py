"""Plain documents of one company, posted together: one commit numbers several documents.

A company's transaction numbers come from one counter item, and a commit must carry the
value it read: however many workers run, one company's postings go through that one item
one commit at a time (docs/at-scale.md). So a worker batch first posts its plain documents
(one `post_document` item, nothing else to do) of each company in as few transactions as
fit DynamoDB's limits: one counter update takes consecutive numbers for all of them, and
each document's own conditions (postable status, version read, its worker item still there)
stay in the same all-or-nothing transaction.

Anything unusual is left to the ordinary path, one message at a time, which says why: a
document that does not validate (its attempt is counted there), one that moved or whose item
went meanwhile (that one is dropped and the rest committed again), any other failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from background_posting.domain.background import only_posting, plan_items
from background_posting.domain.documents import READY_TO_POST, Document
from background_posting.domain.errors import DomainError
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.domain.work import Outcome, WorkerItem
from background_posting.services import posting as posting_service
from background_posting.services.attempts import Attempt
from background_posting.store import batch_reads, document_store, ledger_store, work_log
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store
from background_posting.store.transient import is_transient
from background_posting.store.writes import Write, fits

logger = Logger(child=True)

MAX_DOCUMENTS_PER_COMMIT = 20


@dataclass(frozen=True)
class Candidate:
    """A message whose document is a plain posting, with what its commit needs."""

    key: tuple[str | None, str]
    run_id: str | None
    item: WorkerItem
    posting: ledger_store.Posting


def plain(document: Document | None, items: Sequence[WorkerItem] | None) -> bool:
    """Whether the document's whole background work is the one posting item carried."""
    if document is None or items is None or len(items) != 1:
        return False
    if items[0].action != "post_document" or document.status != READY_TO_POST:
        return False
    return only_posting(plan_items(document, BackgroundPostingSettings(), posted_already=False))


def post_together(
    wanted: Sequence[tuple[str | None, str, tuple[WorkerItem, ...] | None]],
    run_of: Callable[[str | None], str | None],
    reference_of: Callable[[Document], reference_store.Reference],
    now: float,
    remember: Callable[[dict[str, reference_store.Reference]], None],
) -> set[tuple[str | None, str]]:
    """Post the plain documents among `wanted` (run id, document id, carried items), each
    company's together; the (run id, document id) of those posted.

    The documents and their companies' reference data are read in two requests in all
    (store/batch_reads.py); `remember` is given the reference data read, before
    `reference_of` is asked for it."""
    by_company: dict[str, list[tuple[tuple[str | None, str], WorkerItem, Document]]] = {}
    chosen: dict[str, tuple[str | None, tuple[WorkerItem, ...]]] = {}
    for run_id, document_id, items in wanted:
        if items is None or document_id in chosen or items[0].not_before > now:
            continue  # a message delivered twice: the copy goes the ordinary way
        chosen[document_id] = (run_id, items)
    if len(chosen) < 2:
        return set()
    companies = {items[0].company for _run_id, items in chosen.values()}
    stored, references = batch_reads.documents_and_references(chosen, companies)
    remember(references)
    for document_id, (run_id, items) in chosen.items():
        document = stored[document_id].document if document_id in stored else None
        if document is not None and plain(document, items):
            by_company.setdefault(document.company, []).append(
                ((run_id, document_id), items[0], document)
            )
    posted: set[tuple[str | None, str]] = set()
    for group in by_company.values():
        if len(group) > 1:
            posted |= _post_company(group, run_of, reference_of)
    return posted


def _post_company(
    group: list[tuple[tuple[str | None, str], WorkerItem, Document]],
    run_of: Callable[[str | None], str | None],
    reference_of: Callable[[Document], reference_store.Reference],
) -> set[tuple[str | None, str]]:
    reference = reference_of(group[0][2])
    candidates = []
    for key, item, document in group:
        reference = reference_of(document)  # reads again only for an account not read yet
        run_id = run_of(key[0])
        attempt = Attempt(item, run_id, None, reference_of, finishing=True)
        also = [item_store.deleted(item), attempt.entry(Outcome.POSTED)]
        try:
            posting = posting_service.prepare_posting(document, item.submitted_by, also, reference)
        except DomainError:
            continue  # the ordinary path counts the attempt and logs every problem
        candidates.append(Candidate(key, run_id, item, posting))
    posted: set[tuple[str | None, str]] = set()
    for chunk in _fitting(candidates):
        posted |= _commit(chunk, reference)
    return posted


def _run_counts(chunk: Sequence[Candidate]) -> list[Write]:
    """One update per run: all of the chunk's postings counted at once (and done)."""
    runs: dict[str, int] = {}
    for candidate in chunk:
        if candidate.run_id is not None:
            runs[candidate.run_id] = runs.get(candidate.run_id, 0) + 1
    return [
        work_log.counted(run_id, Outcome.POSTED, done=True, times=count)
        for run_id, count in runs.items()
    ]


def _writes(candidate: Candidate) -> list[Write]:
    return [*candidate.posting.also, *candidate.posting.staged.inline]


def _fitting(candidates: list[Candidate]) -> list[list[Candidate]]:
    """Consecutive chunks whose commit fits one transaction (4 items a document + shared)."""
    chunks: list[list[Candidate]] = []
    current: list[Candidate] = []
    writes: list[Write] = []
    for candidate in candidates:
        mine = _writes(candidate)
        # the counter, the runs, the checks of the company profile and of each document's account
        shared = 2 + len(_run_counts([*current, candidate])) + len(current) + 1
        # and each document's ledger header, its own header and its history entry
        if current and (
            len(current) >= MAX_DOCUMENTS_PER_COMMIT
            or not fits([*writes, *mine], more_items=shared + 3 * (len(current) + 1))
        ):
            chunks.append(current)
            current, writes = [], []
        current.append(candidate)
        writes += mine
    if current:
        chunks.append(current)
    return chunks


def _commit(
    chunk: list[Candidate], reference: reference_store.Reference
) -> set[tuple[str | None, str]]:
    """Commit the chunk; a document refused by its own condition is dropped, the rest tried
    once more; anything else leaves the whole chunk to the ordinary path."""
    for _try in range(2):
        if len(chunk) < 2:
            return set()
        postings = [c.posting for c in chunk]
        runs = _run_counts(chunk)
        first = postings[0]
        postings[0] = ledger_store.Posting(
            first.document, first.completed, first.header, first.staged, [*first.also, *runs]
        )
        try:
            posting_service.commit_postings(postings, reference)
        except (document_store.DocumentMoved, item_store.ItemGone) as refused:
            number = refused.details.get("number") or refused.details.get("reference")
            chunk = [c for c in chunk if c.posting.document.number != number]
            continue
        except Exception as exc:
            if is_transient(exc):
                raise
            logger.warning(
                "posting together refused; posting one by one", extra={"error": str(exc)}
            )
            return set()
        logger.info("documents posted together", extra={"documents": len(chunk)})
        return {c.key for c in chunk}
    return set()
