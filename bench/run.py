"""`make bench`: measure background posting on DynamoDB Local and write the results.

    python -m bench.run [--quick] [--only throughput,scaling,large,coldstart] [--docs N] ...

Stages, in order: cold start (fresh interpreters, before DynamoDB Local starts), then on one
DynamoDB Local (in memory) with moto's SQS in process: a warm-up, throughput with its floor
and request counts, backlog scaling, large documents (each in a child process), parallel
workers, and mass data (an invoice of 10,000 order lines, `--only mass` alone). Results go
to bench/results/latest.{json,md} and a timestamped copy (`--quick`: quick.{json,md}.tmp).
The functions' own logs go to bench/results/*.log.tmp; progress to stderr.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import coldstart, report
from bench.calls import Recorder
from bench.large import post_large
from bench.mass import post_mass_invoice
from bench.parallel import post_in_parallel
from bench.posting import Posted, Posting, median_batch_ratio, post_backlog, windows
from bench.stack import Stack, prepare_environment
from infra.template import ROOT

RESULTS = ROOT / "bench" / "results"
STAGES = ("coldstart", "deployed", "throughput", "scaling", "large", "parallel", "mass")
FLOOR_TARGET = 2.0
REQUESTS_TARGET = 3.0
SCALING_TARGET = 1.2
COLD_START_TARGET = 1.3
SCALING_ROUNDS = 4  # each backlog's measured documents are posted in this many turns
MB = 1024 * 1024


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_{name}", default)


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=_env("QUICK", "") == "1")
    parser.add_argument("--only", default=_env("ONLY", ",".join(STAGES)))
    parser.add_argument("--docs", type=int, default=None, help="throughput backlog (2000)")
    parser.add_argument("--lines", type=int, default=int(_env("LINES", "10")))
    parser.add_argument(
        "--mass-lines", type=int, default=int(_env("MASS_LINES", "10000")), help="mass stage"
    )
    parser.add_argument("--warmup", type=int, default=None, help="warm-up documents (30)")
    parser.add_argument("--backlogs", default=None, help="scaling backlogs (1000,5000,20000)")
    parser.add_argument("--window", type=int, default=None, help="documents timed per backlog")
    parser.add_argument("--large", default=None, help="large document lines (20000,100000)")
    parser.add_argument("--cold-runs", type=int, default=None, help="imports per side (11)")
    parser.add_argument(
        "--parallel", type=int, default=None, help="documents per parallel round (800)"
    )
    parser.add_argument(
        "--budget", type=float, default=float(_env("BUDGET", "420")), help="throughput seconds"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.docs = args.docs or int(_env("DOCS", "100" if quick else "2000"))
    args.warmup = (
        args.warmup if args.warmup is not None else int(_env("WARMUP", "20" if quick else "30"))
    )
    args.backlogs = _sizes(
        args.backlogs or _env("BACKLOGS", "100,200,400" if quick else "1000,5000,20000")
    )
    args.window = args.window or int(_env("WINDOW", "50" if quick else "400"))
    args.large = _sizes(args.large or _env("LARGE", "2000,5000" if quick else "20000,100000"))
    args.cold_runs = args.cold_runs or int(_env("COLD_RUNS", "3" if quick else "11"))
    args.parallel = args.parallel or int(_env("PARALLEL", "100" if quick else "800"))
    args.only = [stage.strip() for stage in args.only.split(",") if stage.strip()]
    unknown = set(args.only) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    return args


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@contextmanager
def stdout_to(path: Path) -> Iterator[None]:
    """The functions log to stdout (as on Lambda): keep those lines in a file."""
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


# -- the stages ------------------------------------------------------------------------------


def throughput(stack: Stack, recorder: Recorder, args: argparse.Namespace) -> dict[str, Any]:
    if args.warmup:
        say(f"warm-up: {args.warmup} documents (not measured)")
        post_backlog(stack, recorder, "warm", args.warmup, args.lines, label="warm-up")
    say(f"throughput: {args.docs} documents of {args.lines} lines, one run, floor alongside")
    p = post_backlog(
        stack, recorder, "tp", args.docs, args.lines, label="throughput", budget_s=args.budget
    )
    per = max(p.documents, 1)
    r = dict(p.requests)
    for name in ("store", "sqs", "client"):
        r[f"{name}_ms_per_document"] = r.pop(f"{name}_seconds_per_document") * 1000
    ms = p.seconds / per * 1000
    other = ms - r["store_ms_per_document"] - r["sqs_ms_per_document"] - r["client_ms_per_document"]
    without_sqs = p.seconds - _sqs_seconds(p)
    return {
        "documents": p.documents,
        "backlog": p.backlog,
        "complete": p.counts.get("posted", 0) == p.backlog and p.documents == args.docs,
        "lines_per_document": args.lines,
        "seconds": p.seconds,
        "docs_per_s": p.documents / p.seconds,
        "lines_per_s": p.lines / p.seconds,
        "seconds_without_sqs": without_sqs,
        "docs_per_s_without_sqs": p.documents / without_sqs,
        "floor_s": p.floor_seconds,
        "floor_ratio": without_sqs / p.floor_seconds,
        "floor_ratio_with_sqs": p.seconds / p.floor_seconds,
        "floor_ratio_functions_only": p.function_seconds / p.floor_seconds,
        "floor_ratio_median_batch": median_batch_ratio(p.batch_seconds),
        "floor_items": p.floor_items,
        "floor_requests": p.floor_requests,
        "floor_failures": len(p.floor_failures),
        "floor_failure_kinds": dict(Counter(p.floor_failures).most_common(5)),
        "ms_per_document": ms,
        "floor_ms_per_document": p.floor_seconds / per * 1000,
        "other_ms_per_document": other,
        "run_function_s": p.run_function_seconds,
        "invocations": p.invocations,
        "invocation_errors": p.errors,
        "counts": p.counts,
        "windows": windows(p.batch_seconds, max(args.docs // 4, 10)),
        "requests": r,
        "per_document_trace": p.per_document_trace,
    }


def _sqs_seconds(p: Posted) -> float:
    return sum(p.tallies[name].seconds["sqs"] for name in ("run", "worker", "poller"))


def _scaled(p: Posted) -> dict[str, Any]:
    per = max(p.documents, 1)
    ms = p.seconds / per * 1000
    sqs_ms = _sqs_seconds(p) / per * 1000
    find_ms = p.find_seconds / max(p.waiting, 1) * 1000
    # per batch medians: the floor of ten documents is short enough for one pause of
    # DynamoDB Local's JVM to double it, so a sum would be noisy
    floor_ms = statistics.median(f / n for n, _, f in p.batch_seconds) * 1000
    without_sqs = ms - sqs_ms + find_ms
    return {
        "backlog": p.waiting,
        "documents_timed": p.documents,
        "ms_per_document": without_sqs,
        "ms_per_document_with_sqs": ms + find_ms,
        "find_ms_per_document": find_ms,
        "sqs_ms_per_document": sqs_ms,
        "floor_ms_per_document": floor_ms,
        "floor_ratio": median_batch_ratio(p.batch_seconds),
        "store_ms_per_document": p.requests["store_seconds_per_document"] * 1000,
        "client_ms_per_document": p.requests["client_seconds_per_document"] * 1000,
        "requests_per_document": p.requests["per_document"],
        "posted_all_timed": p.counts.get("posted", 0) == p.documents,
    }


def scaling(stack: Stack, recorder: Recorder, args: argparse.Namespace) -> dict[str, Any]:
    """The backlogs side by side: all seeded first, then their windows posted in turns."""
    # The backlog seeded first posts slower whatever its size (its store requests take longer:
    # docs/performance.md), so a small one is seeded first and not measured.
    spacer = Posting(stack, recorder, "sfirst", 10, args.lines, filler=90, label="unmeasured")
    spacer.prepare()
    postings = []
    for backlog in args.backlogs:
        window = min(args.window, backlog)
        say(f"scaling: seeding a backlog of {backlog:,} ({window} of its documents measured)")
        posting = Posting(
            stack,
            recorder,
            f"s{backlog}",
            window,
            args.lines,
            filler=backlog - window,
            label=f"backlog {backlog}",
        )
        posting.prepare()
        postings.append(posting)
    for posting in postings:
        posting.resume()
        posting.start()
    say(f"scaling: posting in {SCALING_ROUNDS} turns per backlog, backlogs alternating")
    share = -(-args.window // SCALING_ROUNDS)
    for turn in range(SCALING_ROUNDS):
        order = postings[turn % len(postings) :] + postings[: turn % len(postings)]
        for posting in order:
            posting.resume()
            posting.step(min(share, posting.documents - posting.posted))
    found = []
    for posting in postings:
        found.append(_scaled(posting.result()))
        posting.drop()
    spacer.drop()
    times = [b["ms_per_document"] for b in found]
    ratios = [b["floor_ratio"] for b in found]
    return {
        "window": args.window,
        "turns": SCALING_ROUNDS,
        "lines_per_document": args.lines,
        "backlogs": found,
        "scaling_ratio": max(times) / min(times),
        "scaling_ratio_floor_normalised": max(ratios) / min(ratios),
    }


def large(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    documents = []
    for lines in args.large:
        say(f"large document: {lines:,} lines (child process)")
        d = post_large(stack, lines, args.out)
        d["invocations_total"] = sum(d["invocations"].values())
        d["share_of_time_limit"] = d["longest_invocation_s"] / d["timeout_s"]
        d["floor_share_of_time_limit"] = d["floor_s"] / d["timeout_s"]
        d["floor_ratio"] = d["seconds"] / d["floor_s"]
        d["peak_mb"] = d["peak_rss_bytes"] / MB
        d["document_mb"] = d["document_bytes"] / MB
        # beyond the document, both traced (the copy posted under tracemalloc, bench/large.py)
        extra = d["peak_traced_bytes"] - d["traced_document_bytes"]
        d["peak_traced_mb"] = d["peak_traced_bytes"] / MB
        d["extra_mb"] = extra / MB
        d["extra_bytes_per_line"] = extra / d["lines"]
        # the earlier figure: resident peak less the traced document (allocator overhead in it)
        d["extra_rss_mb"] = d["peak_mb"] - d["document_mb"]
        documents.append(d)
    first, last = documents[0], documents[-1]
    slope = (last["longest_invocation_s"] - first["longest_invocation_s"]) / max(
        last["lines"] - first["lines"], 1
    )
    return {
        "documents": documents,
        "largest_transaction_mb": max(d["largest_transaction_bytes"] for d in documents) / MB,
        "extra_memory_growth": last["extra_mb"] / first["extra_mb"] if first["extra_mb"] else 0,
        "extra_memory_growth_rss": last["extra_rss_mb"] / first["extra_rss_mb"]
        if first["extra_rss_mb"]
        else 0,
        "line_growth": last["lines"] / first["lines"],
        "lines_at_time_limit": int(
            last["lines"] + (last["timeout_s"] - last["longest_invocation_s"]) / slope
        )
        if slope > 0
        else None,
    }


PARALLEL_WORKERS = (1, 4)
PARALLEL_ROUNDS = 2
PARALLEL_COMPANIES = (1, 8)  # one company (one counter), and a multi-tenant queue


def parallel(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    """1 and 4 worker processes, on one company's backlog and on 8 companies', alternating,
    each round a fresh backlog."""
    rounds: dict[tuple[int, int], list[dict[str, Any]]] = {
        (c, w): [] for c in PARALLEL_COMPANIES for w in PARALLEL_WORKERS
    }
    for turn in range(PARALLEL_ROUNDS):
        for companies in PARALLEL_COMPANIES:
            for workers in PARALLEL_WORKERS:
                say(
                    f"parallel: {workers} worker(s), {args.parallel} documents of "
                    f"{companies} compan{'y' if companies == 1 else 'ies'} (round {turn + 1})"
                )
                rounds[companies, workers].append(
                    post_in_parallel(stack, workers, args.parallel, args.lines, args.out, companies)
                )

    def total(companies: int, workers: int) -> dict[str, Any]:
        done = rounds[companies, workers]

        def summed(key: str) -> float:
            return sum(r[key] for r in done)

        posted, seconds = summed("posted"), summed("seconds")
        per_document = 1 / max(posted, 1)
        return {
            "workers": workers,
            "posted": posted,
            "seconds": seconds,
            "docs_per_s": posted / seconds if seconds else 0.0,
            "lost_races": summed("lost_races"),
            "retries_per_document": summed("lost_races") * per_document,
            "commits_per_document": summed("commits") * per_document,
            "worker_cpu_ms_per_document": 1000 * summed("worker_cpu_s") * per_document,
            "store_cpu_ms_per_document": 1000 * summed("store_cpu_s") * per_document,
            "store_busy": summed("store_cpu_s") / seconds if seconds else 0.0,
            "rounds": done,
        }

    found: dict[str, Any] = {}
    for companies in PARALLEL_COMPANIES:
        by_workers = {str(w): total(companies, w) for w in PARALLEL_WORKERS}
        one, four = by_workers["1"], by_workers["4"]
        found[str(companies)] = {
            "companies": companies,
            "by_workers": by_workers,
            "speedup": four["docs_per_s"] / one["docs_per_s"] if one["docs_per_s"] else 0.0,
        }
    return {"by_companies": found, "documents_per_round": args.parallel, "cpus": os.cpu_count()}


# -- the verdicts ---------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(n: int, figure: str, measured: str, target: str, met: bool | None) -> None:
        found.append({"n": n, "figure": figure, "measured": measured, "target": target, "met": met})

    t = results.get("throughput")
    if t:
        add(
            1,
            f"Throughput, {t['documents']:,} documents x {t['lines_per_document']} lines, one run",
            f"{t['docs_per_s']:.1f} docs/s, {t['lines_per_s']:.0f} lines/s"
            + ("" if t["complete"] else f" (stopped at {t['documents']} of {t['backlog']})"),
            "(figure)",
            None,
        )
        add(
            2,
            "Run time / floor time (raw TransactWriteItems)",
            f"{t['floor_ratio']:.2f} (median batch {t['floor_ratio_median_batch']:.2f})"
            + (
                f"; **the floor is not valid**: {t['floor_failures']} of its requests failed"
                if t["floor_failures"]
                else ""
            ),
            f"<= {FLOOR_TARGET}",
            t["floor_ratio"] <= FLOOR_TARGET and not t["floor_failures"],
        )
        per = t["requests"]["per_document"]
        add(
            3,
            "Store requests per document besides its transaction",
            f"{per['besides_transactions']:.2f} ({per['gets']:.2f} gets, {per['queries']:.2f} "
            f"queries, {per['writes']:.2f} writes; {per['transactions']:.2f} transactions)",
            f"<= {REQUESTS_TARGET:g}",
            per["besides_transactions"] <= REQUESTS_TARGET,
        )
        add(3, "Scans", str(t["requests"]["scans"]), "0", t["requests"]["scans"] == 0)
    g = results.get("large_documents")
    if g:
        for d in g["documents"]:
            add(
                4,
                f"Large document, {d['lines']:,} lines: longest invocation's share of the "
                f"{d['timeout_s']} s limit (floor's share)",
                ("" if d["status"] == "Complete" else f"**{d['status']}**: {d['errors']}; ")
                + (
                    ""
                    if d["traced_status"] == "Complete"
                    else f"traced copy **{d['traced_status']}**: {d['traced_errors']}; "
                )
                + f"{d['share_of_time_limit']:.1%} ({d['floor_share_of_time_limit']:.1%}); "
                f"{d['seconds']:.1f} s, {d['invocations_total']} invocations, peak "
                f"{d['peak_mb']:.0f} MB",
                "< 100%, posted",
                d["share_of_time_limit"] < 1
                and d["status"] == "Complete"
                and d["traced_status"] == "Complete",
            )
        add(
            4,
            "Large documents: memory beyond the document, growth from "
            f"{g['documents'][0]['lines']:,} to {g['documents'][-1]['lines']:,} lines",
            f"x{g['extra_memory_growth']:.2f} for x{g['line_growth']:.0f} lines "
            f"({g['documents'][0]['extra_mb']:.1f} -> {g['documents'][-1]['extra_mb']:.1f} MB, "
            "traced; resident peak less the document: "
            f"x{g['extra_memory_growth_rss']:.2f}, {g['documents'][0]['extra_rss_mb']:.0f} -> "
            f"{g['documents'][-1]['extra_rss_mb']:.0f} MB)",
            "does not grow (<= x1.2)",
            g["extra_memory_growth"] <= 1.2,
        )
    s = results.get("scaling")
    if s:
        sizes = "/".join(f"{b['backlog']:,}" for b in s["backlogs"])
        add(
            5,
            f"Time per document, backlogs {sizes} (slowest / fastest)",
            f"{s['scaling_ratio']:.2f} "
            f"(floor-normalised {s['scaling_ratio_floor_normalised']:.2f})",
            f"<= {SCALING_TARGET}",
            s["scaling_ratio"] <= SCALING_TARGET,
        )
    p = results.get("parallel")
    if p:
        for companies, figure in p["by_companies"].items():
            one, four = figure["by_workers"]["1"], figure["by_workers"]["4"]
            which = "one company" if companies == "1" else f"{companies} companies"
            add(
                7,
                f"Parallel workers, {which}: 4 processes / 1 process (docs/s); counter retries",
                f"x{figure['speedup']:.2f} ({one['docs_per_s']:.0f} -> {four['docs_per_s']:.0f} "
                f"docs/s); {four['retries_per_document']:.2f} retries per document with 4 "
                f"({one['retries_per_document']:.2f} with 1); DynamoDB Local busy "
                f"{one['store_busy']:.2f} -> {four['store_busy']:.2f} CPUs",
                "scales (> x1)",
                figure["speedup"] > 1.0,
            )
    d = results.get("cold_start_deployed")
    if d:
        for name, f in d["functions"].items():
            add(
                6,
                f"Cold start as deployed {name}: handler / dependencies, from the built layer",
                f"{f['import_ratio']:.2f} ({f['with_bytecode_s'] * 1000:.0f} / "
                f"{f['dependencies_s'] * 1000:.0f} ms; without the layer's bytecode "
                f"{f['without_bytecode_s'] * 1000:.0f} ms, x{f['bytecode_speedup']:.1f}; "
                f"CPU times: {f['import_ratio_cpu']:.2f})",
                f"<= {COLD_START_TARGET}",
                f["import_ratio"] <= COLD_START_TARGET,
            )
    c = results.get("cold_start")
    if c:
        for name, f in c["functions"].items():
            add(
                6,
                f"Cold start {name}: handler import / dependencies import",
                f"{f['import_ratio']:.2f} ({f['handler_import_s'] * 1000:.0f} / "
                f"{f['dependencies_import_s'] * 1000:.0f} ms; CPU times: "
                f"{f['import_ratio_cpu']:.2f})",
                f"<= {COLD_START_TARGET}",
                f["import_ratio"] <= COLD_START_TARGET,
            )
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    prepare_environment()
    warnings.filterwarnings("ignore", message="No application metrics")
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "source": report.source(),
        "machine": report.machine(),
        "config": {
            "quick": args.quick,
            "stages": args.only,
            "documents": args.docs,
            "lines_per_document": args.lines,
            "warmup_documents": args.warmup,
            "backlogs": args.backlogs,
            "window": args.window,
            "large_lines": args.large,
            "cold_start_runs": args.cold_runs,
            "throughput_budget_s": args.budget,
        },
    }
    if "coldstart" in args.only:
        say(f"cold start: every function, {args.cold_runs} imports per side, alternating")
        results["cold_start"] = {"functions": coldstart.measure(args.cold_runs)}
    if "deployed" in args.only:
        say(f"cold start as deployed: each handler from the built layer, {args.cold_runs} runs")
        results["cold_start_deployed"] = coldstart.measure_deployed(args.cold_runs)
    if set(args.only) & {"throughput", "scaling", "large", "parallel", "mass"}:
        say("starting DynamoDB Local (in memory) and moto SQS")
        logs = args.out / "functions.log.tmp"
        stack = Stack.start(log_file=args.out / "dynamodb-local.log.tmp")
        try:
            with Recorder() as recorder, stdout_to(logs):
                if "throughput" in args.only:
                    results["throughput"] = throughput(stack, recorder, args)
                if "scaling" in args.only:
                    results["scaling"] = scaling(stack, recorder, args)
            if "large" in args.only:
                results["large_documents"] = large(stack, args)
            if "parallel" in args.only:
                results["parallel"] = parallel(stack, args)
            if "mass" in args.only:
                say(f"mass data: an invoice of {args.mass_lines:,} order lines")
                with Recorder() as recorder, stdout_to(args.out / "functions.log.tmp"):
                    results["mass_data"] = post_mass_invoice(stack, recorder, args.mass_lines)
        finally:
            stack.stop()
    results["wall_s"] = time.perf_counter() - started
    results["targets"] = targets(results)
    written = report.write(results, args.out, args.quick)
    print(report.markdown(results))
    say("wrote " + ", ".join(os.path.relpath(p, ROOT) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
