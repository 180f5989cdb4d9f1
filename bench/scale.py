"""At scale, on paper: how long a backlog takes to drain on AWS, and where it stops scaling.

    python -m bench.scale [--documents 1000000] [--companies 1,100] [--results FILE]

A small model from the measured per-document costs (bench/results/latest.json, when there)
and DynamoDB's, SQS's and Lambda's published limits. Every input is printed with the result,
so the model can be argued with. It is arithmetic, not a measurement.

The chain a document goes through: a run queues it (SQS), a posting worker reads it (two
requests), builds its transaction (CPU) and commits it (one TransactWriteItems that also
takes the company's next transaction number). What can limit the drain:

* Lambda: concurrent workers (the event source's MaximumConcurrency) x documents per
  second each;
* DynamoDB, table-wide: each commit writes ~6 items transactionally (2 WCU per KB each);
* the company's transaction counter: one item, so one partition: at most 1,000 WCU/s, and a
  transactional update costs 2 WCU: 500 commits/s at the very most; and, before that, the
  optimistic numbering itself: a commit must carry the counter value it read, so of all the
  commits that read one value only one succeeds; the rest read again and retry. With many
  workers on one company, successful commits per second approach 1 / (read + commit latency).
  Numbering k documents per commit (one counter update for k numbers, consecutive, in the
  same all-or-nothing transaction) multiplies that by k, up to what fits in 100 items.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.template import ROOT, resources

RESULTS = ROOT / "bench" / "results" / "latest.json"


@dataclass(frozen=True)
class Inputs:
    cpu_ms_per_document: float = 8.0
    """Python time per document in the worker, besides waiting on requests (measured)."""
    requests_per_document: float = 2.1
    """Store requests before the commit (measured: Query, BatchGetItem shared, run reads)."""
    read_latency_ms: float = 5.0
    """A DynamoDB read in the same region (published: single-digit milliseconds)."""
    commit_latency_ms: float = 15.0
    """A TransactWriteItems of ~6 items (about twice a single write, two-phase)."""
    items_per_commit: int = 6
    """Ledger header, line chunk, counter, document, worker item, log entry (the run's count
    is shared)."""
    wcu_per_transactional_item: int = 2
    lambda_concurrency: int = 1000
    """Workers at once: the account's default concurrency, or the worker's event source's
    MaximumConcurrency when lower (the model uses the template's)."""
    counter_partition_wcu: int = 1000
    """One partition's write limit; the counter is one item."""
    table_write_units: int = 40_000
    """A table's default quota (on demand); a new table starts warm at 4,000 and doubles."""
    documents_per_commit: int = 1
    """Documents numbered in one transaction."""
    max_items_per_transaction: int = 100


def worker_docs_per_s(i: Inputs) -> float:
    per_document_ms = (
        i.cpu_ms_per_document
        + i.requests_per_document * i.read_latency_ms
        + i.commit_latency_ms / i.documents_per_commit
    )
    return 1000.0 / per_document_ms


def company_limit(i: Inputs) -> dict[str, float]:
    """A single company's most documents per second, and what sets it."""
    optimistic = i.documents_per_commit * 1000.0 / (i.read_latency_ms + i.commit_latency_ms)
    partition = i.documents_per_commit * i.counter_partition_wcu / i.wcu_per_transactional_item
    return {"numbering": optimistic, "counter_partition": partition}


def drain(i: Inputs, documents: int, companies: int) -> dict[str, Any]:
    per_company = company_limit(i)
    lambda_total = i.lambda_concurrency * worker_docs_per_s(i)
    items = i.items_per_commit - 1 + 1 / i.documents_per_commit  # the counter is shared
    table = i.table_write_units / (items * i.wcu_per_transactional_item)
    limits = {
        "lambda": lambda_total,
        "table_writes": table,
        "company_numbering": companies * per_company["numbering"],
        "company_counter_partition": companies * per_company["counter_partition"],
    }
    bottleneck = min(limits, key=lambda k: limits[k])
    rate = limits[bottleneck]
    return {
        "documents": documents,
        "companies": companies,
        "docs_per_s": rate,
        "hours": documents / rate / 3600,
        "bottleneck": bottleneck,
        "limits_docs_per_s": limits,
    }


def documents_per_commit_that_fit(lines_per_document: int, i: Inputs) -> int:
    """How many documents one transaction can number: 100 items, less the shared ones."""
    per_document = i.items_per_commit - 1 + math.ceil(lines_per_document / 500) - 1
    return (i.max_items_per_transaction - 2) // per_document


def measured_inputs(path: Path) -> Inputs:
    """The model's inputs, with the CPU time and requests per document from the bench."""
    if not path.exists():
        return Inputs()
    data = json.loads(path.read_text())
    throughput = data.get("throughput") or {}
    requests = (throughput.get("requests") or {}).get("per_document") or {}
    cpu = throughput.get("other_ms_per_document")
    return Inputs(
        cpu_ms_per_document=float(cpu) if cpu else Inputs.cpu_ms_per_document,
        requests_per_document=float(
            requests.get("besides_transactions", Inputs.requests_per_document)
        ),
    )


def worker_batch_size() -> int:
    """The posting worker's SQS BatchSize in template.yaml: a batch numbers at most that many
    documents in one commit (services/batch_posting.py)."""
    worker = resources("AWS::Serverless::Function")["PostingWorkerFunction"]["Properties"]
    return int(worker["Events"]["Documents"]["Properties"]["BatchSize"])


def worker_maximum_concurrency() -> int:
    """The posting worker's most concurrent invocations as template.yaml deploys them by
    default (its SQS event source's ScalingConfig, from a parameter)."""
    from infra.template import parameter_defaults

    return int(parameter_defaults()["PostingWorkerMaximumConcurrency"])


def model(documents: int, companies: list[int], path: Path) -> dict[str, Any]:
    base = measured_inputs(path)
    # SQS scales the worker up to its event source's maximum, not the account's concurrency
    base = Inputs(
        **(asdict(base) | {"lambda_concurrency": min(1000, worker_maximum_concurrency())})
    )
    fit = documents_per_commit_that_fit(10, base)
    k = min(fit, worker_batch_size())  # what is built: one worker batch a commit
    batched = Inputs(**(asdict(base) | {"documents_per_commit": k}))
    return {
        "inputs": asdict(base),
        "worker_docs_per_s": worker_docs_per_s(base),
        "company_limit": company_limit(base),
        "documents_per_commit_possible": fit,
        "documents_per_commit_built": k,
        "company_limit_batched": company_limit(batched),
        "drains": [drain(base, documents, c) for c in companies],
        "drains_batched": [drain(batched, documents, c) for c in companies],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1_000_000)
    parser.add_argument("--companies", default="1,100")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    companies = [int(c) for c in args.companies.split(",")]
    result = model(args.documents, companies, args.results)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
