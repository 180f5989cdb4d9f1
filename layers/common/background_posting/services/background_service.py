"""Sending documents to the background: Ready to Post, worker items and a worker log group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from background_posting import clock
from background_posting.adapters.sqs import Queue
from background_posting.domain.background import (
    PlannedItem,
    background_reasons,
    check_post_on,
    plan_items,
    starts_in,
    with_maximum_in_force,
)
from background_posting.domain.documents import DISCARDED, IN_PROGRESS, READY_TO_POST, Document
from background_posting.domain.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ValidationFailed,
)
from background_posting.domain.identity import Caller
from background_posting.domain.verification import needs_verification
from background_posting.domain.work import LogGroup, Outcome, Run, WorkerItem
from background_posting.services import (
    posting,
    runs,
    tax_service,
    verification_service,
    visible,
)
from background_posting.services.attempts import log_entry
from background_posting.store import companies as company_store
from background_posting.store import document_store
from background_posting.store import log_groups as group_store
from background_posting.store import org as org_store
from background_posting.store import reference as reference_store
from background_posting.store import worker_items as item_store
from background_posting.store.history import Change, entry
from background_posting.store.writes import Write, transact

MAX_LIST_VIEW_DOCUMENTS = 100


def _queue(
    document: Document,
    caller: Caller,
    group_id: str | None,
    title: str,
    also: Sequence[Write] = (),
    *,
    at: datetime | None = None,
    post_on: tuple[date, float] | None = None,
) -> Document:
    """In Progress -> Ready to Post with its worker items (and `also`), in one transaction;
    `post_on`: (the date, the instant it starts in the company's time zone) before which no run
    takes its items."""
    settings = org_store.background_posting_settings()
    planned = plan_items(document, settings, posted_already=False)
    changed = document.moved_to(
        READY_TO_POST, at or clock.now(), post_on=post_on[0] if post_on else None
    )
    changed = verification_service.on_queue(document, changed)  # verification pending
    writes: list[Write] = []
    if group_id is None:
        group_id, created = group_store.group_created(
            caller.user_id, caller.email, title, [document.company]
        )
        writes.append(created)
    details: dict[str, Any] = {"post_on": post_on[0].isoformat()} if post_on else {}
    writes.append(document_store.moved(document, changed, Change("queue", caller.user_id, details)))
    writes.extend(
        item_store.items_added(
            document,
            planned,
            caller.user_id,
            group_id,
            title,
            not_before=post_on[1] if post_on else 0,
        )
    )
    writes.extend(also)
    try:
        transact(writes)
    except document_store.DocumentMoved as exc:
        latest = document_store.get_document(document.id, with_lines=False).document
        latest.require_postable()
        raise Conflict(
            f"{document.number} changed meanwhile; try again.", code="concurrent_update"
        ) from exc
    return changed


def queue(document: Document, caller: Caller, title: str, also: Sequence[Write] = ()) -> Document:
    """Send the document to the background in a log group of its own, with `also` in the
    same transaction (a reversal: its original marked reversed)."""
    return _queue(document, caller, None, title, also)


def queue_for_later(
    document: Document,
    actor: str,
    log_group: tuple[str, str],
    item: PlannedItem,
    not_before: float,
) -> Document:
    """Ready to Post with one worker item that no run takes before `not_before`, in the log
    group `log_group` (its id and title)."""
    changed = document.moved_to(READY_TO_POST, clock.now())
    queued = Change("queue", actor, {"not_before": datetime.fromtimestamp(not_before, UTC)})
    group_id, title = log_group
    transact(
        [
            document_store.moved(document, changed, queued),
            *item_store.items_added(
                document, [item], actor, group_id, title, not_before=not_before
            ),
        ]
    )
    return changed


def post_with_button(
    caller: Caller,
    document_id: str,
    mode: str,
    post_on: date | None = None,
    now: datetime | None = None,
) -> tuple[Document, bool]:
    """The Post button (`auto`) or the integration API (`immediate`): (document, queued).

    With `post_on` (the Post button only): Ready to Post now, its worker items due from the
    start of that date in the company's time zone, so the first run on or after it posts it.
    """
    document = visible.read_document(caller, document_id)
    document.require_postable()
    if post_on is not None:
        return _queue_for_date(caller, document, mode, post_on, now or clock.now()), True
    if mode == "auto":
        settings = company_store.get_settings(document.company)
        reasons = background_reasons(document, settings, "button")
        if reasons:
            title = f"{document.number} sent to the background ({'; '.join(reasons)})"
            return _queue(document, caller, None, title), True
    if needs_verification(document):  # online invoice verification, then posted at once
        return verification_service.post_online(caller, document), False
    return posting.post_with_follow_up(caller, document), False


def _queue_for_date(
    caller: Caller, document: Document, mode: str, post_on: date, now: datetime
) -> Document:
    if mode != "auto":
        message = (
            "Post on: a date to post on is for the Post button (mode auto); the integration "
            "API's immediate mode posts at once."
        )
        raise InvalidRequest(
            message,
            details={
                "errors": [
                    {"field": "post_on", "label": "Post on", "message": message, "code": "mode"}
                ]
            },
        )
    company, _ = company_store.get_company(document.company)
    check_post_on(post_on, now.astimezone(ZoneInfo(company.timezone)).date())
    reasons = background_reasons(document, company_store.get_settings(document.company), "button")
    title = (
        f"{document.number} to be posted on {post_on.isoformat()}"
        f"{' (' + '; '.join(reasons) + ')' if reasons else ''}"
    )
    return _queue(
        document,
        caller,
        None,
        title,
        at=now,
        post_on=(post_on, starts_in(post_on, company.timezone)),
    )


def post_from_list_view(caller: Caller, document_ids: Sequence[str]) -> list[Document]:
    """Post several documents from a list view: all go to the background, in one log group.

    Every document is checked first; if any cannot be posted, none is queued.
    """
    unique = list(dict.fromkeys(document_ids))
    documents = []
    problems = []
    for document_id in unique:
        try:
            document = visible.read_document(caller, document_id, with_lines=False)
        except NotFound:
            problems.append(
                {
                    "id": document_id,
                    "code": "document_not_found",
                    "message": f"Document {document_id!r} does not exist.",
                }
            )
            continue
        if document.status != IN_PROGRESS:
            problems.append(
                {
                    "id": document_id,
                    "number": document.number,
                    "code": "document_not_in_progress",
                    "message": f"{document.number} is {document.status}.",
                }
            )
            continue
        documents.append(document)
    if problems:
        raise Conflict(
            f"{len(problems)} of {len(unique)} documents cannot be posted; none was queued.",
            code="documents_not_postable",
            details={"documents": problems},
        )
    title = f"{len(documents)} documents posted from a list view"
    group_id = group_store.create_group(
        caller.user_id, caller.email, title, {d.company for d in documents}
    )
    return [_queue(visible.read_document(caller, d.id), caller, group_id, title) for d in documents]


def worker_items(caller: Caller, reference: str) -> list[WorkerItem]:
    items = [i for i in item_store.by_reference(reference) if caller.may_use(i.company)]
    return _shown(items)


def job_queue(
    caller: Caller,
    submitted_by: str | None,
    company: str | None,
    state: str | None,
    limit: int,
    token: str | None,
) -> item_store.QueuePage:
    """My Job Queue: a page of the worker items `submitted_by` submitted (the caller's own when
    None or `me`; another's only for an administrator), newest first, of the companies the
    caller may use (or the one named), in `state` (`queued`, `in_process`, `failed`), with
    the name of each item's account."""
    submitter = caller.user_id if submitted_by in (None, "me") else str(submitted_by)
    if submitter != caller.user_id:
        caller.require_admin("read another user's job queue")
    companies = caller.companies_for(company)
    page = item_store.queue_of(submitter, companies, state, limit, token, clock.timestamp())
    # the accounts' names in one BatchGetItem for the page, not a read per row
    accounts = reference_store.read_accounts({item.account for item in page.items if item.account})
    names = {account_id: account.name for account_id, account in accounts.items()}
    return item_store.QueuePage(_shown(page.items), page.next_token, names)


def _shown(items: list[WorkerItem]) -> list[WorkerItem]:
    """Worker items as an answer shows them: with the maximum attempts in force now."""
    return with_maximum_in_force(items, org_store.background_posting_settings()) if items else []


def discard(caller: Caller, document_id: str) -> Document:
    """Discard a document: In Progress as usual, or an invoice verified with errors as it is
    (its worker items go with it); a tax AvaTax calculated for it (uncommitted) is voided."""
    document = visible.read_document(caller, document_id, with_lines=False)
    discarded = verification_service.discard_with_errors(caller, document)  # verified with errors
    if discarded is not None:
        return discarded
    document.require_discardable()
    voided = tax_service.void_calculated(document, tax_service.INTERACTIVE_BUDGET_SECONDS)
    return document_store.change_status(
        document,
        document.moved_to(DISCARDED, clock.now(), **voided),
        Change("discard", caller.user_id),
    )


def withdraw(caller: Caller, document_id: str, status: str) -> Document:
    """An administrator sets a Ready to Post document back to In Progress."""
    if status != IN_PROGRESS:
        raise ValidationFailed(
            "A document can only be set back to In Progress: choose In Progress as its status.",
            code="invalid_request",
            details={
                "errors": [
                    {
                        "field": "status",
                        "label": "Status",
                        "message": "Status must be In Progress.",
                        "code": "literal_error",
                    }
                ]
            },
        )
    document = visible.read_document(caller, document_id, with_lines=False)
    back = verification_service.set_back_in_progress(caller, document)  # verified with errors
    if back is not None:
        return back
    caller.require_admin("set a Ready to Post document back to In Progress")
    document.require_status("set back to In Progress", READY_TO_POST)
    remaining = item_store.items_of(document.id)
    if remaining:
        raise Conflict(
            f"{document.number} still has {len(remaining)} worker item"
            f"{'' if len(remaining) == 1 else 's'}: remove them first (Remove worker items, on "
            "the document's page), then set it back to In Progress.",
            code="worker_items_remain",
            details={"worker_items": _shown(remaining)},
        )
    return document_store.change_status(
        document,
        document.moved_to(IN_PROGRESS, clock.now(), post_on=None),
        Change("set_back", caller.user_id),
    )


def require_submitter(
    caller: Caller,
    document: Document,
    items: Sequence[WorkerItem],
    action: str,
    *,
    run_now_too: bool = False,
) -> None:
    """The submitter of the document's worker items, or an administrator (`run_now_too`: or a
    Run Now user, who may run every document's work anyway)."""
    if caller.is_admin or caller.user_id in {item.submitted_by for item in items}:
        return
    if run_now_too and caller.may_run_now:
        return
    submitters = sorted({item.submitted_by for item in items})
    others = "a Run Now user or a System Administrator" if run_now_too else "a System Administrator"
    raise Forbidden(
        f"Only the user who submitted {document.number}"
        f"{' (' + ', '.join(submitters) + ')' if submitters else ''} or {others} may {action}.",
        code="permission_denied",
        details={"number": document.number, "submitted_by": submitters},
    )


def cancel_background(caller: Caller, document_id: str) -> Document:
    """Cancel background posting: the submitter (or an administrator) takes a Ready to Post
    document out of the background. Its worker items go and it is In Progress again in one
    transaction, conditional on the document's version and on no worker holding an item
    (409 `worker_item_held`); the cancellation is logged in the items' worker log groups."""
    # the items before the document: a worker's commit removes them as it posts, so items read
    # gone mean a document read after them is no longer Ready to Post (a 409, not a 403)
    items = item_store.items_of(document_id)
    document = visible.read_document(caller, document_id, with_lines=False)
    document.require_status("taken out of the background", READY_TO_POST)
    require_submitter(caller, document, items, f"take {document.number} out of the background")
    at = clock.now()
    changed = document.moved_to(IN_PROGRESS, at, post_on=None)
    note = [
        {
            "code": "cancelled",
            "message": f"{caller.user_id} took {document.number} out of the background: it is "
            "In Progress again and its worker items are removed.",
        }
    ]
    entries = [
        group_store.entry_added(
            group, log_entry(item, None, Outcome.CANCELLED, note, item.attempts, at=at)
        )
        for group, item in {item.log_group: item for item in reversed(items)}.items()
    ]
    try:
        transact(
            [
                document_store.moved(
                    document,
                    changed,
                    Change("cancel", caller.user_id, {"worker_items": len(items)}),
                ),
                *(item_store.withdrawn(item, at.timestamp()) for item in items),
                *entries,
            ]
        )
    except document_store.DocumentMoved as exc:
        latest = document_store.get_document(document.id, with_lines=False).document
        latest.require_status("taken out of the background", READY_TO_POST)
        raise Conflict(
            f"{document.number} changed meanwhile; read it again.",
            code="concurrent_update",
            details={"number": document.number},
        ) from exc
    return changed


def retry_now(caller: Caller, document_id: str, queue: Queue | None = None) -> Run:
    """Retry now: a run over this one document, started now (trigger `document`), by the
    submitter of its worker items, a Run Now user or an administrator.

    409 `no_worker_items` when nothing of it waits in the background, `worker_item_held` while
    a worker holds its next item, `worker_items_not_due` when that item waits for its date
    (Post on a date, a journal's date); a failed item's retry delay is waived.
    """
    items = item_store.items_of(document_id)  # before the document: see cancel_background
    document = visible.read_document(caller, document_id, with_lines=False)
    if not items:
        raise Conflict(
            f"{document.number} has no worker items: nothing of it waits in the background "
            f"(it is {document.status}).",
            code="no_worker_items",
            details={"number": document.number, "status": document.status},
        )
    require_submitter(caller, document, items, f"retry {document.number} now", run_now_too=True)
    now = clock.timestamp()
    first = items[0]  # a document's items run in order: the first decides
    if first.held_at(now):
        raise Conflict(
            f"A worker is processing {document.number} now; its result will be in the worker "
            "log shortly.",
            code="worker_item_held",
            details={"worker_items": [first]},
        )
    if first.not_before > now:
        if first.last_error is None:  # waiting for its date, not for a retry delay
            zone = company_store.get_company(document.company)[0].timezone
            local = datetime.fromtimestamp(first.not_before, ZoneInfo(zone))
            raise Conflict(
                f"{document.number} is not due yet: its {first.action.replace('_', ' ')} "
                f"waits until {local:%d %b %Y %H:%M} ({zone}), and no run takes it before then.",
                code="worker_items_not_due",
                details={"number": document.number, "not_before": local.isoformat()},
            )
        transact([item_store.retry_delay_waived(first, now)])
    return runs.start_document_run(
        caller, document.company, document.type, (document.id, document.number), queue
    )


def remove_worker_items(caller: Caller, document_id: str) -> dict[str, Any]:
    """An administrator removes a document's pending worker items (none a worker holds)."""
    caller.require_admin("remove worker items")
    document = visible.read_document(caller, document_id, with_lines=False)
    items = item_store.items_of(document.id)
    if not items:
        return {"removed": 0, "reference": document.number}
    now = clock.now().timestamp()
    removed = Change("worker_items_removed", caller.user_id, {"worker_items": len(items)})
    try:
        # the items, the check that the document is as read and its history entry: together
        transact(
            [
                document_store.unchanged(document.id, document).with_companions(
                    entry(
                        document.id,
                        removed,
                        from_status=document.status,
                        to_status=document.status,
                        version=document.version,
                    )
                ),
                *(item_store.withdrawn(item, now) for item in items),
            ]
        )
    except Conflict as exc:
        if exc.code == "worker_item_held":
            raise Conflict(
                f"A worker is processing {document.number} now; try again when it has finished.",
                code="worker_item_in_progress",
                details={"worker_items": _shown(items)},
            ) from exc
        raise Conflict(
            f"{document.number} changed meanwhile; read it again.",
            code="concurrent_update",
            details={"number": document.number},
        ) from exc
    return {"removed": len(items), "reference": document.number}


def log_groups(
    caller: Caller, owner: str | None, limit: int = 100, token: str | None = None
) -> group_store.GroupsPage:
    """A page of the caller's worker log groups, newest first (an administrator may name
    another owner, and sees those of their groups whose companies are all theirs)."""
    if owner and owner != caller.user_id:
        caller.require_admin("read another user's worker log groups")
    page = group_store.groups_of(owner or caller.user_id, limit, token)
    groups = [group for group in page.groups if _may_read(caller, group)]
    return group_store.GroupsPage(groups, page.next_token)


def _may_read(caller: Caller, group: LogGroup) -> bool:
    """The owner reads their group; an administrator another's when every company of its
    documents is one they may use (an administrator of every company: any group, those
    recorded before groups named their companies included)."""
    if group.owner == caller.user_id:
        return True
    if not caller.is_admin:
        return False
    if caller.may_use_every_company:
        return True
    return bool(group.companies) and all(caller.may_use(c) for c in group.companies)


def _own_group(caller: Caller, group_id: str) -> LogGroup:
    group = group_store.get_group(group_id)
    if not _may_read(caller, group):  # as if it were not there: nothing of another company
        raise NotFound(f"Worker log group {group_id!r} does not exist.", code="log_group_not_found")
    return group


def log_group(
    caller: Caller, group_id: str, limit: int, token: str | None
) -> group_store.GroupPage:
    """The group with a page of its entries, for whoever may read it."""
    page = group_store.group_page(group_id, limit, token)
    if not _may_read(caller, page.group):  # as if it were not there: nothing of another company
        raise NotFound(f"Worker log group {group_id!r} does not exist.", code="log_group_not_found")
    return page


def delete_log_group(caller: Caller, group_id: str) -> None:
    """Only the owner deletes their group (and with it every further e-mail about it): those
    e-mails are how the owner learns of failures they must correct, so nobody else, an
    administrator included, may silence them (an administrator stops the work itself by
    removing a document's worker items, and the group expires with its entries)."""
    group = _own_group(caller, group_id)
    if group.owner != caller.user_id:
        raise Forbidden(
            f"Worker log group {group_id} belongs to {group.owner}: only they may delete it "
            "(deleting it would stop their e-mails about this work).",
            code="permission_denied",
            details={"owner": group.owner},
        )
    group_store.delete_group(group_id)
