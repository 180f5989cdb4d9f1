"""Writes that happen together: the store's one way into DynamoDB's TransactWriteItems.

Services say *what* must be written together (move this document, delete that worker item,
count the run, log the entry); the store modules turn each into a `Write` (an item, its
condition, and what a failed condition means), and `transact` sends them as one transaction:

* it counts the items and their bytes against DynamoDB's limits (100 items, 4 MB) before
  sending, so a transaction that cannot fit is refused here, by name, not by DynamoDB;
* it reads the cancellation reasons item by item: a failed condition on an item that says
  what it means (`refusal`) raises that domain error at once; one marked as a `race` (a
  sequence counter, a header key another writer may take) raises `LostRace`, the only
  failure worth reading again and retrying; a `TransactionConflict` alone (another
  transaction was changing one of the items, no condition was decided) is sent again a few
  times, then raised as the transient error it is;
* a request DynamoDB refuses as malformed (`ValidationException`) raises `StoreRefused`: it
  fails the same way every time, so it is the document's error, not a transient one;
* a `token` (DynamoDB's ClientRequestToken) makes the request idempotent for ten minutes: a
  response lost on the network and retried by botocore is answered as the success it was.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Literal

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from background_posting.domain.errors import Conflict, DomainError
from background_posting.store.base import connection

MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4_000_000  # DynamoDB's 4 MB, counted on the request's JSON (an upper bound)
CONFLICT_TRIES = 5

Kind = Literal["check", "delete", "put", "update"]
_ORDER: tuple[Kind, ...] = ("check", "delete", "put", "update")


class LostRace(Exception):
    """Another writer took the counter value or key this transaction expected: read again."""


class StoreRefused(DomainError):
    """DynamoDB refused the request itself (malformed, too large): it fails every time."""

    code = "store_refused"


class TooLarge(StoreRefused):
    """What must be written together does not fit one DynamoDB transaction."""

    code = "transaction_too_large"


@dataclass(frozen=True)
class Write:
    """One item of a transaction: the operation as DynamoDB receives it, and what a failed
    condition on it means: `refusal` (raised as it is), or a `race` (read again, retry)."""

    kind: Kind
    operation: dict[str, Any]
    refusal: DomainError | None = None
    race: bool = False
    companions: tuple[Write, ...] = ()
    """Writes that go wherever this one goes (a document's move and its history entry)."""

    def flat(self) -> list[Write]:
        """This write and its companions, as the transaction's items."""
        return [self, *(item for companion in self.companions for item in companion.flat())]

    def with_companions(self, *companions: Write) -> Write:
        return replace(self, companions=(*self.companions, *companions))

    @cached_property
    def size(self) -> int:
        """The operation's JSON length, counted once (a write's operation is never changed)."""
        return len(json.dumps(self.operation, separators=(",", ":")))

    @classmethod
    def put(
        cls,
        record: Model,
        condition: Condition | None = None,
        *,
        refusal: DomainError | None = None,
        race: bool = False,
    ) -> Write:
        return cls("put", record.get_save_kwargs_from_instance(condition=condition), refusal, race)

    @classmethod
    def update(
        cls,
        record: Model,
        actions: Sequence[Action],
        condition: Condition | None = None,
        *,
        refusal: DomainError | None = None,
        race: bool = False,
    ) -> Write:
        operation = record.get_update_kwargs_from_instance(
            actions=list(actions), condition=condition
        )
        return cls("update", operation, refusal, race)

    @classmethod
    def delete(
        cls,
        record: Model,
        condition: Condition | None = None,
        *,
        refusal: DomainError | None = None,
    ) -> Write:
        return cls("delete", record.get_delete_kwargs_from_instance(condition=condition), refusal)

    @classmethod
    def check(
        cls,
        model: type[Model],
        hash_key: str,
        range_key: str | None,
        condition: Condition,
        *,
        refusal: DomainError,
    ) -> Write:
        operation = model.get_operation_kwargs_from_class(
            hash_key, range_key=range_key, condition=condition
        )
        return cls("check", operation, refusal)


def flattened(writes: Sequence[Write]) -> list[Write]:
    """The transaction's items: each write followed by its companions."""
    return [item for write in writes for item in write.flat()]


def fits(writes: Sequence[Write], more_items: int = 0, more_bytes: int = 0) -> bool:
    """Whether these writes, their companions included (and `more_items` of `more_bytes` in
    all), fit one transaction."""
    items = flattened(writes)
    return (
        len(items) + more_items <= MAX_TRANSACTION_ITEMS
        and sum(w.size for w in items) + more_bytes <= MAX_TRANSACTION_BYTES
    )


def token_for(*parts: object) -> str:
    """A ClientRequestToken (at most 36 characters) derived from what identifies the request."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:36]


def transact(writes: Sequence[Write], token: str | None = None) -> None:
    """Write all of `writes` or none of them (see the module's docstring for what it raises)."""
    writes = flattened(writes)
    if not writes:
        return
    if not fits(writes):
        raise TooLarge(
            f"{len(writes)} items of {sum(w.size for w in writes):,} bytes do not fit one "
            f"DynamoDB transaction ({MAX_TRANSACTION_ITEMS} items, "
            f"{MAX_TRANSACTION_BYTES:,} bytes).",
            details={"items": len(writes)},
        )
    ordered = [w for kind in _ORDER for w in writes if w.kind == kind]
    by_kind = {kind: [w.operation for w in ordered if w.kind == kind] for kind in _ORDER}
    for attempt in range(CONFLICT_TRIES):
        try:
            connection().transact_write_items(
                condition_check_items=by_kind["check"],
                delete_items=by_kind["delete"],
                put_items=by_kind["put"],
                update_items=by_kind["update"],
                client_request_token=token
                and (token if attempt == 0 else f"{token[:33]}-{attempt}"),
            )
            return
        except TransactWriteError as exc:
            try:
                _raise_for(exc, ordered)
            except _InConflict:
                if attempt + 1 == CONFLICT_TRIES:
                    raise exc from None  # still contended: transient, for the caller's retry
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            raise


def put_with(
    record: Model, condition: Condition | None, refusal: DomainError, also: Sequence[Write]
) -> None:
    """Put `record` (its own version checked, if it has one) and `also` in one transaction; a
    failed condition on the record raises `refusal`."""
    transact([Write.put(record, condition, refusal=refusal), *also])


class _InConflict(Exception):
    """Another transaction was changing one of the items; nothing was decided: send again."""


def _raise_for(exc: TransactWriteError, ordered: Sequence[Write]) -> None:
    """Turn a refused transaction into what it means; return for a transient error."""
    code = exc.cause_response_code
    if code == "ValidationException":
        raise StoreRefused(
            f"DynamoDB refused the write: {exc.cause_response_message}",
            details={"reason": exc.cause_response_message},
        ) from exc
    if code == "IdempotentParameterMismatchException":
        raise Conflict(
            "Another request is making this same change at the same moment; read it again.",
            code="concurrent_update",
        ) from exc
    if code != "TransactionCanceledException":
        return  # throttling, a timeout, an internal error: transient, raised as it is
    reasons = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
    failed = [
        write
        for write, reason in zip(ordered, reasons, strict=False)
        if reason == "ConditionalCheckFailed"
    ]
    for write in failed:
        if write.refusal is not None:
            raise write.refusal from exc
    if any(not w.race for w in failed):
        raise Conflict(
            "Something this change depends on was changed meanwhile; read it again.",
            code="concurrent_update",
        ) from exc
    if failed:
        raise LostRace() from exc
    if "TransactionConflict" in reasons:
        raise _InConflict() from exc
    if "ValidationError" in reasons:
        raise StoreRefused(
            f"DynamoDB refused an item of the write: {exc.cause_response_message}",
            details={"reasons": reasons},
        ) from exc
    # ThrottlingError, ProvisionedThroughputExceeded...: transient, raised as it is
