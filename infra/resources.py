"""Creating the template's tables (and, later, queues) on a local endpoint, idempotently."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from infra.template import create_table_arguments, local_name, resources, time_to_live


def table_names(prefix: str = "local") -> dict[str, str]:
    """Logical id -> local table name, for every table in the template."""
    return {
        logical_id: local_name(logical_id, prefix)
        for logical_id in resources("AWS::DynamoDB::Table")
    }


def create_tables(dynamodb: Any, prefix: str = "local") -> dict[str, str]:
    """Create each missing table (with its indexes and TTL) and wait until it is active."""
    existing = set(dynamodb.list_tables()["TableNames"])
    names = table_names(prefix)
    for logical_id, name in names.items():
        if name in existing:
            continue
        try:
            dynamodb.create_table(**create_table_arguments(logical_id, prefix))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        dynamodb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100}
        )
        ttl = time_to_live(logical_id)
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
    return names
