"""Binding the pynamodb models to the configured tables, and the store's one connection.

Every model and every transaction of a process share one pynamodb `Connection` (one botocore
client), created lazily under a lock on first use and rebuilt whenever the store is bound to
other settings (another endpoint, region or tables): a test that switches from moto to
DynamoDB Local never reuses a client made for the other. Building a botocore client costs
about 140 ms (it loads the service model and endpoint rules); a warm Lambda pays it once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.models import Model

from background_posting.config import Settings, get_settings, use
from background_posting.domain.errors import Conflict

_lock = threading.RLock()
_bound: Settings | None = None
_shared: Connection | None = None
_models: list[tuple[type[Model], Callable[[Settings], str]]] = []


def register(table_name: Callable[[Settings], str]) -> Callable[[type[Model]], type[Model]]:
    """Class decorator: this model lives in the table `table_name(settings)` names."""

    def wrap(model: type[Model]) -> type[Model]:
        global _shared
        with _lock:
            _models.append((model, table_name))
            if _bound is not None:
                _point(model, table_name, _bound)
                _shared = None  # shared again, this model included, on the next request
        return model

    return wrap


def bind(settings: Settings | None = None) -> Settings:
    """Point every model at its table; called by the first store call (or by tests)."""
    global _bound, _shared
    settings = settings or get_settings()
    with _lock:
        _shared = None  # the next request builds a connection for these settings
        for model, table_name in _models:
            _point(model, table_name, settings)
        _bound = settings
        use(settings)
    return settings


def _point(model: type[Model], table_name: Callable[[Settings], str], settings: Settings) -> None:
    model.Meta.table_name = table_name(settings)
    model.Meta.region = settings.region
    model.Meta.host = settings.dynamodb_endpoint
    # pynamodb makes a connection per model on first use; `shared_by_models` replaces it
    model._connection = None


def bound() -> Settings:
    """The settings the store is bound to; binds (and shares the connection) on first use."""
    settings = _bound if _bound is not None else bind()
    if _shared is None:
        connection()
    return settings


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
            for model, _name in _models:
                # pynamodb has no public hook to give models a connection: each model's table
                # connection is made (no request is sent) and pointed at the shared one.
                table = model._get_connection()
                with contextlib.suppress(ValueError):  # added already: models share tables
                    made.add_meta_table(table.get_meta_table())
                table.connection = made
            _shared = made
        return _shared


def is_condition_failure(exc: PynamoDBException) -> bool:
    return exc.cause_response_code in {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    }


def save_conditionally(record: Model, condition: Any, conflict: Conflict) -> None:
    """`record.save(condition)`, with a failed condition raised as the caller's `conflict`.

    A record with a version attribute also checks that version (optimistic locking).
    """
    bound()
    try:
        record.save(condition)
    except PutError as exc:
        if is_condition_failure(exc):
            raise conflict from exc
        raise
