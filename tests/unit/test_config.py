"""Configuration: each function's settings, required where a deployed function needs them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from background_posting.config import Settings, get_settings, use
from background_posting.function_settings import (
    ApiFunctionSettings,
    EveryFunctionSettings,
    NotificationFunctionSettings,
    ScheduledPostingFunctionSettings,
)
from infra.template import functions
from tests.support.cold_start import cold_start, deployed_environment, import_handler

# The settings each function's handler reads at import
FUNCTION_SETTINGS: dict[str, type[Settings]] = {
    "ApiFunction": ApiFunctionSettings,
    "ScheduledPostingFunction": ScheduledPostingFunctionSettings,
    "PostingWorkerFunction": Settings,
    "NotificationFunction": NotificationFunctionSettings,
    "TaxCommitFunction": Settings,
    "MigrationFunction": Settings,
}

EVERY_SETTING = {
    "AWS_REGION": "eu-west-2",
    "COMPANIES_TABLE": "bp-prod-companies",
    "ACCOUNTS_TABLE": "bp-prod-accounts",
    "DOCUMENTS_TABLE": "bp-prod-documents",
    "LEDGER_TABLE": "bp-prod-ledger",
    "WORKER_ITEMS_TABLE": "bp-prod-worker-items",
    "ORG_TABLE": "bp-prod-org",
    "WORK_LOG_TABLE": "bp-prod-work-log",
    "PURCHASING_TABLE": "bp-prod-purchasing",
    "IDEMPOTENCY_TABLE": "bp-prod-idempotency",
    "POSTING_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/posting",
    "RUN_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/runs",
    "NOTIFICATION_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/notifications",
    "TAX_COMMIT_QUEUE_URL": "https://sqs.eu-west-2.amazonaws.com/111122223333/tax-commit",
    "AVATAX_SECRET_NAME": "books/avatax",
    "ORGANISATION_TIMEZONE": "Europe/London",
    "CONSOLE_ORIGIN": "https://books.example.com",
    "PAGE_TOKEN_SECRET": "arn:aws:secretsmanager:eu-west-2:111122223333:secret:bp-tokens-AbCdEf",
    "SCHEDULE_GROUP": "bp-prod-schedule",
    "SCHEDULE_TARGET_ARN": "arn:aws:lambda:eu-west-2:111122223333:function:bp-prod-run",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::111122223333:role/bp-prod-scheduler",
    "SCHEDULE_DEAD_LETTER_ARN": "arn:aws:sqs:eu-west-2:111122223333:bp-prod-schedule-dlq",
    "SES_FROM_ADDRESS": "books@example.com",
    "LOG_GROUP_BASE_URL": "https://books.example.com/console/",
}


def required(kind: type[Settings]) -> list[str]:
    """The environment variables `kind` cannot do without."""
    return sorted(
        str(field.validation_alias) for field in kind.model_fields.values() if field.is_required()
    )


def test_a_setting_without_a_default_is_one_every_setting_names() -> None:
    assert required(EveryFunctionSettings) == sorted(EVERY_SETTING)


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        pytest.param(kind, name, id=f"{kind.__name__}-{name}")
        for kind in dict.fromkeys(FUNCTION_SETTINGS.values())
        for name in required(kind)
    ],
)
def test_a_missing_required_setting_is_an_error_naming_its_variable(
    kind: type[Settings], missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given every setting but one
    cold_start(monkeypatch, {k: v for k, v in EVERY_SETTING.items() if k != missing})
    # When the function reads its settings, then it fails naming the one missing
    with pytest.raises(ValidationError) as failure:
        kind()
    assert [(error["loc"], error["type"]) for error in failure.value.errors()] == [
        ((missing,), "missing")
    ]
    assert missing in str(failure.value)


def test_with_every_setting_present_they_are_read_and_the_tunings_keep_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cold_start(monkeypatch, EVERY_SETTING)

    settings = EveryFunctionSettings()

    assert settings.region == "eu-west-2"
    assert settings.documents_table == "bp-prod-documents"
    assert settings.posting_queue_url.endswith("/posting")
    assert settings.ses_from_address == "books@example.com"
    assert settings.organisation_timezone == "Europe/London"
    assert settings.dynamodb_endpoint is None
    assert (settings.lease_seconds, settings.retry_delay_seconds) == (300, 0)
    assert (settings.notification_delay_seconds, settings.notification_hold_seconds) == (0, 120)
    assert (settings.avatax_timeout_seconds, settings.avatax_tries) == (10.0, 3)


def test_a_tuning_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    cold_start(monkeypatch, EVERY_SETTING | {"WORKER_LEASE_SECONDS": "60", "AVATAX_TRIES": "5"})

    settings = Settings()

    assert (settings.lease_seconds, settings.avatax_tries) == (60, 5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SES_FROM_ADDRESS", "not an address"),
        ("SES_FROM_ADDRESS", "books@example.com and more"),
        ("LOG_GROUP_BASE_URL", "books.example.com/logs"),
        ("CONSOLE_ORIGIN", "https://books.example.com/console/"),
        ("ORGANISATION_TIMEZONE", "Mars/Olympus_Mons"),
        ("ORGANISATION_TIMEZONE", ""),
        ("NOTIFICATION_DELAY_SECONDS", "901"),
        ("NOTIFICATION_HOLD_SECONDS", "5"),
        ("WORKER_LEASE_SECONDS", "5"),
        ("RETRY_DELAY_SECONDS", "-1"),
        ("AVATAX_TIMEOUT_SECONDS", "0"),
        ("AVATAX_TRIES", "0"),
        ("AVATAX_TRIES", "eleven"),
        ("AVATAX_BACKOFF_SECONDS", "-0.5"),
    ],
)
def test_an_invalid_setting_is_refused_naming_its_variable(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold_start(monkeypatch, EVERY_SETTING | {name: value})

    with pytest.raises(ValidationError) as failure:
        EveryFunctionSettings()

    assert [error["loc"] for error in failure.value.errors()] == [(name,)]


def test_the_log_group_link_and_sender_are_checked_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cold_start(monkeypatch, EVERY_SETTING)
    settings = NotificationFunctionSettings(
        LOG_GROUP_BASE_URL="https://books.example.com/logs", SES_FROM_ADDRESS="bp@example.com"
    )
    assert settings.log_group_base_url == "https://books.example.com/logs"
    with pytest.raises(ValidationError, match="LOG_GROUP_BASE_URL"):
        NotificationFunctionSettings(LOG_GROUP_BASE_URL="books.example.com/logs")
    with pytest.raises(ValidationError, match="SES_FROM_ADDRESS"):
        NotificationFunctionSettings(SES_FROM_ADDRESS="not an address")


def test_settings_in_use_that_hold_a_kind_are_the_ones_it_gets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given one process running every function (the local stack), with its settings in use
    cold_start(monkeypatch, EVERY_SETTING)
    every = EveryFunctionSettings()
    use(every)
    # Then each function gets those, read once
    assert all(get_settings(kind) is every for kind in FUNCTION_SETTINGS.values())
    assert get_settings() is every


def test_every_function_of_the_template_has_its_settings() -> None:
    assert set(FUNCTION_SETTINGS) == set(functions())


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_SETTINGS))
def test_the_template_gives_each_function_every_setting_it_requires(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = deployed_environment(logical_id)
    kind = FUNCTION_SETTINGS[logical_id]

    assert [name for name in required(kind) if name not in environment] == []
    cold_start(monkeypatch, environment)
    assert isinstance(kind(), kind)  # and every value the template gives is valid


@pytest.mark.parametrize("logical_id", sorted(FUNCTION_SETTINGS))
def test_each_handler_reads_its_settings_when_imported(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's deployed environment and no settings read yet
    cold_start(monkeypatch, deployed_environment(logical_id))
    # When Lambda imports its handler (the cold start)
    module = import_handler(logical_id)
    # Then the handler has read the function's settings
    assert type(module.settings) is FUNCTION_SETTINGS[logical_id]
    assert get_settings() is module.settings


@pytest.mark.parametrize(
    ("logical_id", "missing"),
    [
        ("ApiFunction", "IDEMPOTENCY_TABLE"),
        ("ApiFunction", "SCHEDULE_TARGET_ARN"),
        ("ScheduledPostingFunction", "ORGANISATION_TIMEZONE"),
        ("PostingWorkerFunction", "POSTING_QUEUE_URL"),
        ("NotificationFunction", "SES_FROM_ADDRESS"),
        ("TaxCommitFunction", "TAX_COMMIT_QUEUE_URL"),
        ("TaxCommitFunction", "COMPANIES_TABLE"),
        ("MigrationFunction", "DOCUMENTS_TABLE"),
    ],
)
def test_a_cold_start_without_a_required_setting_fails_naming_it(
    logical_id: str, missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's deployed environment without one of its settings
    environment = deployed_environment(logical_id)
    del environment[missing]
    cold_start(monkeypatch, environment)
    # When Lambda imports its handler, then the import fails naming the setting
    with pytest.raises(ValidationError) as failure:
        import_handler(logical_id)
    assert [error["loc"] for error in failure.value.errors()] == [(missing,)]
