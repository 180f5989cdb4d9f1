"""Configuration: typed models read from the environment once, when a handler is imported.

Each function reads its own model at cold start: `Settings` (what every function reads), here,
or the subclass in `function_settings` that adds its own settings (kept apart: the workers
read only `Settings`, and every settings class costs their cold start). A setting a deployed
function needs has no default: without it the import fails with a `ValidationError` naming its
environment variable (`POSTING_QUEUE_URL  Field required`), not later at the first call that
uses it. Tunings keep their defaults. Locally the names come from the template as infra/
resolves it.
"""

from __future__ import annotations

from typing import TypeVar, overload

from pydantic import Field
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
