"""A large document posted in the background, measured in a process of its own.

    python -m bench.large --endpoint URL --prefix P --document ID --out FILE [--traced]

The parent (`bench.run`) seeds the document and the floor's copies on a DynamoDB Local it
started; this process binds to the same tables, brings its own moto SQS, loads the run and
worker functions, then measures one run that posts the document: wall time, invocations,
the longest invocation, and the peak resident memory the posting added (Linux: the peak is
reset through /proc/self/clear_refs just before, and read from VmHWM after). The run's writes
are kept in a file, not in memory, for the floor, which replays them twice after; then the
document itself is measured as the worker reads it (tracemalloc, after the timed part, so
that tracing slows nothing that is timed).

Resident memory and tracemalloc do not count alike (the allocator's arenas and free lists
are resident, not traced), so memory beyond the document is measured on a second copy of the
document, in a second process (`--traced`): its posting runs under tracemalloc, untimed and
without the floor, and its peak traced allocation is set against the document's traced size.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

from bench.stack import prepare_environment


def _status(field: str) -> int:
    """A VmXXX line of /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _document_bytes(document_id: str) -> tuple[int, int]:
    """The document as the worker reads it, traced: (bytes, lines)."""
    from background_posting.store import document_store

    gc.collect()
    tracemalloc.start()
    document = document_store.get_document(document_id).document
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size, document.line_count


def _drain(lambdas: Any) -> list[str]:
    """Feed the run's and the worker's queues to their functions until both are empty; the
    errors of invocations that raised (a failed message waits out its visibility timeout: it
    is not retried here)."""
    from bench.stack import RUN_FUNCTION, WORKER_FUNCTION

    errors: list[str] = []
    while True:
        ran = lambdas.deliver(RUN_FUNCTION, "run")
        worked = lambdas.deliver(WORKER_FUNCTION, "worker")
        errors += [d.error for d in (ran, worked) if d.error]
        if not (ran.messages or worked.messages):
            return errors


def measure_traced(endpoint: str, prefix: str, document_id: str) -> dict[str, Any]:
    """The posting under tracemalloc: its peak traced allocation, and the document's size."""
    from background_posting.services import runs
    from background_posting.store import document_store
    from bench import seed
    from bench.calls import Recorder
    from bench.stack import Lambdas, Stack

    stack = Stack.start(endpoint)
    try:
        settings = stack.tables(prefix)
        with Recorder() as recorder:
            seed.warm_models()
            lambdas = Lambdas(settings, stack.sqs, recorder)
            runs.run_now(seed.ADMIN)
            gc.collect()
            tracemalloc.start()  # what was allocated before is not counted
            errors = _drain(lambdas)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            stored = document_store.get_document(document_id, with_lines=False).document
        document_bytes, lines = _document_bytes(document_id)
    finally:
        stack.stop()
    return {
        "lines": lines,
        "status": stored.status,
        "errors": errors,
        "peak_traced_bytes": peak,
        "document_bytes": document_bytes,
    }


def measure(endpoint: str, prefix: str, document_id: str) -> dict[str, Any]:
    from background_posting.services import runs
    from background_posting.store import document_store, work_log
    from bench import seed
    from bench.calls import Recorder
    from bench.floor import Floor, transaction_bytes
    from bench.stack import WORKER_FUNCTION, Lambdas, Stack, hash_keys

    stack = Stack.start(endpoint)
    try:
        settings = stack.tables(prefix)
        with Recorder() as recorder, tempfile.TemporaryFile() as spill:
            recorder.spill = spill  # the floor's copies of the writes: not this process's memory
            with recorder.phase("seed"):
                seed.warm_models()
                lambdas = Lambdas(settings, stack.sqs, recorder)
                run = runs.run_now(seed.ADMIN)
                floors = [Floor(stack.raw, hash_keys(prefix), p) for p in ("F1#", "F2#")]
                for floor in floors:
                    floor.copy_item(
                        settings.work_log_table, {"pk": {"S": f"RUN#{run.id}"}, "sk": {"S": "RUN"}}
                    )
            gc.collect()
            reset = _reset_peak()
            baseline = _status("VmRSS")
            recorder.capturing = True
            started = time.perf_counter()
            errors = _drain(lambdas)
            seconds = time.perf_counter() - started
            recorder.capturing = False
            peak = _status("VmHWM") - baseline if reset else 0
            captured = recorder.take_captured()
            largest = max(
                (transaction_bytes(p) for op, p in captured if op == "TransactWriteItems"),
                default=0,
            )
            with recorder.phase("floor"):
                floor_seconds = [floor.replay(captured) for floor in floors]
            failures = [f for floor in floors for f in floor.failures]
            stored = document_store.get_document(document_id, with_lines=False).document
            counts = work_log.get_run(run.id).counts
            worker = recorder.tallies["worker"]
            recorder.spill = None
        document_bytes, lines = _document_bytes(document_id)
    finally:
        stack.stop()
    invocations = {name: times for name, times in lambdas.invocations.items()}
    longest = max(t for times in invocations.values() for t in times)
    return {
        "lines": lines,
        "status": stored.status,
        "errors": errors,
        "counts": counts,
        "seconds": seconds,
        "invocations": {name: len(times) for name, times in invocations.items()},
        "longest_invocation_s": longest,
        "timeout_s": lambdas.functions[WORKER_FUNCTION].spec.timeout,
        "peak_rss_bytes": peak,
        "peak_measured": reset,
        "document_bytes": document_bytes,
        "largest_transaction_bytes": largest,
        "floor_s": sum(floor_seconds) / len(floor_seconds),
        "floor_runs_s": floor_seconds,
        "floor_items": floors[0].items,
        "floor_requests": floors[0].requests,
        "floor_failures": failures,
        "worker_requests": dict(sorted(worker.dynamodb().items())),
        "worker_clients": worker.clients,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--document", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--traced", action="store_true", help="the memory, under tracemalloc")
    args = parser.parse_args(argv)
    prepare_environment()
    warnings.filterwarnings("ignore", message="No application metrics")
    how = measure_traced if args.traced else measure
    result = how(args.endpoint, args.prefix, args.document)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def post_large(stack: Any, lines: int, logs: Path, timeout: float = 600) -> dict[str, Any]:
    """One sales invoice of `lines` lines posted and timed (in a child), and a copy of it
    posted under tracemalloc (in another child): the timed result with `peak_traced_bytes`
    and `traced_document_bytes` of the copy."""
    result = _post_large(stack, lines, logs, timeout, traced=False)
    traced = _post_large(stack, lines, logs, timeout, traced=True)
    return result | {
        "peak_traced_bytes": traced["peak_traced_bytes"],
        "traced_document_bytes": traced["document_bytes"],
        "traced_status": traced["status"],
        "traced_errors": traced["errors"],
    }


def _post_large(stack: Any, lines: int, logs: Path, timeout: float, traced: bool) -> dict[str, Any]:
    """Seed one sales invoice of `lines` lines (here), measure its posting (in a child)."""
    import subprocess

    from bench import seed
    from bench.floor import Floor
    from bench.stack import hash_keys
    from infra.template import ROOT

    prefix = f"l{lines}{'t' if traced else ''}"
    settings = stack.tables(prefix)
    seed.reference()
    backlog = seed.backlog(1, lines, doc_type="sales_invoice")
    if not traced:
        for floor_prefix in ("F1#", "F2#"):
            floor = Floor(stack.raw, hash_keys(prefix), floor_prefix)
            floor.copy_records([*backlog.headers, *backlog.items])
            floor.copy_tables([settings.companies_table, settings.accounts_table])
    document_id = backlog.documents[0].id
    del backlog
    gc.collect()
    name = f"large-{lines}{'-traced' if traced else ''}"
    out = logs / f"{name}.json.tmp"
    with (logs / f"{name}.log.tmp").open("wb") as log:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.large",
                "--endpoint",
                stack.endpoint,
                "--prefix",
                prefix,
                "--document",
                document_id,
                "--out",
                str(out),
                *(["--traced"] if traced else []),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=True,
        )
    result: dict[str, Any] = json.loads(out.read_text())
    stack.drop(prefix)
    return result
