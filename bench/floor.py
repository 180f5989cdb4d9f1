"""The floor: the store work any implementation must do to post the same backlog.

The real run's write requests (`TransactWriteItems` commits: ledger header and lines,
counter, document header, worker item deletion, run counter, log entry; `BatchWriteItem`
for the line chunks of large documents) are captured as botocore sends them and replayed
with a plain client, unchanged but for their keys (and idempotency tokens): every hash key
gets a prefix (`F1#...`), so the replay writes items of the same number and size next to the
real ones, with the same conditions. The items those conditions read (document headers,
worker items, the run, the company, its settings, counters and accounts) are copied under
the prefix before the run, so that every condition holds as it did. A replay that fails is
counted (`floor_failures`) and described (`floor_failure_kinds`): a cancelled transaction
writes nothing, and would make the floor look cheaper than it is.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Iterable, Sequence
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.models import Model

DUE_KEY = "due_pk"  # the due index: copies must not be found by the run's queries


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: names and values (strings by UTF-8, numbers by digits)."""
    size = 0
    for name, value in item.items():
        ((kind, body),) = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(body.encode())
        elif kind == "N":
            size += len(body.strip("-").replace(".", "")) // 2 + 1
        else:
            size += 1
    return size


def transaction_bytes(params: dict[str, Any]) -> int:
    """The aggregate item size of a TransactWriteItems (updates: key and new values)."""
    size = 0
    for entry in params["TransactItems"]:
        ((kind, body),) = entry.items()
        if kind == "Put":
            size += item_bytes(body["Item"])
        else:
            size += item_bytes(body["Key"]) + item_bytes(body.get("ExpressionAttributeValues", {}))
    return size


class Floor:
    def __init__(self, raw: Any, hash_keys: dict[str, str], prefix: str = "F1#"):
        self.raw = raw
        self.hash_keys = hash_keys
        self.prefix = prefix
        self.seconds = 0.0
        self.requests = 0
        self.items = 0
        self.failures: list[str] = []

    # -- copies of what the conditions read -----------------------------------------------

    def copy_records(self, records: Iterable[Model]) -> None:
        """Copy seeded records (document headers, worker items) under the prefix."""
        by_table: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            table = record.Meta.table_name
            by_table.setdefault(table, []).append(self._prefixed(table, record.serialize()))
        for table, items in by_table.items():
            self._batch_put(table, items)

    def copy_tables(self, tables: Iterable[str]) -> None:
        """Copy whole small tables (the companies' and the accounts': the reference data the
        commit checks, and the transaction counters it updates) under the prefix."""
        for table in tables:
            items: list[dict[str, Any]] = []
            pages = self.raw.get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
            for page in pages:
                items += [self._prefixed(table, item) for item in page["Items"]]
            self._batch_put(table, items)

    def copy_item(self, table: str, key: dict[str, Any]) -> None:
        """Copy one item (the run, created when the run starts) under the prefix."""
        item = self.raw.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        self.raw.put_item(TableName=table, Item=self._prefixed(table, item))

    def _batch_put(self, table: str, items: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            request = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
            while request:
                request = self.raw.batch_write_item(RequestItems=request).get(
                    "UnprocessedItems", {}
                )

    # -- the replay ------------------------------------------------------------------------

    def replay(self, captured: Sequence[tuple[str, dict[str, Any]]]) -> float:
        """Send the captured writes again under the prefix; the seconds it took."""
        requests = [(operation, self._rewrite(operation, params)) for operation, params in captured]
        started = time.perf_counter()
        for operation, params in requests:
            try:
                if operation == "TransactWriteItems":
                    self.items += len(params["TransactItems"])
                    self.raw.transact_write_items(**params)
                else:
                    self.items += sum(len(v) for v in params["RequestItems"].values())
                    pending = params["RequestItems"]
                    while pending:
                        answer = self.raw.batch_write_item(**(params | {"RequestItems": pending}))
                        pending = answer.get("UnprocessedItems", {})
            except ClientError as exc:  # as the real request failed (the run reports it)
                self.failures.append(f"{operation}: {_failed(params, exc)}")
            self.requests += 1
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        return elapsed

    def _rewrite(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        params = copy.deepcopy(params)
        if operation == "TransactWriteItems":
            if "ClientRequestToken" in params:  # the real token would answer "mismatch" at once
                params["ClientRequestToken"] = self._token(params["ClientRequestToken"])
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                place = "Item" if kind == "Put" else "Key"
                body[place] = self._prefixed(body["TableName"], body[place])
        else:
            for table, writes in params["RequestItems"].items():
                for write in writes:
                    ((kind, body),) = write.items()
                    place = "Item" if kind == "PutRequest" else "Key"
                    body[place] = self._prefixed(table, body[place])
        return params

    def _token(self, token: str) -> str:
        """The replay's own idempotency token, as long as the real one (36 characters at most)."""
        digest = hashlib.sha256((self.prefix + token).encode()).hexdigest()
        return digest[: max(len(token), 1)][:36]

    def _prefixed(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        item = dict(item)
        for name in (self.hash_keys[table], DUE_KEY):
            if name in item:
                item[name] = {"S": self.prefix + item[name]["S"]}
        return item


def _failed(params: dict[str, Any], exc: ClientError) -> str:
    """Which items of a request failed, and on what (one line, to count alike failures)."""
    reasons = exc.response.get("CancellationReasons", [])
    if not reasons:
        return str(exc.response["Error"].get("Code"))
    failed = []
    for entry, reason in zip(params["TransactItems"], reasons, strict=False):
        if reason.get("Code") not in (None, "None"):
            ((kind, body),) = entry.items()
            condition = body.get("ConditionExpression", "")
            failed.append(f"{kind} {body['TableName']} {reason['Code']} [{condition}]")
    return "; ".join(sorted(set(failed)))
