"""The floor: the store work any implementation must do to post the same backlog.

The real run's write requests (`TransactWriteItems` commits: ledger header and lines,
counter, document header, worker item deletion, run counter, log entry; `BatchWriteItem`
for the line chunks of large documents) are captured as botocore sends them and replayed
with a plain client, unchanged but for their keys: every hash key gets a prefix (`F1#...`),
so the replay writes items of the same number and size next to the real ones, with the
same conditions. The items those conditions read (document headers, worker items, the run)
are copied under the prefix before the run, so that every condition holds as it did.
"""

from __future__ import annotations

import copy
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
                reasons = exc.response.get("CancellationReasons", [])
                codes = [r.get("Code") for r in reasons] or exc.response["Error"].get("Code")
                self.failures.append(f"{operation}: {codes}")
            self.requests += 1
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        return elapsed

    def _rewrite(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        params = copy.deepcopy(params)
        if operation == "TransactWriteItems":
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

    def _prefixed(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        item = dict(item)
        for name in (self.hash_keys[table], DUE_KEY):
            if name in item:
                item[name] = {"S": self.prefix + item[name]["S"]}
        return item
