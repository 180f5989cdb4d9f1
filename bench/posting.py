"""Posting a backlog through the real code path, with its floor measured alongside.

A run is started as Run Now starts one (`services.runs.run_now`: the run's record and its
message on the run queue), or, when the measured documents are only part of a larger
backlog (`filler`), as a list view's Background Post of the measured company starts one.
Then, as Lambda's poller would, batches go from the run queue to the scheduled posting
function and from the posting queue to the posting worker, one batch at a time, until both
queues are empty (or the measured documents have been posted). After each worker batch the
floor replays that batch's captured writes, so the two timings alternate every ten
documents and share whatever the machine is doing meanwhile.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from background_posting.services import runs
from background_posting.store import base as store_base
from background_posting.store import work_log
from background_posting.store import worker_items as item_store
from bench import seed
from bench.calls import Recorder
from bench.floor import Floor
from bench.stack import RUN_FUNCTION, WORKER_FUNCTION, Lambdas, Stack, hash_keys

FILLER_LINES = 2


@dataclass
class Posted:
    documents: int  # posted in the measured part
    lines: int
    backlog: int  # documents queued by the run
    seconds: float  # the whole pipeline: run, queues, worker (floor excluded)
    run_seconds: float  # starting the run and the run function's deliveries (queuing)
    function_seconds: float  # inside the function invocations only
    run_function_seconds: float
    floor_seconds: float
    floor_items: int
    floor_requests: int
    floor_failures: list[str]
    requests: dict[str, Any]
    per_document_trace: list[str]
    batch_seconds: list[tuple[int, float, float]] = field(default_factory=list)
    invocations: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    tallies: dict[str, Any] = field(default_factory=dict)
    waiting: int = 0  # documents the due index held (the whole backlog)
    find_seconds: float = 0.0  # paging through the whole due index, as Run Now's run does
    errors: list[str] = field(default_factory=list)  # invocations that raised


class Posting:
    """One backlog in tables of its own, posted in steps (so that backlogs can alternate).

    With `filler`, that many more queued documents (of another company, two lines each)
    wait in the store too, and the measured documents are sales invoices posted by a list
    view's run: the store holds the whole backlog, the queues only the measured part.
    """

    def __init__(
        self,
        stack: Stack,
        recorder: Recorder,
        prefix: str,
        documents: int,
        lines: int,
        *,
        filler: int = 0,
        label: str = "",
    ):
        self.stack, self.recorder, self.prefix = stack, recorder, prefix
        self.documents, self.lines, self.filler, self.label = documents, lines, filler, label
        self.posted = 0
        self.pipeline = self.functions = self.run_function = self.run_seconds = 0.0
        self.batches: list[tuple[int, float, float]] = []
        self.trace: list[str] = []
        self.errors: list[str] = []
        self.waiting, self.find_seconds = documents, 0.0
        self.run_id = ""

    def _phase(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def prepare(self) -> None:
        """Tables, reference data, the backlog and the floor's copies (nothing timed)."""
        self.settings = self.stack.tables(self.prefix)
        with self.recorder.phase(self._phase("seed")):
            seed.reference()
            if self.filler:
                seed.reference(seed.FILLER)
                seed.backlog(self.filler, FILLER_LINES, company_id=seed.FILLER)
            seed.warm_models()
            doc_type = "sales_invoice" if self.filler else None
            backlog = seed.backlog(self.documents, self.lines, doc_type=doc_type)
            self.floor = Floor(self.stack.raw, hash_keys(self.prefix))
            self.floor.copy_records([*backlog.headers, *backlog.items])
            self.floor.copy_tables([self.settings.companies_table, self.settings.accounts_table])
            self.lambdas = Lambdas(self.settings, self.stack.sqs, self.recorder, self.prefix)
        if self.filler:
            self.waiting, self.find_seconds = _find_all(self.recorder, self._phase("find"))
            self.waiting = max(self.waiting, self.documents + self.filler)

    def resume(self) -> None:
        """Point the store at this backlog's tables again, its clients made (not timed)."""
        store_base.bind(self.settings)
        with self.recorder.phase(self._phase("seed")):
            seed.warm_models()

    def start(self) -> None:
        """Start the run: Run Now, or the measured company's list view Background Post."""
        started = time.perf_counter()
        with self.recorder.phase(self._phase("run")):
            if self.filler:
                run = runs.background_post(seed.LISTER, "sales_invoice")
            else:
                run = runs.run_now(seed.ADMIN)
        self.pipeline += time.perf_counter() - started
        self.run_seconds += time.perf_counter() - started
        self.run_id = run.id
        with self.recorder.phase(self._phase("seed")):
            key = {"pk": {"S": f"RUN#{run.id}"}, "sk": {"S": "RUN"}}
            self.floor.copy_item(self.settings.work_log_table, key)

    def step(self, documents: int, budget_s: float | None = None) -> bool:
        """Post about `documents` more (whole batches); False once the queues are empty."""
        recorder, lambdas, floor = self.recorder, self.lambdas, self.floor
        recorder.take_captured()
        recorder.capturing = True
        wanted = self.posted + documents
        progress = time.monotonic()
        more = True
        while self.posted < wanted:
            ran = lambdas.deliver(RUN_FUNCTION, self._phase("run"))
            if ran.messages:  # an empty receive is the poller's idle time, not the pipeline's
                self.pipeline += ran.seconds
                self.run_seconds += ran.seconds
                self.functions += ran.invocation_seconds
                self.run_function += ran.invocation_seconds
            if not self.trace:
                recorder.trace = []  # the worker's requests, until a batch has been traced
            worked = lambdas.deliver(WORKER_FUNCTION, self._phase("worker"))
            self.errors += [d.error for d in (ran, worked) if d.error]
            if worked.messages:
                self.pipeline += worked.seconds
                self.functions += worked.invocation_seconds
            if recorder.trace is not None and worked.messages:
                self.trace = _first_document(recorder.trace)
            recorder.trace = None
            with recorder.phase(self._phase("floor")):
                floor_seconds = floor.replay(recorder.take_captured())
            if worked.messages:
                self.posted += worked.messages
                # a batch's own time leaves out the poller's SQS calls (see docs/performance.md)
                self.batches.append(
                    (worked.messages, worked.seconds - worked.poller_seconds, floor_seconds)
                )
            if not (ran.messages or worked.messages):
                more = False
                break
            if budget_s is not None and self.pipeline + floor.seconds > budget_s:
                print(f"  {self.label}: out of budget at {self.posted}", file=sys.stderr)
                more = False
                break
            if time.monotonic() - progress > 15:
                progress = time.monotonic()
                print(f"  {self.label}: {self.posted} documents posted", file=sys.stderr)
        recorder.capturing = False
        return more

    def result(self) -> Posted:
        self.resume()
        counts = work_log.get_run(self.run_id).counts
        calls = {
            name: self.recorder.tallies[self._phase(name)]
            for name in ("run", "worker", "poller", "floor", "seed")
        }
        return Posted(
            documents=self.posted,
            lines=self.posted * self.lines,
            backlog=counts.get("queued", 0),
            seconds=self.pipeline,
            run_seconds=self.run_seconds,
            function_seconds=self.functions,
            run_function_seconds=self.run_function,
            floor_seconds=self.floor.seconds,
            floor_items=self.floor.items,
            floor_requests=self.floor.requests,
            floor_failures=self.floor.failures,
            requests=_requests(calls, self.posted),
            per_document_trace=self.trace,
            batch_seconds=self.batches,
            invocations={name: len(times) for name, times in self.lambdas.invocations.items()},
            counts=counts,
            tallies=calls,
            waiting=self.waiting,
            find_seconds=self.find_seconds,
            errors=self.errors,
        )

    def drop(self) -> None:
        self.stack.drop(self.prefix)


def post_backlog(
    stack: Stack,
    recorder: Recorder,
    prefix: str,
    documents: int,
    lines: int,
    label: str = "",
    budget_s: float | None = None,
) -> Posted:
    """Seed `documents` queued documents under fresh tables and post them with one run."""
    posting = Posting(stack, recorder, prefix, documents, lines, label=label)
    posting.prepare()
    posting.start()
    posting.step(documents, budget_s)
    result = posting.result()
    posting.drop()
    return result


def _find_all(recorder: Recorder, phase: str) -> tuple[int, float]:
    """Page through the whole due index as a run over every company does: (documents, s)."""
    found = 0
    with recorder.phase(phase):
        started = time.perf_counter()
        for shard in range(item_store.DUE_SHARDS):
            key: dict[str, Any] | None = None
            while True:
                page, key = item_store.due_documents(shard, None, key)
                found += len(page)
                if key is None:
                    break
        return found, time.perf_counter() - started


def _first_document(trace: list[tuple[str, str]]) -> list[str]:
    """The requests of the first document of a worker batch: up to its first commit."""
    first: list[str] = []
    for operation, target in trace:
        first.append(f"{operation} {target}")
        if operation == "TransactWriteItems":
            break
    return first


def _requests(calls: dict[str, Any], documents: int) -> dict[str, Any]:
    """Store requests per document (run and worker functions), by kind and by operation."""
    per = max(documents, 1)
    run, worker, poller = calls["run"], calls["worker"], calls["poller"]
    kinds = {k: run.by_kind()[k] + worker.by_kind()[k] for k in worker.by_kind()}
    operations = run.dynamodb() + worker.dynamodb()
    besides = sum(kinds.values()) - kinds["transactions"]
    sqs = run.sqs() + worker.sqs() + poller.sqs()
    clients = run.clients + worker.clients
    return {
        "per_document": {k: round(v / per, 3) for k, v in kinds.items()}
        | {"besides_transactions": round(besides / per, 3)},
        "worker_per_document": {k: round(v / per, 3) for k, v in sorted(worker.dynamodb().items())},
        "run_function_total": dict(sorted(run.dynamodb().items())),
        "operations_total": dict(sorted(operations.items())),
        "scans": kinds["scans"],
        "sqs_per_document": {k: round(v / per, 3) for k, v in sorted(sqs.items())},
        "store_seconds_per_document": (run.seconds["dynamodb"] + worker.seconds["dynamodb"]) / per,
        "sqs_seconds_per_document": (
            run.seconds["sqs"] + worker.seconds["sqs"] + poller.seconds["sqs"]
        )
        / per,
        "store_ms_by_operation": {
            name: round(
                (run.operation_seconds[name] + worker.operation_seconds[name]) / per * 1000, 3
            )
            for name in sorted({*run.operation_seconds, *worker.operation_seconds})
            if name.startswith("dynamodb:")
        },
        "floor_copy_ms_per_document": (run.capture_seconds + worker.capture_seconds) / per * 1000,
        "clients_created_per_document": round(clients / per, 3),
        "client_seconds_per_document": (run.client_seconds + worker.client_seconds) / per,
    }


def windows(batches: list[tuple[int, float, float]], size: int) -> list[dict[str, float]]:
    """Documents per second and floor ratio over consecutive windows of about `size` documents."""
    found = []
    docs = seconds = floor = 0.0
    for count, batch_seconds, floor_seconds in batches:
        docs, seconds, floor = docs + count, seconds + batch_seconds, floor + floor_seconds
        if docs >= size:
            found.append(
                {
                    "documents": int(docs),
                    "docs_per_s": round(docs / seconds, 2),
                    "floor_ratio": round(seconds / floor, 2) if floor else 0.0,
                }
            )
            docs = seconds = floor = 0.0
    return found


def median_batch_ratio(batches: list[tuple[int, float, float]]) -> float:
    """The median over worker batches of (batch time / its floor): robust to pauses."""
    ratios = [b / f for _, b, f in batches if f > 0]
    return statistics.median(ratios) if ratios else 0.0
