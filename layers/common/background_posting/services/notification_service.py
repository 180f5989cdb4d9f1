"""Notifications: each finished run's digest e-mail to each person who submitted its work, once.

**Trigger.** A run is finished when its scan is complete and every queued document's message
has been processed (`Run.finished`). Whoever sees that first asks for the digests
(`request_digests`): the worker that processed the last message, or the run itself when its
scan completes after the workers are done. Both may see it, and SQS may deliver the request
twice: the once-only rule below is what makes that harmless. A run that queued nothing
sends nothing.

**Once only.** For each recipient, `send_digests`:

1. skips a digest already recorded as sent (`NOTIFY#<recipient>` under the run);
2. builds and renders the digest (documents read, nothing written);
3. claims it with a conditional write (`sending`, with a token and a hold time);
4. calls SES;
5. records it `sent` (conditional on the token).

What each failure leaves:

* before the claim (reading, rendering): nothing written; the request is retried.
* SES refuses or cannot be reached: the claim is given back (`unsent`), the failure is
  logged and counted (metric `NotificationSendFailures`), the request is retried by SQS
  (after `maxReceiveCount` receives it goes to the dead-letter queue and raises an alarm).
* the function dies between the claim and SES: the claim stays `sending`; once its hold
  (`NOTIFICATION_HOLD_SECONDS`) has passed, the retried request claims it and sends.
* the function dies after SES accepted the e-mail but before step 5 is written: after the
  hold the retry sends it again. This window (milliseconds) is the one way to a duplicate:
  we chose at-least-once, because a lost digest hides failed documents from the person
  who must correct them, while a rare second copy costs a glance.
* a request that finds another invocation's unexpired claim fails and is retried later, by
  when the digest is `sent` (nothing to do) or the claim has expired (it sends).

Nothing here changes a document, a worker item or a run's counts: a failure to send never
blocks posting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from background_posting.adapters.ses import Mailer
from background_posting.config import get_settings
from background_posting.domain.company import Company
from background_posting.domain.digest import (
    DocumentFacts,
    compose_digest,
    digest_timezone,
    document_facts,
)
from background_posting.domain.errors import DomainError, NotFound
from background_posting.domain.identity import Caller
from background_posting.domain.notifications import DeliveryFailed, Email, NotificationSettings
from background_posting.domain.posting_checks import document_totals
from background_posting.domain.run_results import DocumentResult, RecipientResults, results_of_run
from background_posting.domain.work import LogGroup, Run
from background_posting.function_settings import NotificationFunctionSettings
from background_posting.services.digest_email import render_digest
from background_posting.store import companies as company_store
from background_posting.store import digest_claims, document_store, log_groups, work_log
from background_posting.store import org as org_store

logger = Logger(child=True)


class DigestsNotSent(DomainError):
    """SES did not take one or more of the run's digests; the request is to be retried."""

    code = "notifications_not_sent"


class DigestBeingSent(DomainError):
    """Another invocation holds an unexpired claim on a digest; try again later."""

    code = "notification_in_progress"


@dataclass(frozen=True)
class DigestRequest:
    run_id: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> DigestRequest:
        run_id = body.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise ValueError("the message names no run_id")
        return cls(run_id)


@dataclass
class DigestReport:
    """What one request did, recipient by recipient."""

    run_id: str
    sent: list[str] = field(default_factory=list)
    sent_before: list[str] = field(default_factory=list)
    nothing_new: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    being_sent: list[str] = field(default_factory=list)


# -- sending --------------------------------------------------------------------------------


class Sender(Protocol):
    """What sends an e-mail: `adapters.ses.Mailer` (SES), or a test's fake."""

    def send(self, email: Email) -> str: ...


def send_digests(
    run_id: str, mailer: Sender | None = None, clock: Callable[[], float] = time.time
) -> DigestReport:
    """Send each recipient their digest of the run, at most once each (see the module notes);
    `clock` (seconds since the epoch) times the claims' holds.

    Raises DigestsNotSent when SES refused any digest, DigestBeingSent when another invocation
    is sending one: in both cases every other digest has been handled, and a retry of the
    same request sends only what is still missing.
    """
    report = DigestReport(run_id)
    try:
        run = work_log.get_run(run_id)
    except NotFound:
        logger.warning("digests requested for an unknown run", extra={"run": run_id})
        return report
    if not run.finished:  # an early request; the last message's worker asks again
        logger.info(
            "run not finished yet: no digests",
            extra={"run": run.id, "status": run.status, "counts": run.counts},
        )
        return report
    settings = get_settings(NotificationFunctionSettings)
    mailer = mailer or Mailer(settings.ses_from_address)
    for results in results_of_run(run_id, _live_groups(run_id)):
        _send_one(run, results, mailer, report, clock)
    if report.failed:
        raise DigestsNotSent(
            f"{len(report.failed)} digest(s) of run {run_id} were not sent; they are retried.",
            details={"run_id": run_id, "recipients": report.failed},
        )
    if report.being_sent:
        raise DigestBeingSent(
            f"Another invocation is sending digests of run {run_id}.",
            details={"run_id": run_id, "recipients": report.being_sent},
        )
    return report


def _live_groups(run_id: str) -> list[LogGroup]:
    """The log groups the run wrote to, except deleted ones: nothing more is said about those."""
    groups = []
    for group_id in log_groups.groups_in_run(run_id):
        try:
            groups.append(log_groups.get_group(group_id))
        except NotFound:
            continue
    return groups


def _send_one(
    run: Run,
    results: RecipientResults,
    mailer: Sender,
    report: DigestReport,
    clock: Callable[[], float],
) -> None:
    who = results.recipient
    chosen = org_store.notification_settings(who)
    reminders = chosen.reminders
    if not results.needs_email(reminders):
        if results.results and not results.email:
            logger.warning("no e-mail address for a digest", extra={"recipient": who})
        report.nothing_new.append(who)
        return
    if digest_claims.digest_state(run.id, who) == digest_claims.SENT:
        report.sent_before.append(who)
        return
    settings = get_settings(NotificationFunctionSettings)
    facts = _facts(results.results)
    digest = compose_digest(
        run.id,
        run.trigger,
        run.created_at,
        results,
        facts,
        lambda group_id: (
            f"{settings.log_group_base_url.rstrip('/')}/#/worker-log-groups/{group_id}"
        ),
        reminders,
        digest_timezone(chosen.timezone, facts, settings.organisation_timezone),
    )
    email = render_digest(digest)
    claim = digest_claims.claim_digest(run.id, who, clock(), settings.notification_hold_seconds)
    if claim.state == digest_claims.SENT:
        report.sent_before.append(who)
        return
    if claim.state == digest_claims.SENDING or claim.token is None:
        report.being_sent.append(who)
        return
    try:
        message_id = mailer.send(email)
    except DeliveryFailed as exc:
        digest_claims.digest_unsent(run.id, who, claim.token)
        logger.error(
            "digest not sent",
            extra={"run": run.id, "recipient": who, "error": exc.message, **exc.details},
        )
        report.failed.append(who)
        return
    if not digest_claims.digest_sent(run.id, who, claim.token, message_id):
        logger.warning(
            "digest sent after its claim had expired: a retry may have sent it too",
            extra={"run": run.id, "recipient": who, "message_id": message_id},
        )
    logger.info(
        "digest sent",
        extra={
            "run": run.id,
            "recipient": who,
            "message_id": message_id,
            "subject": email.subject,
            "results": len(results.results),
        },
    )
    report.sent.append(who)


def _facts(results: list[DocumentResult]) -> dict[str, DocumentFacts]:
    """Company, account, currency, net, tax and total of each document, and its company's time
    zone (gone documents are left out; a gone company leaves tax and total unknown)."""
    facts = {}
    companies: dict[str, Company | None] = {}
    for document_id in dict.fromkeys(r.document_id for r in results):
        try:
            found = _document_facts(document_id, companies)
        except Exception as exc:  # one document's bad data must not silence the digest
            logger.exception(
                "a digest row's amounts could not be read", extra={"document": document_id}
            )
            found = DocumentFacts(
                company="",
                account=None,
                currency="",
                amount=None,
                problem=f"its amounts could not be read ({type(exc).__name__}); open it in "
                "the console",
            )
        if found is not None:
            facts[document_id] = found
    return facts


def _document_facts(document_id: str, companies: dict[str, Company | None]) -> DocumentFacts | None:
    """One document's facts (None: it is gone)."""
    try:
        document = document_store.get_document(document_id).document
    except NotFound:
        return None
    if document.company not in companies:
        try:
            companies[document.company] = company_store.get_company(document.company)[0]
        except NotFound:
            companies[document.company] = None
    company = companies[document.company]
    if company is None:
        return document_facts(document)
    totals = document_totals(document, company)
    return document_facts(
        document,
        tax=totals.tax if totals.tax_known else None,
        total=totals.gross if totals.tax_known else None,
        timezone=company.timezone,
    )


# -- the reminders setting ------------------------------------------------------------------


def notification_settings(caller: Caller) -> NotificationSettings:
    return org_store.notification_settings(caller.user_id)


def save_notification_settings(
    caller: Caller, settings: NotificationSettings
) -> NotificationSettings:
    org_store.put_notification_settings(caller.user_id, settings)
    return settings
