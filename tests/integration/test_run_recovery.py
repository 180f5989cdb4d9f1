"""Runs whose messages were lost or given up on still finish (moto)."""

from __future__ import annotations

import json

import boto3

from background_posting.config import Settings
from background_posting.domain.work import Run
from background_posting.http.work_json import run_json
from background_posting.services import runs
from background_posting.store import work_log


def _messages(url: str) -> list[dict[str, object]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def _processing_run(queued: int, done: int) -> Run:
    run, _ = work_log.create_run("run_now", "runner", None, None)
    work_log.advance_run(run, None, queued, True)
    for _ in range(done):
        work_log.count_done(run.id)
    return work_log.get_run(run.id)


def test_a_message_given_up_on_counts_as_abandoned_and_lets_the_run_finish(aws: Settings) -> None:
    # Given a run that queued two documents, one processed
    run = _processing_run(queued=2, done=1)
    assert run.status == "processing"
    # When the other's message is given up on
    finished = runs.message_abandoned(run.id)
    # Then the run is finished, says so, and its digest is requested
    after = run_json(work_log.get_run(run.id))
    assert finished and after["status"] == "completed with failures"
    assert (after["counts"]["processed"], after["counts"]["abandoned"]) == (2, 1)
    assert _messages(aws.notification_queue_url) == [{"run_id": run.id}]


def test_runs_interrupted_by_a_restart_scan_again_and_finished_ones_are_left(aws: Settings) -> None:
    # Given a run left processing (3 queued, 1 done), one still finding work, one finished
    processing = _processing_run(queued=3, done=1)
    finding, _ = work_log.create_run("run_now", "runner", None, None)
    complete = _processing_run(queued=1, done=1)
    # When the stack starts again and recovers
    recovered = runs.recover_interrupted_runs()
    # Then both unfinished runs scan again, counting as queued only what was done
    assert sorted(recovered) == sorted([processing.id, finding.id])
    again = work_log.get_run(processing.id)
    assert (again.scan_complete, again.counts["queued"], again.counts["done"]) == (False, 1, 1)
    assert sorted(m["run_id"] for m in _messages(aws.run_queue_url)) == sorted(recovered)
    assert work_log.get_run(complete.id).status == "completed"
    # When the scan runs again and finds nothing due any more, the run finishes at once
    final = runs.execute_run(processing.id, lambda: 900.0)
    assert final.finished and final.status == "completed"
