"""Configuration: one typed model, read from the environment once, on first use."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every name the template's `Environment` sets, and the local stack's endpoints."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    companies_table: str = Field(default="bp-companies", validation_alias="COMPANIES_TABLE")
    accounts_table: str = Field(default="bp-accounts", validation_alias="ACCOUNTS_TABLE")
    documents_table: str = Field(default="bp-documents", validation_alias="DOCUMENTS_TABLE")
    ledger_table: str = Field(default="bp-ledger", validation_alias="LEDGER_TABLE")
    worker_items_table: str = Field(
        default="bp-worker-items", validation_alias="WORKER_ITEMS_TABLE"
    )
    org_table: str = Field(default="bp-org", validation_alias="ORG_TABLE")
    work_log_table: str = Field(default="bp-work-log", validation_alias="WORK_LOG_TABLE")
    purchasing_table: str = Field(default="bp-purchasing", validation_alias="PURCHASING_TABLE")
    idempotency_table: str = Field(
        default="bp-idempotency",
        validation_alias="IDEMPOTENCY_TABLE",
        description="Where the API keeps the answers to requests sent with an Idempotency-Key.",
    )
    posting_queue_url: str = Field(default="", validation_alias="POSTING_QUEUE_URL")
    run_queue_url: str = Field(default="", validation_alias="RUN_QUEUE_URL")
    notification_queue_url: str = Field(default="", validation_alias="NOTIFICATION_QUEUE_URL")
    ses_from_address: str = Field(
        default="background-posting@example.com",
        validation_alias="SES_FROM_ADDRESS",
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="The From address of notification e-mails (within the SES identity).",
    )
    log_group_base_url: str = Field(
        default="http://127.0.0.1:3000/console/",
        validation_alias="LOG_GROUP_BASE_URL",
        pattern=r"^https?://\S+$",
        description="The console's URL: a worker log group's link in an e-mail is this URL, "
        "then #/worker-log-groups/<group id>.",
    )
    console_origin: str = Field(
        default="http://127.0.0.1:3000",
        validation_alias="CONSOLE_ORIGIN",
        pattern=r"^https?://[^/\s]+$",
        description="The console's origin, the one origin the API allows by CORS.",
    )
    notification_delay_seconds: int = Field(
        default=0,
        validation_alias="NOTIFICATION_DELAY_SECONDS",
        ge=0,
        le=900,
        description="How long after its run finishes the digests go (lets the index settle).",
    )
    notification_hold_seconds: int = Field(
        default=120,
        validation_alias="NOTIFICATION_HOLD_SECONDS",
        ge=10,
        description="How long a claimed digest whose send is unconfirmed waits for a retry.",
    )
    schedule_group: str = Field(default="background-posting", validation_alias="SCHEDULE_GROUP")
    schedule_target_arn: str = Field(default="", validation_alias="SCHEDULE_TARGET_ARN")
    scheduler_role_arn: str = Field(default="", validation_alias="SCHEDULER_ROLE_ARN")
    organisation_timezone: str = Field(default="UTC", validation_alias="ORGANISATION_TIMEZONE")
    tax_commit_queue_url: str = Field(default="", validation_alias="TAX_COMMIT_QUEUE_URL")
    avatax_secret_name: str = Field(
        default="background-posting/avatax",
        validation_alias="AVATAX_SECRET_NAME",
        description="The Secrets Manager secret with AvaTax's account, licence key, environment.",
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


_current: Settings | None = None


def get_settings() -> Settings:
    """The configuration, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings()
    return _current


def use(settings: Settings) -> None:
    """Replace the configuration (the store's `bind` does, and so may tests)."""
    global _current
    _current = settings
