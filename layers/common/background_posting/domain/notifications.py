"""A user's notification settings, and the e-mail a digest becomes (`domain.run_results` says
what a run did, `domain.digest` what its e-mail shows)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ConfigDict, Field

from background_posting.domain.errors import DomainError
from background_posting.domain.model import LazyModel
from background_posting.domain.types import TimeZoneName


class NotificationSettings(LazyModel):
    """A user's notification settings.

    `reminders`: also e-mail documents that failed again with the same errors as in their
    previous run (off by default: such a failure is listed, not repeated).
    `timezone`: the zone the e-mails show times in (default: the company's, when all the
    documents of an e-mail are of one company, else the organisation's).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    reminders: bool = False
    timezone: TimeZoneName | None = Field(
        default=None,
        description="IANA time zone for the times in your e-mails, e.g. Europe/London "
        "(default: the company's)",
    )


class DeliveryFailed(DomainError):
    """The mail service did not accept a digest (it is retried; no document changes)."""

    code = "notification_not_sent"


@dataclass(frozen=True)
class Email:
    """A rendered e-mail, ready for the mail service."""

    to: str
    subject: str
    text: str
    html: str
