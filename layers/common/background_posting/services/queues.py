"""The queues of background posting, from configuration."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from background_posting.adapters.sqs import Queue
from background_posting.config import get_settings
from background_posting.domain.work import Run

logger = Logger(child=True)


def posting_queue() -> Queue:
    """Documents of a run, for the posting worker."""
    return Queue(get_settings().posting_queue_url)


def run_queue() -> Queue:
    """Runs to start or continue, for the scheduled posting function."""
    return Queue(get_settings().run_queue_url)


def notification_queue() -> Queue:
    """Finished runs whose digests are to be sent, for the notification function."""
    return Queue(get_settings().notification_queue_url)


def tax_commit_queue() -> Queue:
    """AvaTax documents whose tax is to be committed, for the tax commit function."""
    return Queue(get_settings().tax_commit_queue_url)


def request_digests(run: Run | None) -> bool:
    """Ask for the run's digests if it has finished (after queuing something); True if asked.
    Here, not with the sending (services/notification_service.py), so that a worker that
    finishes a run does not load the e-mail's rendering."""
    if run is None or not run.finished or not run.counts.get("queued"):
        return False
    notification_queue().send(
        {"run_id": run.id}, delay_seconds=get_settings().notification_delay_seconds
    )
    logger.info("run finished: digests requested", extra={"run": run.id})
    return True
