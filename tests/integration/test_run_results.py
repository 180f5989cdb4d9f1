"""A run's results (`GET /runs/{id}/results`): a row per document and action, paged and as
CSV, readable by everyone whose submitted work the run processed (issue 28, item 1)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from background_posting.config import Settings
from tests.support.iam import recorded_actions
from tests.support.office import CLOSED_PERIOD, Office


@pytest.fixture
def office(api: Any, aws: Settings) -> Office:
    return Office(api, aws)


def test_a_run_is_read_with_its_results_by_whose_work_it_processed(office: Office) -> None:
    # Given the clerk's good and bad invoices and the lister's good one, posted by a Run Now
    office.call("PUT", "/settings/background-posting", "admin", {"max_attempts": 1})
    good = office.queue("clerk", count=2)
    (bad,) = office.queue("clerk", **CLOSED_PERIOD)
    (theirs,) = office.queue("lister")
    run_id = office.run_now()
    office.process()
    # When the clerk, who did not start it, reads the run and its results
    run = office.call("GET", f"/runs/{run_id}", "clerk")
    results = office.call("GET", f"/runs/{run_id}/results", "clerk")
    # Then both answer (the run processed the clerk's work), with the clerk's rows only
    assert run.status == 200 and run.body["id"] == run_id, run.body
    assert results.status == 200, results.body
    rows = {row["number"]: row for row in results.body["results"]}
    assert set(rows) == {d["number"] for d in [*good, bad]}
    assert rows[bad["number"]]["outcome"] == "returned_to_in_progress", rows[bad["number"]]
    assert rows[bad["number"]]["errors"] and rows[bad["number"]]["attempt"] == 1
    assert {rows[d["number"]]["outcome"] for d in good} == {"posted"}
    # And an administrator sees every row; the outcome filter narrows them
    every = office.call("GET", f"/runs/{run_id}/results", "admin").body["results"]
    assert {row["number"] for row in every} == {d["number"] for d in [*good, bad, theirs]}
    failed = office.call("GET", f"/runs/{run_id}/results?outcome=posted", "admin").body
    assert {row["number"] for row in failed["results"]} == {d["number"] for d in [*good, theirs]}
    # And a run that processed none of the clerk's work does not exist for them
    assert office.call("GET", f"/runs/{run_id}", "lister").status == 200
    office.queue("lister")
    second = office.run_now()
    office.process()
    assert office.call("GET", f"/runs/{second}", "clerk").status == 404
    assert office.call("GET", f"/runs/{second}/results", "clerk").status == 404
    assert office.call("GET", f"/runs/{second}", "lister").status == 200


def test_run_results_page_and_export_as_csv_with_queries_only(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = office.queue("clerk", count=5)
    run_id = office.run_now()
    office.process()
    # When the results are read two at a time
    seen: list[str] = []
    tokens: list[str] = []
    token = None
    with recorded_actions(monkeypatch) as used:
        for _ in range(10):
            query = f"/runs/{run_id}/results?limit=2" + (f"&next={token}" if token else "")
            page = office.call("GET", query, "admin").body
            seen += [row["number"] for row in page["results"]]
            token = page["next"]
            if token is None:
                break
            tokens.append(token)
    # Then every row comes once, by Query, never a Scan
    assert sorted(seen) == sorted(d["number"] for d in documents)
    assert not [action for action, _ in used["ApiFunction"] if action == "dynamodb:Scan"]
    # And a token given with another query, or forged, is refused by name
    for forged in (tokens[0], "eyJ4IjogMX0="):
        path = f"/runs/{run_id}/results?outcome=posted&next={forged}"
        refused = office.call("GET", path, "admin")
        assert refused.status == 400 and refused.error_code == "invalid_page_token", refused.body
    # And the CSV has a header and a line per row
    exported = office.call("GET", f"/runs/{run_id}/results?format=csv", "admin")
    assert exported.status == 200
    table = list(csv.reader(io.StringIO(exported.body)))
    assert table[0] == ["at", "document_id", "number", "action", "outcome", "attempt", "errors"]
    assert sorted(line[2] for line in table[1:]) == sorted(d["number"] for d in documents)


def test_a_worker_log_group_exports_its_results_as_csv(office: Office) -> None:
    documents = office.queue("clerk", count=2)
    office.run_now()
    office.process()
    (group,) = office.call("GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    exported = office.call("GET", f"/worker-log-groups/{group['id']}?format=csv", "clerk")
    assert exported.status == 200, exported.body
    table = list(csv.reader(io.StringIO(exported.body)))
    assert table[0] == ["at", "document_id", "number", "action", "outcome", "attempt", "errors"]
    assert sorted(line[2] for line in table[1:]) == sorted(d["number"] for d in documents)
    assert {line[4] for line in table[1:]} == {"posted"}
    # And nobody else gets it, in any format
    refused = office.call("GET", f"/worker-log-groups/{group['id']}?format=csv", "lister")
    assert refused.status == 404
