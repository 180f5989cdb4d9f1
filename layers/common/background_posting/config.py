"""Configuration: typed models read from the environment once, when a handler is imported.

Each function reads its own model at cold start: `Settings` (what every function reads) or
the subclass that adds its own settings. A setting a deployed function needs has no default:
without it the import fails with a `ValidationError` naming its environment variable
(`POSTING_QUEUE_URL  Field required`), not later at the first call that uses it. Tunings keep
their defaults. Locally the names come from the template as infra/ resolves it.
"""

from __future__ import annotations

from typing import TypeVar, overload
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What every function reads: the names the template's Globals give every function, the
    Region Lambda's runtime sets, and tunings with their defaults."""

    # built on first use (a function validates its own settings at import; see LazyModel)
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    region: str = Field(validation_alias="AWS_REGION", description="Lambda's runtime sets it.")
    companies_table: str = Field(validation_alias="COMPANIES_TABLE")
    accounts_table: str = Field(validation_alias="ACCOUNTS_TABLE")
    documents_table: str = Field(validation_alias="DOCUMENTS_TABLE")
    ledger_table: str = Field(validation_alias="LEDGER_TABLE")
    worker_items_table: str = Field(validation_alias="WORKER_ITEMS_TABLE")
    org_table: str = Field(validation_alias="ORG_TABLE")
    work_log_table: str = Field(validation_alias="WORK_LOG_TABLE")
    purchasing_table: str = Field(validation_alias="PURCHASING_TABLE")
    posting_queue_url: str = Field(validation_alias="POSTING_QUEUE_URL")
    run_queue_url: str = Field(validation_alias="RUN_QUEUE_URL")
    notification_queue_url: str = Field(validation_alias="NOTIFICATION_QUEUE_URL")
    tax_commit_queue_url: str = Field(validation_alias="TAX_COMMIT_QUEUE_URL")
    avatax_secret_name: str = Field(
        validation_alias="AVATAX_SECRET_NAME",
        description="The Secrets Manager secret with AvaTax's account, licence key, environment.",
    )
    notification_delay_seconds: int = Field(
        default=0,
        validation_alias="NOTIFICATION_DELAY_SECONDS",
        ge=0,
        le=900,
        description="How long after its run finishes the digests go (lets the index settle).",
    )
    avatax_timeout_seconds: float = Field(
        default=10.0,
        validation_alias="AVATAX_TIMEOUT_SECONDS",
        gt=0,
        description="How long one request to AvaTax may take.",
    )
    avatax_tries: int = Field(
        default=3,
        validation_alias="AVATAX_TRIES",
        ge=1,
        le=10,
        description="Tries per AvaTax call when it times out, is rate limited or fails (5xx).",
    )
    avatax_backoff_seconds: float = Field(
        default=0.5,
        validation_alias="AVATAX_BACKOFF_SECONDS",
        ge=0,
        description="The first wait before trying AvaTax again; it doubles each try.",
    )
    lease_seconds: int = Field(default=300, validation_alias="WORKER_LEASE_SECONDS", ge=10)
    retry_delay_seconds: int = Field(
        default=0,
        validation_alias="RETRY_DELAY_SECONDS",
        ge=0,
        description="How long a failed item waits before a run may try it again.",
    )
    dynamodb_endpoint: str | None = Field(
        default=None, validation_alias="AWS_ENDPOINT_URL_DYNAMODB"
    )


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
    """The API function's: its idempotency table, the console it answers, the schedule."""

    idempotency_table: str = Field(
        validation_alias="IDEMPOTENCY_TABLE",
        description="Where the API keeps the answers to requests sent with an Idempotency-Key.",
    )
    console_origin: str = Field(
        validation_alias="CONSOLE_ORIGIN",
        pattern=r"^https?://[^/\s]+$",
        description="The console's origin, the one origin the API allows by CORS.",
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


AnySettings = TypeVar("AnySettings", bound=Settings)

_current: Settings | None = None


@overload
def get_settings() -> Settings: ...
@overload
def get_settings(kind: type[AnySettings]) -> AnySettings: ...
def get_settings(kind: type[Settings] = Settings) -> Settings:
    """The settings in use when they are `kind`'s; otherwise `kind`'s, read from the environment
    now and in use from here on. A missing or invalid setting raises `ValidationError` naming
    its environment variable: each handler calls this at import, so a cold start fails there.
    """
    global _current
    if not isinstance(_current, kind):
        _current = kind()
    return _current


def use(settings: Settings) -> None:
    """Replace the configuration (the store's `bind` does, and so may tests)."""
    global _current
    _current = settings
