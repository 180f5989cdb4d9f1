"""The store's models, bound to the configured tables, and the store's one connection.

Every model derives from `StoreModel`, so it reaches its table through the store: the first
request of a model after the store was bound (`bind`, or the first request of the process)
points the model at the table its settings name, and at the process's one pynamodb
`Connection` (one botocore client), which is created lazily under a lock. Binding to other
settings (another endpoint, region or tables) forgets every model's table and the connection,
so a test that switches from moto to DynamoDB Local never reuses a client made for the other,
and no store function needs to remember to bind first. Building a botocore client costs about
140 ms (it loads the service model and endpoint rules); a warm Lambda pays it once.

pynamodb has no public hook for either: a model reaches its table through its private
classmethod `_get_connection`, which `StoreModel` overrides, and pynamodb's own table
connection is then pointed at the shared one. That override is the one private name the
store uses.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException
from pynamodb.models import Model

from background_posting.config import Settings, get_settings, use

M = TypeVar("M", bound=Model)

_lock = threading.RLock()
_bound: Settings | None = None
_shared: Connection | None = None
_tables: dict[type[Model], tuple[Settings, TableConnection]] = {}
_names: dict[type[Model], Callable[[Settings], str]] = {}


def register(table_name: Callable[[Settings], str]) -> Callable[[type[M]], type[M]]:
    """Class decorator: this model lives in the table `table_name(settings)` names."""

    def wrap(model: type[M]) -> type[M]:
        _names[model] = table_name
        return model

    return wrap


class StoreModel(Model):
    """A pynamodb model reaching its table (named by `register`) through the store."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        held = _tables.get(cls)
        if held is not None and held[0] is _bound:
            return held[1]
        with _lock:
            settings = _bound if _bound is not None else bind()
            cls.Meta.table_name = _names[cls](settings)
            cls.Meta.region = settings.region
            cls.Meta.host = settings.dynamodb_endpoint
            cls._connection = None
            table = super()._get_connection()  # pynamodb's, made for this table (no request)
            shared = connection()
            with contextlib.suppress(ValueError):  # added already: models share tables
                shared.add_meta_table(table.get_meta_table())
            table.connection = shared
            _tables[cls] = (settings, table)
            return table


def bind(settings: Settings | None = None) -> Settings:
    """Use these settings (by default the configured ones) from the next request on."""
    global _bound, _shared
    settings = settings or get_settings()
    with _lock:
        _shared = None  # the next request builds a connection for these settings
        _tables.clear()
        _bound = settings
        use(settings)
    return settings


def table_name(model: type[StoreModel]) -> str:
    """The name of the table `model` lives in, under the store's settings."""
    return model._get_connection().table_name


def connection() -> Connection:
    """The process's one connection to DynamoDB, for models and transactions alike."""
    global _shared
    shared = _shared
    if shared is not None:
        return shared
    with _lock:
        if _shared is None:
            settings = _bound if _bound is not None else bind()
            made = Connection(region=settings.region, host=settings.dynamodb_endpoint)
            _ = made.client  # the botocore client, made once here, not by racing threads
            _shared = made
        return _shared


BATCH_GET_KEYS = 100  # BatchGetItem's limit per request


def batch_get(request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One BatchGetItem over any tables (its RequestItems: `{table: {"Keys": [...], ...}}`),
    sent in requests of 100 keys at most, asking again for the keys DynamoDB left
    unprocessed; the items found, by table (raw, as DynamoDB sends them)."""
    client: Any = connection().client  # botocore's client (its stubs name no operations)
    found: dict[str, list[dict[str, Any]]] = {}
    for part in _parts(request):
        pending = part
        for _attempt in range(10):
            answer = client.batch_get_item(RequestItems=pending)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(items)
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise RuntimeError("DynamoDB left keys unprocessed ten times in a row")
    return found


def _parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The request cut into requests of BATCH_GET_KEYS keys at most, tables kept whole where
    they fit."""
    parts: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    room = BATCH_GET_KEYS
    for table, asked in request.items():
        keys = list(asked["Keys"])
        while keys:
            if room == 0:
                parts.append(current)
                current, room = {}, BATCH_GET_KEYS
            taken, keys = keys[:room], keys[room:]
            current[table] = asked | {"Keys": taken}
            room -= len(taken)
            if keys:
                parts.append(current)
                current, room = {}, BATCH_GET_KEYS
    if current:
        parts.append(current)
    return parts


def is_condition_failure(exc: PynamoDBException) -> bool:
    return exc.cause_response_code in {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    }
