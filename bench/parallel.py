"""Posting workers in parallel processes against one DynamoDB Local, as Lambda runs them.

    python -m bench.parallel --endpoint URL --prefix P --ids FILE --slice I/N

The parent (`bench.run`) seeds a Ready to Post backlog of one company or of several (then
queued in batches of ten documents of one company, the batches in a shuffled order, as a
multi-tenant queue hands them out) and starts N children; each binds to the same tables,
takes every N-th batch (its share of the queue, as SQS would hand it out), and works through
them as the posting worker's SQS handler does: one `worker.Batch` each, the batch's
documents of a company posted together first, each message carrying its item as a run's
does. Children get ready
(imports, clients), then wait for the parent's "go" on stdin, so that only the posting is
timed. Each child reports its documents, seconds, CPU seconds, commits sent and commits that
lost the race for a company's transaction counter (they read it again and retry). SQS is
left out, as in the throughput figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, TypeVar

from bench.stack import prepare_environment

BATCH = 10
T = TypeVar("T")


def _in_batches(queue: list[T]) -> list[list[T]]:
    """The queue as the SQS handler receives it: batches of `BATCH` messages, in order."""
    return [queue[start : start + BATCH] for start in range(0, len(queue), BATCH)]


def _cpu_seconds(pid: int | None) -> float:
    """CPU time a process (DynamoDB Local's JVM) has used so far; 0 when it is not ours."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def work(endpoint: str, prefix: str, ids: list[str]) -> dict[str, Any]:
    """Post the documents `ids` as the posting worker would; what it took."""
    from background_posting.services import worker
    from background_posting.store import ledger_store
    from background_posting.store import worker_items as item_store
    from background_posting.store.writes import LostRace
    from bench import seed
    from bench.stack import Stack

    stack = Stack.start(endpoint)
    stack.tables(prefix)
    seed.warm_models()
    messages = [
        worker.Message(None, document_id, tuple(item_store.items_of(document_id)))
        for document_id in ids
    ]
    tally = {"commits": 0, "lost_races": 0}
    original = ledger_store.transact

    def counting(*args: Any, **kwargs: Any) -> None:
        tally["commits"] += 1
        try:
            original(*args, **kwargs)
        except LostRace:
            tally["lost_races"] += 1
            raise

    ledger_store.transact = counting  # type: ignore[assignment]
    print("ready", flush=True)
    sys.stdin.readline()  # the parent's "go"
    started, cpu = time.perf_counter(), time.process_time()
    outcomes: dict[str, int] = {}
    for received in _in_batches(messages):
        batch = worker.Batch("bench", lambda: 900.0)
        batch.post_together(received)  # as the SQS handler does
        for message in received:
            outcome = worker.process(message, "bench", lambda: 900.0, batch=batch)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        batch.finish()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    stack.stop()
    return {
        "documents": len(ids),
        "seconds": seconds,
        "cpu_s": cpu,
        "outcomes": outcomes,
        **tally,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--ids", type=Path, required=True)
    parser.add_argument("--slice", required=True, help="I/N: every N-th batch from the I-th")
    args = parser.parse_args(argv)
    prepare_environment()
    index, count = (int(part) for part in args.slice.split("/"))
    batches = _in_batches(json.loads(args.ids.read_text()))
    ids = [document_id for batch in batches[index::count] for document_id in batch]
    print(json.dumps(work(args.endpoint, args.prefix, ids)), flush=True)
    return 0


def post_in_parallel(
    stack: Any, workers: int, documents: int, lines: int, logs: Path, companies: int = 1
) -> dict[str, Any]:
    """Seed `documents` of `companies` companies (here), post them with `workers` child
    processes."""
    from bench import seed
    from infra.template import ROOT

    prefix = f"p{workers}x{documents}x{companies}x{int(time.time() * 1000) % 100000}"
    stack.tables(prefix)
    batches: list[list[str]] = []
    for index in range(companies):
        company = seed.COMPANY if index == 0 else f"{seed.COMPANY}{index}"
        seed.reference(company)
        backlog = seed.backlog(documents // companies, lines, company_id=company)
        batches += _in_batches([d.id for d in backlog.documents])
    random.Random(documents).shuffle(batches)  # the same queue for 1 and for 4 workers
    ids_file = logs / f"{prefix}.ids.tmp"
    ids_file.write_text(json.dumps([document_id for batch in batches for document_id in batch]))
    children = []
    with (logs / f"parallel-{workers}.log.tmp").open("ab") as log:
        for index in range(workers):
            children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.parallel",
                        "--endpoint",
                        stack.endpoint,
                        "--prefix",
                        prefix,
                        "--ids",
                        str(ids_file),
                        "--slice",
                        f"{index}/{workers}",
                    ],
                    cwd=ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            )
        try:
            for child in children:
                assert child.stdout is not None
                if child.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a parallel worker did not start (see {log.name})")
            store_pid = stack.dynamodb.process.pid if stack.dynamodb else None
            store_cpu = _cpu_seconds(store_pid)
            started = time.perf_counter()
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            reports = []
            for child in children:
                assert child.stdout is not None
                reports.append(json.loads(child.stdout.readline()))
                child.wait(timeout=600)
            wall = time.perf_counter() - started
            store_cpu = _cpu_seconds(store_pid) - store_cpu
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
    stack.drop(prefix)
    posted = sum(r["outcomes"].get("posted", 0) for r in reports)
    return {
        "workers": workers,
        "companies": companies,
        "documents": documents,
        "posted": posted,
        "seconds": wall,
        "docs_per_s": posted / wall if wall else 0.0,
        "commits": sum(r["commits"] for r in reports),
        "lost_races": sum(r["lost_races"] for r in reports),
        "retries_per_document": sum(r["lost_races"] for r in reports) / max(posted, 1),
        "worker_cpu_s": sum(r["cpu_s"] for r in reports),
        "store_cpu_s": store_cpu,
        "workers_reports": reports,
    }


if __name__ == "__main__":
    sys.exit(main())
