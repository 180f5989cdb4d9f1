"""The queues of background posting, from configuration."""

from __future__ import annotations

from background_posting.adapters.sqs import Queue
from background_posting.config import get_settings


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
