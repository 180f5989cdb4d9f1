"""The results: where they were measured (machine, commit, date) and how they read."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.dynamodb_local import find_jar
from infra.template import ROOT


def _first_line(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _command(*args: str) -> str:
    try:
        answer = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (answer.stdout or answer.stderr).strip()


def machine() -> dict[str, Any]:
    memory_kb = _first_line("/proc/meminfo", "MemTotal").split()[0]
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _first_line("/proc/cpuinfo", "model name"),
        "memory_gb": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb.isdigit() else None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _command("java", "-version").splitlines()[0],
        "dynamodb_local": find_jar().parent.name,
    }


def source() -> dict[str, Any]:
    changed = [
        line
        for line in _command("git", "status", "--porcelain").splitlines()
        if not line[3:].startswith("bench")  # the benchmark is not what it measures
    ]
    return {
        "commit": _command("git", "rev-parse", "HEAD"),
        "uncommitted_changes": len(changed),
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "n/a" if value is None else str(value)


def markdown(results: dict[str, Any]) -> str:
    """The summary table (docs/performance.md shows it) and the details under it."""
    src, box = results["source"], results["machine"]
    quick = " (quick sizes)" if results["config"]["quick"] else ""
    out = [
        "# Background posting benchmark",
        "",
        f"Measured {src['date']} at commit `{src['commit'][:12]}`"
        + (
            f" (+{src['uncommitted_changes']} uncommitted changes)"
            if src["uncommitted_changes"]
            else ""
        )
        + f" on {box['nproc']} CPUs ({box['cpu_model']}), {box['memory_gb']} GB, "
        f"load {box['load_average_at_start']}; {box['dynamodb_local']} (in memory), "
        f"{box['java']}, Python {box['python']}. `make bench` took "
        f"{results['wall_s'] / 60:.1f} min{quick}.",
        "",
        "| # | Figure | Measured | Target | Met |",
        "|---|---|---|---|---|",
    ]
    for target in results["targets"]:
        out.append(
            f"| {target['n']} | {target['figure']} | {target['measured']} | {target['target']} "
            f"| {_fmt(target['met']) if target['met'] is not None else 'n/a'} |"
        )
    out += ["", *_details(results), *_mass(results), ""]
    return "\n".join(out)


def _mass(results: dict[str, Any]) -> list[str]:
    mass = results.get("mass_data")
    if not mass:
        return []
    requests = ", ".join(f"{n:,} {kind}" for kind, n in mass["requests"].items() if n)
    return [
        "",
        f"Mass data: an invoice of {mass['order_lines']:,} order lines verified and posted in "
        f"{mass['seconds']:.1f} s ({mass['outcome']}, every line invoiced: "
        f"{mass['all_invoiced']}); store requests: {requests}.",
    ]


def _details(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    t = results.get("throughput")
    if t:
        r = t["requests"]
        lines += [
            "## Throughput, floor and requests",
            "",
            f"{t['documents']:,} documents of {t['lines_per_document']} lines (5 types, 3 "
            f"currencies), one run: {t['seconds']:.1f} s, floor {t['floor_s']:.1f} s "
            f"({t['floor_items']:,} items in {t['floor_requests']:,} TransactWriteItems).",
            "",
            "| per document | ms |",
            "|---|---|",
            f"| whole pipeline | {t['ms_per_document']:.1f} |",
            f"| in store requests | {r['store_ms_per_document']:.1f} |",
            "| creating botocore sessions and clients "
            f"({r['clients_created_per_document']:.2f} clients per document) "
            f"| {r['client_ms_per_document']:.1f} |",
            f"| in SQS requests (moto, in process) | {r['sqs_ms_per_document']:.1f} |",
            f"| everything else (Python: domain, pydantic, Powertools, botocore) "
            f"| {t['other_ms_per_document']:.1f} |",
            f"| the floor | {t['floor_ms_per_document']:.1f} |",
            "",
            "Store requests per document (run and worker functions): "
            + ", ".join(f"{k} {v}" for k, v in r["per_document"].items())
            + ".",
            "",
            "One document's requests in the worker: "
            + "; ".join(f"`{step}`" for step in t["per_document_trace"])
            + ".",
            "",
            "Windows of the run: "
            + ", ".join(
                f"{w['documents']} docs at {w['docs_per_s']}/s (floor ratio {w['floor_ratio']})"
                for w in t["windows"]
            )
            + ".",
            "",
        ]
    large = results.get("large_documents")
    if large:
        lines += [
            "## Large documents",
            "",
            "| lines | time s | invocations (run + worker) | longest invocation s | share of "
            "limit | floor s | floor ratio | peak MB (resident) | document MB | extra MB "
            "(resident) | peak MB (traced) | extra MB (traced) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for d in large["documents"]:
            lines.append(
                f"| {d['lines']:,} | {d['seconds']:.2f} | "
                f"{' + '.join(str(n) for n in d['invocations'].values())} | "
                f"{d['longest_invocation_s']:.2f} | {d['share_of_time_limit']:.1%} | "
                f"{d['floor_s']:.2f} | {d['floor_ratio']:.1f} | {d['peak_mb']:.0f} | "
                f"{d['document_mb']:.0f} | {d['extra_rss_mb']:.0f} | "
                f"{d['peak_traced_mb']:.0f} | {d['extra_mb']:.1f} |"
            )
        lines.append("")
        lines.append(
            "Resident: the timed posting's peak resident memory above what the process held "
            "before it, less the document's traced size. Traced: a copy of the document posted "
            "under tracemalloc in a process of its own, its peak traced allocation, less the "
            "same copy's traced size (both counted alike; allocator overhead left out)."
        )
        lines.append("")
        lines.append(
            f"Largest commit transaction: {large['largest_transaction_mb']:.2f} MB of items, "
            "counted as DynamoDB counts item sizes (names and values); its limit is 4 MB."
        )
        lines.append("")
    s = results.get("scaling")
    if s:
        lines += [
            "## Backlog scaling",
            "",
            "Each backlog waits in tables of its own (documents, worker items, the due index). "
            f"{s['window']} of its documents, sales invoices of one company, are posted by a list "
            f"view's run, in {s['turns']} turns with the backlogs alternating, and timed with "
            "their floor. Finding work: paging through the whole due index, as a run over "
            "every company does, per document waiting. Times leave out SQS (moto), shown apart.",
            "",
            "| backlog | ms per document | finding work | store requests | new clients "
            "| floor ms (median batch) | floor ratio (median batch) | SQS ms (left out) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for b in s["backlogs"]:
            lines.append(
                f"| {b['backlog']:,} | {b['ms_per_document']:.1f} | "
                f"{b['find_ms_per_document']:.3f} | {b['store_ms_per_document']:.1f} | "
                f"{b['client_ms_per_document']:.1f} | {b['floor_ms_per_document']:.1f} | "
                f"{b['floor_ratio']:.1f} | {b['sqs_ms_per_document']:.1f} |"
            )
        lines.append("")
    d = results.get("cold_start_deployed")
    if d:
        lines += [
            "## Cold start as deployed",
            "",
            f"The built layer: {d['layer_mb']:.0f} MB, {d['layer_files']:,} .py files, each "
            "with its bytecode. Each handler imported from the built function and layer only.",
            "",
            "| function | with bytecode s | without bytecode s | x | dependencies alone s "
            "| ratio | ratio of CPU times |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, f in d["functions"].items():
            lines.append(
                f"| {name} | {f['with_bytecode_s']:.3f} | {f['without_bytecode_s']:.3f} | "
                f"{f['bytecode_speedup']:.1f} | {f['dependencies_s']:.3f} | "
                f"{f['import_ratio']:.2f} | {f['import_ratio_cpu']:.2f} |"
            )
        lines.append("")
    c = results.get("cold_start")
    if c:
        lines += [
            "## Cold start",
            "",
            "| function | handler import s | dependencies alone s | ratio | ratio of CPU times "
            "| third-party modules | botocore clients at import (by dependencies) |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, f in c["functions"].items():
            cpu = f.get("import_ratio_cpu")
            lines.append(
                f"| {name} | {f['handler_import_s']:.3f} | {f['dependencies_import_s']:.3f} | "
                f"{f['import_ratio']:.2f} | {'n/a' if cpu is None else f'{cpu:.2f}'} | "
                f"{f['third_party_modules']} | "
                f"{f['clients_at_import']} ({f['clients_at_import_by_dependencies']}) |"
            )
        lines.append("")
    return lines


def write(results: dict[str, Any], directory: Path, quick: bool) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = results["source"]["date"].replace(":", "-").replace("+00-00", "Z")
    # quick sizes never replace the latest figures (*.tmp is ignored by git)
    names = ["quick"] if quick else ["latest", stamp]
    written = []
    for name in names:  # the figures first: a report that fails to render loses nothing
        path = directory / (f"{name}.json.tmp" if quick else f"{name}.json")
        path.write_text(json.dumps(results, indent=2) + "\n")
        written.append(path)
    text = markdown(results)
    for name in names:
        path = directory / (f"{name}.md.tmp" if quick else f"{name}.md")
        path.write_text(text)
        written.append(path)
    if not quick:
        prune_dated(directory)
    return written


KEEP_DATED = 6
"""Dated runs kept beside latest.* (the newest); older ones are in git's history."""


def prune_dated(directory: Path, keep: int = KEEP_DATED) -> list[Path]:
    """Remove all but the newest `keep` dated results (a .json and its .md each)."""
    stamps = sorted({p.name.split(".")[0] for p in directory.glob("20*Z.*")})
    removed = []
    for stamp in stamps[:-keep] if keep else stamps:
        for path in directory.glob(f"{stamp}.*"):
            path.unlink()
            removed.append(path)
    return removed
