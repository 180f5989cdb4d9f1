"""Routes: company accounting settings, background posting settings, your notification settings."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from background_posting.domain.notifications import NotificationSettings
from background_posting.domain.settings import BackgroundPostingSettings, CompanySettings
from background_posting.http.claims import caller_from
from background_posting.http.reference_routes import CompanyId
from background_posting.services import notification_service, settings_service

router = Router()


@router.get("/companies/<company_id>/settings", tags=["Settings"], summary="Accounting settings")
def get_company_settings(company_id: CompanyId) -> CompanySettings:
    return settings_service.company_settings(caller_from(router.current_event), company_id)


@router.put(
    "/companies/<company_id>/settings",
    tags=["Settings"],
    summary="Replace accounting settings (System Administrator)",
)
def put_company_settings(
    company_id: CompanyId, settings: Annotated[CompanySettings, Body()]
) -> CompanySettings:
    return settings_service.save_company_settings(
        caller_from(router.current_event), company_id, settings
    )


@router.get("/settings/background-posting", tags=["Settings"], summary="Maximum attempts")
def get_background_posting_settings() -> BackgroundPostingSettings:
    return settings_service.background_posting_settings(caller_from(router.current_event))


@router.put(
    "/settings/background-posting",
    tags=["Settings"],
    summary="Replace maximum attempts (System Administrator)",
)
def put_background_posting_settings(
    settings: Annotated[BackgroundPostingSettings, Body()],
) -> BackgroundPostingSettings:
    return settings_service.save_background_posting_settings(
        caller_from(router.current_event), settings
    )


@router.get("/me/notifications", tags=["Session"], summary="Your e-mail notification settings")
def get_notification_settings() -> NotificationSettings:
    return notification_service.notification_settings(caller_from(router.current_event))


@router.put(
    "/me/notifications",
    tags=["Session"],
    summary="Choose whether unchanged failures are e-mailed again (reminders)",
)
def put_notification_settings(
    settings: Annotated[NotificationSettings, Body()],
) -> NotificationSettings:
    caller = caller_from(router.current_event)
    return notification_service.save_notification_settings(caller, settings)
