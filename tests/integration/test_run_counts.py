"""A run's counts, named as users name them and explained in the OpenAPI."""

from __future__ import annotations

from typing import Any

from tests.support.api import invoke_api


def test_a_run_gives_each_count_under_its_key_and_a_clearer_name(api: Any) -> None:
    # Given a Run Now with nothing to do
    started = invoke_api(api, "POST", "/scheduler/run", "runner")
    assert started.status == 202
    # When the runner reads the run
    run = invoke_api(api, "GET", f"/runs/{started.body['run_id']}", "runner")
    # Then every count is there under the key the console reads and under a clearer name
    assert run.status == 200, run.body
    counts = run.body["counts"]
    pairs = {
        "queued": "documents_queued",
        "posted": "documents_posted",
        "completed": "follow_up_steps_done",
        "failed": "failures",
        "returned_to_in_progress": "returned_to_in_progress_after_max_attempts",
        "skipped": "nothing_to_do",
        "processed": "documents_processed",
    }
    for old, new in pairs.items():
        assert counts[old] == counts[new] == 0
    assert run.body["trigger"] == "run_now" and run.body["requested_by"] == "runner"


def test_the_openapi_explains_every_count(api: Any) -> None:
    spec = invoke_api(api, "GET", "/openapi.json", "clerk").body
    counts = spec["components"]["schemas"]["RunCounts"]["properties"]
    assert counts["documents_posted"]["description"] == (
        "Documents posted to the ledger by this run: each is now Complete, with a transaction."
    )
    assert counts["posted"]["description"].endswith("(also as `documents_posted`)")
    assert "tax calculated or committed" in counts["follow_up_steps_done"]["description"]
    assert "needed nothing" in counts["nothing_to_do"]["description"]
    assert "invoice verification" in counts["waiting_for_goods"]["description"]
    assert all(field.get("description") for field in counts.values())
    run_path = spec["paths"]["/runs/{run_id}"]["get"]
    schema = run_path["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/RunView")
