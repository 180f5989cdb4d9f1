"""Publishing the console to its bucket (moto S3): the files, their types, the deployed config."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.deploy_console import console_files, deployed_config, upload

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-west-2.amazonaws.com/prod",
    "HostedUiDomain": "https://background-posting-prod-1.auth.eu-west-2.amazoncognito.com",
    "UserPoolClientId": "client123",
    "ConsoleUrl": "https://d111.cloudfront.net/console/",
    "ConsoleBucketName": "console-bucket",
}


@pytest.fixture
def s3() -> Any:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="console-bucket")
        yield client


def test_the_deployed_config_signs_in_with_the_hosted_ui_and_calls_the_api_stage() -> None:
    config = deployed_config(OUTPUTS)
    assert config["auth"] == "cognito"
    assert config["api"] == OUTPUTS["ApiUrl"]
    assert config["cognito"]["domain"] == OUTPUTS["HostedUiDomain"]
    assert config["cognito"]["client_id"] == "client123"
    assert config["cognito"]["redirect_uri"] == OUTPUTS["ConsoleUrl"]


def test_the_console_is_uploaded_with_content_types_and_without_package_files(s3: Any) -> None:
    # When the console is published
    keys = upload(s3, "console-bucket", deployed_config(OUTPUTS))
    # Then the page, its code and the vendored library are there with their content types
    head = s3.head_object(Bucket="console-bucket", Key="console/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    vendor = s3.head_object(Bucket="console-bucket", Key="console/vendor/preact.mjs")
    assert vendor["ContentType"] == "text/javascript; charset=utf-8"
    assert "console/src/app.js" in keys
    # And nothing a browser does not need, and the deployed config instead of the local one
    assert not [k for k in keys if "node_modules" in k or "package" in k]
    body = s3.get_object(Bucket="console-bucket", Key="console/config.json")["Body"].read()
    assert json.loads(body)["auth"] == "cognito"
    assert len(keys) == len(console_files()) + 1
