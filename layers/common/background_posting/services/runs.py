"""Runs: find due worker items through the `due` index and fan their documents out over SQS.

A run is started by the schedule, by Run Now, or by a list view's Background Post. It scans
the index shard by shard, one page at a time, queuing one message per document; before its
invocation's time runs out it records where it stopped (conditionally, so a redelivered
continuation cannot count twice) and hands the rest to a continuation message. A document
whose next item is the tax commit goes to the tax commit function, every other to the posting
worker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from background_posting import clock
from background_posting.adapters.sqs import Queue
from background_posting.domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from background_posting.domain.identity import Caller
from background_posting.domain.types import time_bound
from background_posting.domain.work import TAX_COMMIT_ACTIONS, Run
from background_posting.services.queues import (
    posting_queue,
    request_digests,
    run_queue,
    tax_commit_queue,
)
from background_posting.store import log_groups, work_log
from background_posting.store import worker_items as item_store

SAFETY_MARGIN_SECONDS = 15.0
# How far back runs are looked at for recovery: SQS keeps a message at most 14 days.
RECOVERY_WINDOW = timedelta(days=14)

logger = Logger(child=True)
OLDEST_DUE_METRIC = "OldestDueWorkerItemAgeSeconds"
"""Published by every invocation of a run: the age of the oldest due worker item its scan saw
(0 when none); template.yaml's OldestDueWorkerItemAlarm fires when work is not draining."""


def run_now(caller: Caller) -> Run:
    """Run Now: all due work of the organisation (System Administrator or Run Now)."""
    if not caller.may_run_now:
        raise Forbidden(
            "Run Now needs the Run Now permission set or a System Administrator.",
            code="permission_denied",
        )
    return _request(caller, "run_now", None, None)


def background_post(caller: Caller, document_type: str) -> Run:
    """A list view's Background Post: that type's queued documents in the caller's companies."""
    if not caller.may_use_listview:
        raise Forbidden(
            "Background Post needs the Listview permission set or a System Administrator.",
            code="permission_denied",
        )
    companies = None
    if not caller.is_admin:
        candidates = (
            caller.logged_in
            if caller.logged_in is not None
            else frozenset(c for c in caller.allowed_companies if c != "*")
        )
        if "*" in caller.allowed_companies and caller.logged_in is None:
            companies = None  # allowed everywhere and logged into all: every company
        else:
            companies = caller.companies_in(sorted(candidates))
    return _request(caller, "list_view", companies, document_type)


def _request(
    caller: Caller, trigger: str, companies: list[str] | None, document_type: str | None
) -> Run:
    run, _ = work_log.create_run(trigger, caller.user_id, companies, document_type)
    run_queue().send({"run_id": run.id})
    return run


def start_document_run(
    caller: Caller,
    company: str,
    document_type: str,
    document: tuple[str, str],
    queue: Queue | None = None,
) -> Run:
    """A run over one document (Retry now, trigger `document`): `document` = (its id, its
    number); started by a message on the run queue (`queue`, the configured one if None)."""
    run, _ = work_log.create_run(
        "document", caller.user_id, [company], document_type, document=document
    )
    (queue or run_queue()).send({"run_id": run.id})
    return run


def start_scheduled_run(scheduled_for: str) -> Run | None:
    """A fired schedule: one run per scheduled time, however often EventBridge delivers it."""
    run_id = "scheduled-" + "".join(ch for ch in scheduled_for if ch.isalnum())
    run, created = work_log.create_run(
        "schedule", "scheduler", None, None, run_id=run_id, scheduled_for=scheduled_for
    )
    return run if created else None


def view_run(caller: Caller, run_id: str) -> Run:
    """The run, for a Run Now user or administrator, whoever started it, and everyone whose
    submitted work it processed (its participants, recorded as its scan queued their work)."""
    run = work_log.get_run(run_id)
    if caller.may_run_now or run.requested_by == caller.user_id:
        return run
    if work_log.took_part(run_id, caller.user_id):  # recorded as the run queued their work
        return run
    raise NotFound(f"Run {run_id!r} does not exist.", code="run_not_found")


RUN_STATUSES = ("finding work", "processing", "completed", "completed with failures")
RUN_TRIGGERS = ("schedule", "run_now", "list_view", "document")


def list_runs(
    caller: Caller,
    status: str | None,
    trigger: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    token: str | None,
) -> work_log.RunsPage:
    """A page of runs, newest first: an administrator's every run whose scope reaches a
    company of theirs (all, for one of every company); anyone else's the runs that processed
    work they submitted. Read by Query (and one BatchGetItem), never a scan."""

    since, until = time_bound(since, "from", end=False), time_bound(until, "to", end=True)
    if since is not None and until is not None and since > until:
        message = "to: the end of the period is before its start (from)."
        raise InvalidRequest(
            message,
            details={"errors": [{"field": "to", "message": message, "code": "invalid_period"}]},
        )

    def keep(run: Run) -> bool:
        if status is not None and run.status != status:
            return False
        if trigger is not None and run.trigger != trigger:
            return False
        if not caller.is_admin or caller.may_use_every_company or run.companies is None:
            return True
        return any(caller.may_use(company) for company in run.companies)

    return work_log.list_runs(
        None if caller.is_admin else caller.user_id,
        since,
        until,
        keep,
        limit,
        token,
        terms=(status, trigger),
    )


def run_results(
    caller: Caller, run_id: str, outcome: str | None, limit: int, token: str | None
) -> log_groups.RunResultsPage:
    """What the run did, a row per document and action, for whoever may read the run: an
    administrator every row; anyone else the rows of the work they submitted."""
    view_run(caller, run_id)
    page = log_groups.results_of_run(run_id, outcome, limit, token)
    if caller.is_admin:
        return page
    owners = log_groups.group_owners({r.group_id for r in page.results})
    mine = [r for r in page.results if owners.get(r.group_id) == caller.user_id]
    return log_groups.RunResultsPage(mine, page.next_token)


def _matches(run: Run, due: item_store.DueDocument) -> bool:
    if run.document_type and due.document_type != run.document_type:
        return False
    return run.companies is None or due.company in run.companies


def _prefix(run: Run) -> str | None:
    if run.companies is not None and len(run.companies) == 1:
        company = run.companies[0]
        return f"{company}#{run.document_type}#" if run.document_type else f"{company}#"
    return None


def _fan_out(run: Run, documents: list[item_store.DueDocument], posting: Queue) -> None:
    """Each document to the function that does its next item: the tax commit, or posting."""
    commits = [d for d in documents if d.action in TAX_COMMIT_ACTIONS]
    others = [d for d in documents if d.action not in TAX_COMMIT_ACTIONS]
    posting.send_all([_message(run, d) for d in others])
    if commits:
        tax_commit_queue().send_all(
            [{"run_id": run.id, "document_id": d.document_id} for d in commits]
        )


def _message(run: Run, due: item_store.DueDocument) -> dict[str, Any]:
    """A posting message: the document, and its items when the run read them whole (the
    worker then does not read them again)."""
    message: dict[str, Any] = {"run_id": run.id, "document_id": due.document_id}
    if due.items is not None:
        message["items"] = [item_store.as_message(item) for item in due.items]
    return message


def _record_participants(
    run: Run, documents: list[item_store.DueDocument], recorded: set[str]
) -> None:
    """The submitters of the documents about to be queued are the run's participants (before
    their messages go, so a submitter may read the run as soon as a worker reports into it);
    each written once per invocation, idempotent across invocations."""
    users = {user for document in documents for user in document.submitters} - recorded
    if users:
        work_log.add_participants(run, users)
        recorded |= users


def _execute_document_run(run: Run, document_id: str, posting: Queue) -> Run:
    """A run over one document (Retry now): its scan is one read of that document's items,
    queued when its next item is due."""
    if not run.scan_complete:
        now = clock.timestamp()
        items = item_store.items_of(document_id)
        due = tuple(item for item in items if item.not_before <= now)
        found = (
            [
                item_store.DueDocument(
                    document_id,
                    due[0].company,
                    due[0].document_type,
                    due[0].action,
                    due,
                    frozenset(item.submitted_by for item in due),
                )
            ]
            if items and due and due[0] == items[0]
            else []
        )
        _record_participants(run, found, set())
        _fan_out(run, found, posting)
        with contextlib.suppress(Conflict):  # a redelivered message moved it on already
            work_log.advance_run(run, None, len(found), True)
        run = work_log.get_run(run.id)
    request_digests(run)
    return run


def execute_run(
    run_id: str, seconds_left: Callable[[], float], posting: Queue | None = None
) -> Run:
    """Queue the run's documents until done or out of time (then hand on to a continuation);
    `posting` is the posting workers' queue (the configured one if None)."""
    run = work_log.get_run(run_id)
    if run.document is not None:
        return _execute_document_run(run, run.document, posting or posting_queue())
    if (
        run.cursor is None
        and not run.scan_complete
        and run.document_type in (None, "sales_invoice")
    ):
        # Imported here: only the scheduled posting function starts a run's scan; the worker
        # (which finishes runs through this module) need not load the recurring invoices'.
        from background_posting.services import recurring_service

        recurring_service.create_due(run.companies, seconds_left)  # first: the invoices now due
    queue = posting or posting_queue()
    oldest = 0.0
    recorded: set[str] = set()  # the participants this invocation wrote already
    while not run.scan_complete:
        if seconds_left() < SAFETY_MARGIN_SECONDS:
            run_queue().send({"run_id": run.id})
            _publish_oldest_due(oldest)
            return run
        cursor = run.cursor or {"shard": 0, "key": None}
        shard, key = int(cursor.get("shard", 0)), cursor.get("key")
        found: list[item_store.DueDocument] = []
        next_key: dict[str, Any] | None = None
        if run.companies == []:
            pass
        else:
            found, next_key = item_store.due_documents(shard, _prefix(run), key)
        oldest = max(oldest, oldest_due_age(found, clock.now()))
        documents = [d for d in found if _matches(run, d)]
        _record_participants(run, documents, recorded)
        _fan_out(run, documents, queue)
        next_shard = shard if next_key is not None else shard + 1
        done = next_shard >= item_store.DUE_SHARDS or run.companies == []
        new_cursor = None if done else {"shard": next_shard, "key": next_key}
        with contextlib.suppress(Conflict):  # a redelivered continuation moved it on already
            work_log.advance_run(run, new_cursor, len(documents), done)
        run = work_log.get_run(run.id)
    # The workers may have finished every queued document before the scan completed
    request_digests(run)
    _publish_oldest_due(oldest)
    return run


def oldest_due_age(found: list[item_store.DueDocument], now: datetime) -> float:
    """Seconds the oldest of these due items has been due (since it was created, or since its
    `not_before` when that is later); 0 when none."""
    ages = [
        now.timestamp() - max(datetime.fromisoformat(item.created_at).timestamp(), item.not_before)
        for document in found
        for item in document.items or ()
    ]
    return max([0.0, *ages])


def _publish_oldest_due(seconds: float) -> None:
    # Metrics() shares the function's metric set: the handler's log_metrics flushes it (EMF)
    Metrics().add_metric(name=OLDEST_DUE_METRIC, unit=MetricUnit.Seconds, value=round(seconds))


def recover_interrupted_runs(now: datetime | None = None) -> list[str]:
    """Runs left unfinished by a restart that lost their queued messages: scan again.

    The local stack's queues live in memory, so a restart loses every queued message, and a
    run waiting for them would stay `processing` (or `finding work`) for ever and never send
    its digest. Their documents' worker items are still in the store, in the `due` index:
    each such run's scan starts again (counting as queued only what was done), queues what
    of its scope is still due, and finishes when that is processed (at once, with its
    digest, when nothing is left). Called by the local stack when it starts, before its
    workers poll. The run ids recovered.
    """
    since = (now or clock.now()) - RECOVERY_WINDOW
    recovered = []
    for run in work_log.runs_since(since):
        if run.finished:
            continue
        if work_log.restart_scan(run):
            run_queue().send({"run_id": run.id})
            recovered.append(run.id)
    if recovered:
        logger.info("interrupted runs scan again", extra={"runs": recovered})
    return recovered


def message_abandoned(run_id: str | None) -> bool:
    """A posting or tax commit message of the run was given up on (its last receive failed,
    so SQS moves it to the dead-letter queue): count it processed and abandoned, so the run
    finishes and its digest goes; its document keeps its worker items for a later run. True
    when that finished the run. To be called by the worker on a record's last receive."""
    if not run_id:
        return False
    run = work_log.count_abandoned(run_id)
    logger.warning("run message abandoned", extra={"run": run_id})
    return request_digests(run)
