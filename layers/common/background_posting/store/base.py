"""Binding the pynamodb models to the configured tables, lazily and once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from background_posting.config import Settings, get_settings, use
from background_posting.domain.errors import Conflict

_lock = threading.Lock()
_bound: Settings | None = None
_models: list[tuple[type[Model], Callable[[Settings], str]]] = []


def register(table_name: Callable[[Settings], str]) -> Callable[[type[Model]], type[Model]]:
    """Class decorator: this model lives in the table `table_name(settings)` names."""

    def wrap(model: type[Model]) -> type[Model]:
        with _lock:
            _models.append((model, table_name))
            if _bound is not None:
                _point(model, table_name, _bound)
        return model

    return wrap


def bind(settings: Settings | None = None) -> Settings:
    """Point every model at its table; called by the first store call (or by tests)."""
    global _bound
    settings = settings or get_settings()
    with _lock:
        for model, table_name in _models:
            _point(model, table_name, settings)
        _bound = settings
        use(settings)
    return settings


def _point(model: type[Model], table_name: Callable[[Settings], str], settings: Settings) -> None:
    model.Meta.table_name = table_name(settings)
    model.Meta.region = settings.region
    model.Meta.host = settings.dynamodb_endpoint
    model._connection = None


def bound() -> Settings:
    return _bound if _bound is not None else bind()


# DynamoDB refuses a transaction over 4 MB or 100 items; what is written in one must fit both.
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_PAYLOAD = 3_000_000  # bytes of line chunks, leaving room for the other items


def fits_in_transaction(chunk_payloads: list[int], other_items: int) -> bool:
    """Whether line chunks of these sizes (bytes) and `other_items` fit one transaction."""
    return (
        len(chunk_payloads) + other_items <= MAX_TRANSACTION_ITEMS
        and sum(chunk_payloads) <= MAX_TRANSACTION_PAYLOAD
    )


def connection() -> Connection:
    settings = bound()
    return Connection(region=settings.region, host=settings.dynamodb_endpoint)


def is_condition_failure(exc: PynamoDBException) -> bool:
    return exc.cause_response_code in {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    }


@contextmanager
def transaction(conflict_message: str) -> Iterator[TransactWrite]:
    """One all-or-nothing TransactWriteItems; a failed condition becomes `Conflict`."""
    bound()
    try:
        with TransactWrite(connection=connection()) as tx:
            yield tx
    except TransactWriteError as exc:
        reasons = [r.code for r in (exc.cancellation_reasons or []) if r is not None]
        if "ConditionalCheckFailed" in reasons or is_condition_failure(exc):
            raise Conflict(conflict_message, details={"reasons": reasons}) from exc
        raise


def as_dict(model: Model) -> dict[str, Any]:
    return {name: getattr(model, name) for name in model.get_attributes()}


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
