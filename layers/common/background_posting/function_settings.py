"""The settings a function reads beyond `config.Settings`: the organisation's time zone, the
API's, the scheduled posting function's and the notification function's; and all of them at
once for a process that runs every function (the local stack, the tests, the benchmark).
Each handler that needs one reads it at import with `config.get_settings(TheirSettings)`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from background_posting.config import Settings


class OrganisationTimeSettings(Settings):
    """What a function that dates things in the organisation's time zone reads as well."""

    organisation_timezone: str = Field(
        validation_alias="ORGANISATION_TIMEZONE",
        description="The IANA time zone schedules are set in unless Schedule Job names another.",
    )

    @field_validator("organisation_timezone")
    @classmethod
    def _a_known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"{name!r} is not an IANA time zone") from None
        return name


class ApiFunctionSettings(OrganisationTimeSettings):
    """The API function's: its idempotency table, the console it answers, the page token key,
    the schedule."""

    idempotency_table: str = Field(
        validation_alias="IDEMPOTENCY_TABLE",
        description="Where the API keeps the answers to requests sent with an Idempotency-Key.",
    )
    console_origin: str = Field(
        validation_alias="CONSOLE_ORIGIN",
        pattern=r"^https?://[^/\s]+$",
        description="The console's origin, the one origin the API allows by CORS.",
    )
    page_token_secret: str = Field(
        validation_alias="PAGE_TOKEN_SECRET",
        description="The Secrets Manager secret (its ARN or name) whose value is the key page "
        "tokens are signed with (an HMAC binding each `next` token to its query).",
    )
    schedule_group: str = Field(validation_alias="SCHEDULE_GROUP")
    schedule_target_arn: str = Field(validation_alias="SCHEDULE_TARGET_ARN")
    scheduler_role_arn: str = Field(validation_alias="SCHEDULER_ROLE_ARN")
    schedule_dead_letter_arn: str = Field(
        validation_alias="SCHEDULE_DEAD_LETTER_ARN",
        pattern=r"^arn:aws[a-z-]*:sqs:",
        description="The SQS queue Scheduler sends a firing it could not deliver to.",
    )


class ScheduledPostingFunctionSettings(OrganisationTimeSettings):
    """The scheduled posting function's: a run first creates the recurring invoices due by the
    organisation's date."""


class NotificationFunctionSettings(OrganisationTimeSettings):
    """The notification function's: who the digests come from and where their links go."""

    ses_from_address: str = Field(
        validation_alias="SES_FROM_ADDRESS",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="The From address of notification e-mails (within the SES identity).",
    )
    log_group_base_url: str = Field(
        validation_alias="LOG_GROUP_BASE_URL",
        pattern=r"^https?://\S+$",
        description="The console's URL: a worker log group's link in an e-mail is this URL, "
        "then #/worker-log-groups/<group id>.",
    )
    notification_hold_seconds: int = Field(
        default=120,
        validation_alias="NOTIFICATION_HOLD_SECONDS",
        ge=10,
        description="How long a claimed digest whose send is unconfirmed waits for a retry.",
    )


class EveryFunctionSettings(
    ApiFunctionSettings, ScheduledPostingFunctionSettings, NotificationFunctionSettings
):
    """Every function's settings at once, for a process that runs them all: the local stack,
    the tests, the benchmark."""
