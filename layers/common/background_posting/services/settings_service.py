"""Company accounting settings and the organisation's background posting settings."""

from __future__ import annotations

from background_posting.domain.identity import Caller
from background_posting.domain.settings import BackgroundPostingSettings, CompanySettings
from background_posting.store import companies as company_store
from background_posting.store import history
from background_posting.store import org as org_store


def company_settings(caller: Caller, company_id: str) -> CompanySettings:
    caller.require_company(company_id)
    company_store.get_company(company_id)
    return company_store.get_settings(company_id)


def save_company_settings(
    caller: Caller, company_id: str, settings: CompanySettings
) -> CompanySettings:
    caller.require_company(company_id)
    caller.require_admin("change a company's accounting settings")
    company_store.get_company(company_id)
    before, version = company_store.settings_and_version(company_id)
    audit = history.audited(
        company_id,
        f"settings of {company_id}",
        "amend",
        caller.user_id,
        before.model_dump(mode="json"),
        settings.model_dump(mode="json"),
    )
    company_store.put_settings(company_id, settings, version, audit)
    return settings


def background_posting_settings(caller: Caller) -> BackgroundPostingSettings:
    if not (caller.is_admin or caller.may_run_now):
        caller.require_admin("see the background posting settings")
    return org_store.background_posting_settings()


def save_background_posting_settings(
    caller: Caller, settings: BackgroundPostingSettings
) -> BackgroundPostingSettings:
    caller.require_admin("change the background posting settings")
    audit = history.audited(
        history.ORGANISATION,
        "background posting settings",
        "amend",
        caller.user_id,
        org_store.background_posting_settings().model_dump(mode="json"),
        settings.model_dump(mode="json"),
    )
    org_store.put_background_posting_settings(settings, audit)
    return settings
