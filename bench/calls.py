"""Counting what the code asks of AWS, at the botocore client, by phase and operation.

Every botocore client (pynamodb's per-thread sessions, boto3's clients) goes through
`BaseClient._make_api_call`, so one wrapper there sees every request the code makes, with
its parameters. The recorder also times each call and each client creation (a new botocore
client loads its service model: that cost belongs to the code path too), and can keep a copy
of the write requests (`TransactWriteItems`, `BatchWriteItem`) so that the floor can replay
them with the same items and sizes: in memory, or pickled into a file (`spill`) when the
memory of the process is measured, so that the copies do not count as the posting's.
"""

from __future__ import annotations

import copy
import pickle
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO, Any

import botocore.session
from botocore.client import BaseClient

WRITE_REQUESTS = frozenset({"TransactWriteItems", "BatchWriteItem"})

# How each DynamoDB operation is reported: the JSON names these figures plainly.
KINDS = {
    "GetItem": "gets",
    "BatchGetItem": "gets",
    "TransactGetItems": "gets",
    "Query": "queries",
    "Scan": "scans",
    "PutItem": "writes",
    "UpdateItem": "writes",
    "DeleteItem": "writes",
    "BatchWriteItem": "writes",
    "TransactWriteItems": "transactions",
}

# Wrapped where every client passes: a request, the creation of a client and of a session.
_CALL = "_make_api_call"
_CREATE = "create_client"
_INIT = "__init__"

_phase: ContextVar[str] = ContextVar("bench_phase", default="other")


@dataclass
class Tally:
    """What one phase asked of AWS."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    clients: int = 0
    sessions: int = 0
    client_seconds: float = 0.0  # creating botocore sessions and clients
    operation_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    capture_seconds: float = 0.0  # copying write requests for the floor: the bench's, not ours

    def dynamodb(self) -> Counter[str]:
        return Counter({op: n for (svc, op), n in self.calls.items() if svc == "dynamodb"})

    def by_kind(self) -> dict[str, int]:
        kinds = dict.fromkeys(("gets", "queries", "writes", "transactions", "scans"), 0)
        for operation, count in self.dynamodb().items():
            kinds[KINDS.get(operation, "other")] = (
                kinds.get(KINDS.get(operation, "other"), 0) + count
            )
        return kinds

    def sqs(self) -> Counter[str]:
        return Counter({op: n for (svc, op), n in self.calls.items() if svc == "sqs"})


class Recorder:
    """Install with `with Recorder() as rec:`; attribute calls with `with rec.phase("run"):`."""

    def __init__(self) -> None:
        self.tallies: defaultdict[str, Tally] = defaultdict(Tally)
        self.captured: list[tuple[str, dict[str, Any]]] = []
        self.capturing = False
        self.spill: IO[bytes] | None = None
        """Where captured writes go instead of `captured` (a file opened "w+b")."""
        self.trace: list[tuple[str, str]] | None = None
        self._lock = threading.Lock()
        self._original_call: Any = None
        self._original_create: Any = None
        self._original_init: Any = None

    def __enter__(self) -> Recorder:
        self._original_call = getattr(BaseClient, _CALL)
        self._original_create = getattr(botocore.session.Session, _CREATE)
        self._original_init = getattr(botocore.session.Session, _INIT)
        recorder = self
        original_call = self._original_call
        original_create = self._original_create
        original_init = self._original_init

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if (
                recorder.capturing
                and service == "dynamodb"
                and operation in WRITE_REQUESTS
                and not _phase.get().endswith("floor")  # the floor's own replay
            ):
                copying = time.perf_counter()
                with recorder._lock:
                    if recorder.spill is not None:
                        pickle.dump((operation, params), recorder.spill, pickle.HIGHEST_PROTOCOL)
                    else:
                        recorder.captured.append((operation, copy.deepcopy(params)))
                    recorder.tallies[_phase.get()].capture_seconds += time.perf_counter() - copying
            started = time.perf_counter()
            try:
                return original_call(client, operation, params)
            finally:
                elapsed = time.perf_counter() - started
                with recorder._lock:
                    tally = recorder.tallies[_phase.get()]
                    tally.calls[(service, operation)] += 1
                    tally.seconds[service] += elapsed
                    tally.operation_seconds[f"{service}:{operation}"] += elapsed
                    if recorder.trace is not None and service == "dynamodb":
                        recorder.trace.append((operation, _target(params)))

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_create(session, *args, **kwargs)
            finally:
                with recorder._lock:
                    tally = recorder.tallies[_phase.get()]
                    tally.clients += 1
                    tally.client_seconds += time.perf_counter() - started

        def init_session(session: Any, *args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                original_init(session, *args, **kwargs)
            finally:
                with recorder._lock:
                    tally = recorder.tallies[_phase.get()]
                    tally.sessions += 1
                    tally.client_seconds += time.perf_counter() - started

        setattr(BaseClient, _CALL, make_api_call)
        setattr(botocore.session.Session, _CREATE, create_client)
        setattr(botocore.session.Session, _INIT, init_session)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(BaseClient, _CALL, self._original_call)
        setattr(botocore.session.Session, _CREATE, self._original_create)
        setattr(botocore.session.Session, _INIT, self._original_init)

    @contextmanager
    def phase(self, name: str) -> Iterator[Tally]:
        token = _phase.set(name)
        try:
            yield self.tallies[name]
        finally:
            _phase.reset(token)

    def take_captured(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            taken, self.captured = self.captured, []
            if self.spill is not None:
                self.spill.flush()
                self.spill.seek(0)
                while True:
                    try:
                        taken.append(pickle.load(self.spill))
                    except EOFError:
                        break
                self.spill.seek(0)
                self.spill.truncate()
        return taken

    def reset(self, *phases: str) -> None:
        with self._lock:
            for name in phases:
                self.tallies.pop(name, None)


def _target(params: dict[str, Any]) -> str:
    """The table (and index) a request names; the tables of a transaction or batch."""
    if "TransactItems" in params:
        tables = []
        for item in params["TransactItems"]:
            ((kind, body),) = item.items()
            tables.append(f"{kind}:{_short(body['TableName'])}")
        return ",".join(tables)
    if "RequestItems" in params:
        return ",".join(_short(t) for t in params["RequestItems"])
    table = _short(str(params.get("TableName", "")))
    return f"{table}/{params['IndexName']}" if params.get("IndexName") else table


def _short(table: str) -> str:
    """`b1-DocumentsTable` -> `DocumentsTable`."""
    return table.split("-", 1)[-1]
