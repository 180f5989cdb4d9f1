"""The organisation table: per-user sessions and notification settings, org-wide settings."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist

from background_posting.domain.notifications import NotificationSettings
from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.store.base import StoreModel, register
from background_posting.store.writes import Write, transact


@register(lambda s: s.org_table)
class OrgRecord(StoreModel):
    class Meta:
        table_name = "org"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    companies = UnicodeSetAttribute(null=True)
    body = UnicodeAttribute(null=True)


def _user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "SESSION"


def logged_in_companies(user_id: str) -> frozenset[str] | None:
    """None when the user never narrowed their companies (logged into all allowed)."""
    try:
        record = OrgRecord.get(*_user_key(user_id))
    except DoesNotExist:
        return None
    return frozenset(record.companies or ())


def set_logged_in_companies(user_id: str, companies: frozenset[str] | None) -> None:
    """Narrow the user's session to `companies`; None: every company they are allowed."""
    if companies is None:
        OrgRecord(*_user_key(user_id)).delete()
        return
    OrgRecord(*_user_key(user_id), companies=set(companies) or None).save()


BACKGROUND_POSTING = ("SETTINGS", "background-posting")


def background_posting_settings() -> BackgroundPostingSettings:
    try:
        record = OrgRecord.get(*BACKGROUND_POSTING, consistent_read=True)
    except DoesNotExist:
        return BackgroundPostingSettings()
    return BackgroundPostingSettings.model_validate_json(record.body or "{}")


def put_background_posting_settings(settings: BackgroundPostingSettings, audit: Write) -> None:
    """Replace the background posting settings, with their `audit` entry."""
    transact([Write.put(OrgRecord(*BACKGROUND_POSTING, body=settings.model_dump_json())), audit])


def _notifications_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "NOTIFICATIONS"


def notification_settings(user_id: str) -> NotificationSettings:
    """The user's notification settings (the defaults until they save their own)."""
    try:
        record = OrgRecord.get(*_notifications_key(user_id), consistent_read=True)
    except DoesNotExist:
        return NotificationSettings()
    return NotificationSettings.model_validate_json(record.body or "{}")


def put_notification_settings(user_id: str, settings: NotificationSettings) -> None:
    OrgRecord(*_notifications_key(user_id), body=settings.model_dump_json()).save()


SCHEDULER = ("SETTINGS", "scheduler")


def scheduler_record() -> dict[str, Any] | None:
    """The Schedule Job settings as last saved (None when never scheduled)."""
    try:
        record = OrgRecord.get(*SCHEDULER, consistent_read=True)
    except DoesNotExist:
        return None
    value: dict[str, Any] = json.loads(record.body or "{}")
    return value


def put_scheduler_record(body: dict[str, Any], audit: Write) -> None:
    """Save the Schedule Job settings, with their `audit` entry."""
    transact([Write.put(OrgRecord(*SCHEDULER, body=json.dumps(body, default=str))), audit])


def delete_scheduler_record(audit: Write) -> None:
    """Forget the Schedule Job settings (unscheduled), with the `audit` entry."""
    transact([Write.delete(OrgRecord(*SCHEDULER)), audit])
