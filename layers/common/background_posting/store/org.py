"""The organisation table: per-user sessions (logged-in companies) and org-wide settings."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from background_posting.domain.settings import BackgroundPostingSettings
from background_posting.store.base import bound, register


@register(lambda s: s.org_table)
class OrgRecord(Model):
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
    bound()
    try:
        record = OrgRecord.get(*_user_key(user_id))
    except DoesNotExist:
        return None
    return frozenset(record.companies or ())


def set_logged_in_companies(user_id: str, companies: frozenset[str]) -> None:
    bound()
    OrgRecord(*_user_key(user_id), companies=set(companies) or None).save()


BACKGROUND_POSTING = ("SETTINGS", "background-posting")


def background_posting_settings() -> BackgroundPostingSettings:
    bound()
    try:
        record = OrgRecord.get(*BACKGROUND_POSTING, consistent_read=True)
    except DoesNotExist:
        return BackgroundPostingSettings()
    return BackgroundPostingSettings.model_validate_json(record.body or "{}")


def put_background_posting_settings(settings: BackgroundPostingSettings) -> None:
    bound()
    OrgRecord(*BACKGROUND_POSTING, body=settings.model_dump_json()).save()
