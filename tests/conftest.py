"""Fixtures for the three tiers: moto for integration, DynamoDB Local and the stack for the rest."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from moto import mock_aws

from background_posting.config import Settings
from background_posting.function_settings import EveryFunctionSettings
from background_posting.store import base as store_base
from infra.avatax_local import put_avatax_secret
from infra.avatax_standin import AvaTaxStandIn
from infra.dynamodb_local import DynamoDBLocal, local_client
from infra.emails import keep_text_and_html, verify_sender
from infra.page_token_key import put_page_token_secret
from infra.resources import create_queues, create_tables
from infra.template import parameter_defaults

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "background-posting")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "BackgroundPosting")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

# Hypothesis: the example counts stay as each test sets them; what goes is the timing checks
# (200 ms per example, data generation "too slow"), which a loaded machine fails by chance.
hypothesis_settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

SENDER = parameter_defaults()["SesFromAddress"]  # verified in moto's SES by the `aws` fixture
AVATAX_SECRET_NAME = parameter_defaults()["AvaTaxSecretName"]
# The secret the API's page tokens are signed with (deployed: the template's PageTokenSecret)
PAGE_TOKEN_SECRET = "test-PageTokenSecret"
PAGE_TOKEN_KEY = "the-tests-page-token-key"
# Where the local stack on its default port serves the console (e-mails link to it, CORS allows it)
CONSOLE_ORIGIN = "http://127.0.0.1:3000"


SCHEDULE_GROUP = "test-ScheduleGroup"
SCHEDULED_POSTING_ARN = "arn:aws:lambda:us-east-1:123456789012:function:ScheduledPostingFunction"


def settings_for(
    names: dict[str, str], endpoint: str | None = None, queues: dict[str, str] | None = None
) -> EveryFunctionSettings:
    """Every function's settings, for these tables (and queues: none on DynamoDB Local)."""
    queues = queues or {}
    return EveryFunctionSettings(
        SCHEDULE_GROUP=SCHEDULE_GROUP,
        SCHEDULE_TARGET_ARN=SCHEDULED_POSTING_ARN,
        SCHEDULER_ROLE_ARN="arn:aws:iam::123456789012:role/test-SchedulerRole",
        SCHEDULE_DEAD_LETTER_ARN="arn:aws:sqs:us-east-1:123456789012:test-ScheduleDeliveryDeadLetterQueue",
        ORGANISATION_TIMEZONE="Europe/London",
        POSTING_QUEUE_URL=queues.get("PostingQueue", ""),
        RUN_QUEUE_URL=queues.get("RunQueue", ""),
        TAX_COMMIT_QUEUE_URL=queues.get("TaxCommitQueue", ""),
        NOTIFICATION_QUEUE_URL=queues.get("NotificationQueue", ""),
        SES_FROM_ADDRESS=SENDER,
        LOG_GROUP_BASE_URL=f"{CONSOLE_ORIGIN}/console/",
        CONSOLE_ORIGIN=CONSOLE_ORIGIN,
        AVATAX_SECRET_NAME=AVATAX_SECRET_NAME,
        PAGE_TOKEN_SECRET=PAGE_TOKEN_SECRET,
        AWS_REGION="us-east-1",
        COMPANIES_TABLE=names["CompaniesTable"],
        ACCOUNTS_TABLE=names["AccountsTable"],
        DOCUMENTS_TABLE=names["DocumentsTable"],
        LEDGER_TABLE=names["LedgerTable"],
        WORKER_ITEMS_TABLE=names["WorkerItemsTable"],
        ORG_TABLE=names["OrgTable"],
        WORK_LOG_TABLE=names["WorkLogTable"],
        PURCHASING_TABLE=names["PurchasingTable"],
        IDEMPOTENCY_TABLE=names["IdempotencyTable"],
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[EveryFunctionSettings]:
    """moto in process, with every table of template.yaml; the store bound to it."""
    with mocked_aws(monkeypatch) as settings:
        yield settings


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[EveryFunctionSettings]:
    """What the `aws` fixture sets up, for fixtures of a wider scope."""
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        names = create_tables(boto3.client("dynamodb", region_name="us-east-1"), "test")
        queues = create_queues(boto3.client("sqs", region_name="us-east-1"), "test")
        keep_text_and_html()  # the e-mails moto's SES keeps show both parts
        verify_sender(boto3.client("sesv2", region_name="us-east-1"), SENDER)
        boto3.client("scheduler", region_name="us-east-1").create_schedule_group(
            Name=SCHEDULE_GROUP
        )
        with_page_token_secret()
        settings = settings_for(names, queues={k: q.url for k, q in queues.items()})
        store_base.bind(settings)
        yield settings


def with_page_token_secret() -> None:
    """The page token key in (mocked) Secrets Manager, read afresh by the next request."""
    put_page_token_secret(
        boto3.client("secretsmanager", region_name="us-east-1"), PAGE_TOKEN_SECRET, PAGE_TOKEN_KEY
    )
    parameters.clear_caches()


@pytest.fixture
def avatax(aws: Settings) -> Iterator[AvaTaxStandIn]:
    """AvaTax's REST API stood in on 127.0.0.1, the secret in moto pointing at it; AvaTax calls
    time out after 2 s (a stand-in's answer takes milliseconds, even on a loaded machine;
    half a second was not always enough) and back off briefly, so failure tests stay fast."""
    aws.avatax_timeout_seconds, aws.avatax_backoff_seconds = 2.0, 0.01
    with AvaTaxStandIn(slow_seconds=3.0) as standin:
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        put_avatax_secret(secrets, aws.avatax_secret_name, standin.url)
        parameters.clear_caches()  # the secret is new: nothing read before it stands
        yield standin
    parameters.clear_caches()


@pytest.fixture
def api(aws: Settings) -> Any:
    """The API function's handler, loaded as Lambda loads it."""
    from functions.api import handler

    return handler.lambda_handler


@pytest.fixture(scope="session")
def dynamodb_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DynamoDBLocal]:
    """One DynamoDB Local (in memory) for the session's concurrency and crash tests (under
    pytest-xdist: one per worker), on a port it owns (see `infra.dynamodb_local`)."""
    log = Path(tmp_path_factory.mktemp("ddb")) / "dynamodb-local.log"
    server = DynamoDBLocal(0, None, log_file=log).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def page_token_secret(local_store: Settings) -> Iterator[None]:
    """For a test on DynamoDB Local that pages: Secrets Manager in process (moto), holding the
    page token key; DynamoDB Local's endpoint is not AWS's, so moto lets its calls through."""
    with mock_aws():
        with_page_token_secret()
        yield
    parameters.clear_caches()


@pytest.fixture
def local_store(
    dynamodb_local: DynamoDBLocal, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EveryFunctionSettings]:
    """Fresh tables on DynamoDB Local (a prefix per test), the store bound to them; the
    tables are deleted afterwards. The prefix is random, so a test repeated in a session
    (pytest-repeat, a rerun) never finds an earlier run's data."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    client = local_client("dynamodb", dynamodb_local.endpoint)
    names = create_tables(client, prefix)
    settings = settings_for(names, dynamodb_local.endpoint)
    store_base.bind(settings)
    try:
        yield settings
    finally:
        for name in names.values():  # in memory: a long session would otherwise grow
            with contextlib.suppress(ClientError):
                client.delete_table(TableName=name)
