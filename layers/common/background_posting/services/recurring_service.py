"""Save & Post (create and post in one request) and recurring invoices.

Every run (the schedule, Run Now, a list view's Background Post of sales invoices) begins
with `create_due`: for each active template of the run's companies, each invoice that has
fallen due and was not created yet is created (its id derived from the template and its
date) and, with `save_and_post`, sent to the background as Save & Post of a recurring
invoice does (Ready to Post, worker items, a worker log group of the template's submitter),
so the same run then finds and posts it. The template records the last date done only after
that date's invoice is created and queued: a run that dies midway is repeated by the next
delivery, which finds the invoice by its id and finishes what is missing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

from aws_lambda_powertools import Logger

from background_posting import clock
from background_posting.config import get_settings
from background_posting.domain.document_input import TradingDocumentInput
from background_posting.domain.documents import IN_PROGRESS, Document
from background_posting.domain.errors import Conflict, DomainError, NotFound
from background_posting.domain.identity import Caller
from background_posting.domain.recurring import (
    RecurringInvoice,
    RecurringInvoiceInput,
    invoice_id,
)
from background_posting.function_settings import OrganisationTimeSettings
from background_posting.services import background_service, document_service
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import document_store, recurring_store

logger = Logger(child=True)
KEEP_INVOICE_IDS = 120
SAFETY_MARGIN_SECONDS = 20.0


def create(caller: Caller, data: RecurringInvoiceInput) -> RecurringInvoice:
    company = data.template.company
    caller.require_company(company)
    company_store.get_company(company)
    try:
        account = account_store.get_account(data.template.account)[0]
    except NotFound:
        account = None
    if account is None or account.company != company:
        raise NotFound(
            f"template.account: account {data.template.account!r} does not exist in company "
            f"{company!r}.",
            code="account_not_found",
            details={"errors": [{"field": "template.account", "message": "does not exist"}]},
        )
    template = RecurringInvoice(
        id=uuid.uuid4().hex,
        company=company,
        template=data.template.model_dump(mode="json", exclude={"document_date", "recurring"}),
        frequency=data.frequency,
        start=data.start,
        until=data.until,
        save_and_post=data.save_and_post,
        created_at=clock.now(),
        created_by=caller.user_id,
        created_by_email=caller.email,
    )
    return recurring_store.insert(template).with_next_date()


def read(caller: Caller, template_id: str) -> RecurringInvoice:
    template = recurring_store.get(template_id)
    if not caller.may_use(template.company):
        raise NotFound(
            f"Recurring invoice {template_id!r} does not exist.",
            code="recurring_invoice_not_found",
            details={"id": template_id},
        )
    return template.with_next_date()


def delete(caller: Caller, template_id: str) -> RecurringInvoice:
    """Stop the template: no more invoices; those it created stay as they are."""
    for _attempt in range(5):
        template = read(caller, template_id)
        stopped = template.model_copy(update={"status": "deleted", "next_date": None})
        if template.status == "deleted" or recurring_store.replace(template, stopped):
            return stopped
    raise Conflict("The recurring invoice is being changed; try again.", code="concurrent_update")


# -- what a run does first ------------------------------------------------------------------


def _today() -> date:
    return (
        clock.now()
        .astimezone(ZoneInfo(get_settings(OrganisationTimeSettings).organisation_timezone))
        .date()
    )


def create_due(
    companies: list[str] | None, seconds_left: Callable[[], float], today: date | None = None
) -> int:
    """Create (and with Save & Post, queue) every invoice due by `today` (the organisation's
    date) of the active templates of `companies` (None: all); answers how many were new."""
    today = today or _today()
    created = 0
    for template in recurring_store.active():
        if companies is not None and template.company not in companies:
            continue
        for on in template.due(today):
            if seconds_left() < SAFETY_MARGIN_SECONDS:
                logger.info("recurring invoices left for the next run", extra={"id": template.id})
                return created
            try:
                created += _create_one(template, on)
            except DomainError as exc:  # the template's data no longer fits (account, company)
                logger.warning(
                    "recurring invoice not created",
                    extra={"template": template.id, "date": on.isoformat(), "error": exc.code},
                )
                break  # this template stops here; the next run tries the same date again
            template = _advance(template, on)
    return created


def _owner(template: RecurringInvoice) -> Caller:
    return Caller(
        template.created_by,
        template.created_by_email,
        allowed_companies=frozenset({template.company}),
    )


def _create_one(template: RecurringInvoice, on: date) -> int:
    """The template's invoice dated `on`, created once; queued once with Save & Post."""
    owner = _owner(template)
    document_id = invoice_id(template.id, on)
    data = TradingDocumentInput.model_validate(
        template.template | {"document_date": on.isoformat(), "recurring": template.save_and_post}
    )
    new = 1
    try:
        document_service.create_document(owner, data, document_id=document_id)
    except Conflict as exc:
        if exc.code != "document_exists":
            raise
        new = 0  # created by an earlier, interrupted delivery of this run (or a parallel run)
    if template.save_and_post:
        document = document_store.get_document(document_id, with_lines=False).document
        if document.status == IN_PROGRESS:
            with contextlib.suppress(Conflict):  # a parallel run queued it first
                background_service.post_with_button(owner, document_id, "auto")
    if new:
        logger.info(
            "recurring invoice created",
            extra={"template": template.id, "date": on.isoformat(), "document": document_id},
        )
    return new


def _advance(template: RecurringInvoice, on: date) -> RecurringInvoice:
    """Record `on` as done (never moving back past what a parallel run recorded)."""
    for _attempt in range(10):
        if template.created_through is not None and template.created_through >= on:
            return template
        invoices = [*template.invoices, invoice_id(template.id, on)][-KEEP_INVOICE_IDS:]
        after = template.model_copy(update={"created_through": on, "invoices": invoices})
        if recurring_store.replace(template, after):
            return after
        template = recurring_store.get(template.id)
    return template


# -- Save & Post ----------------------------------------------------------------------------


def save_and_post(caller: Caller, data: object) -> tuple[Document, bool]:
    """Create the document and post it as the Post button would: (document, queued).

    A refused posting leaves the created document In Progress; the error says so and carries
    the document's id and number (`details.document`), so it can be corrected and posted.
    """
    created = document_service.create_document(caller, data)
    try:
        return background_service.post_with_button(caller, created.id, "auto")
    except DomainError as exc:
        exc.message = f"{created.number} was saved (In Progress) but not posted: {exc.message}"
        exc.details = exc.details | {
            "document": {"id": created.id, "number": created.number, "status": IN_PROGRESS}
        }
        raise
