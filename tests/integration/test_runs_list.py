"""The list of runs (`GET /runs`, issue 28, item 1): newest first, paged with a `next` token
bound to its query, filtered by status, trigger and start time; an administrator sees every
run, anyone else the runs that processed work they submitted, recorded as each run's scan
queued that work (its participants), so the list is a Query and never a scan. Two runs
overlapping over the same submitter's work list each run once (threads on DynamoDB Local)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.identity import SYSTEM_ADMINISTRATOR, Caller
from background_posting.services import background_service, runs
from background_posting.store import work_log
from background_posting.store.work_log import PARTICIPANT_OWNER, WorkLogRecord
from tests.support.concurrency import race
from tests.support.counting import dynamodb_requests
from tests.support.office import Office
from tests.support.queues import RecordingQueue
from tests.support.scenario import given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left


@pytest.fixture
def office(api: Any, aws: Settings) -> Office:
    return Office(api, aws)


def _ids(answer: Any) -> list[str]:
    assert answer.status == 200, answer.body
    return [run["id"] for run in answer.body["runs"]]


def test_runs_are_listed_newest_first_to_whom_they_processed_work_for(office: Office) -> None:
    # Given a Run Now over the clerk's work, then one over the lister's
    office.queue("clerk")
    first = office.run_now()
    office.process()
    office.queue("lister")
    second = office.run_now()
    office.process()
    # When each lists the runs
    # Then the administrator sees both, newest first; each submitter the one of their work
    assert _ids(office.call("GET", "/runs", "admin")) == [second, first]
    assert _ids(office.call("GET", "/runs", "clerk")) == [first]
    assert _ids(office.call("GET", "/runs", "lister")) == [second]
    # And each row is the run as GET /runs/{id} answers it, with who started it and when
    (row,) = office.call("GET", "/runs", "clerk").body["runs"]
    assert row == office.call("GET", f"/runs/{first}", "clerk").body
    assert (row["started_by"], row["trigger"], row["status"]) == ("runner", "run_now", "completed")
    assert row["started_at"] == row["created_at"] and row["counts"]["posted"] == 1
    # And a submitter who is in neither sees none
    assert _ids(office.call("GET", "/runs", "runner")) == []


def test_runs_filter_by_status_trigger_and_start_and_page_by_query_only(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three runs over the clerk's work: two Run Nows and a list view's Background Post
    started = []
    for _ in range(2):
        office.queue("clerk")
        started.append(office.run_now())
        office.process()
    office.queue("clerk")
    answer = office.call("POST", "/documents/background-post", "admin", {"type": "sales_invoice"})
    listed = str(answer.body["run_id"])
    office.process()
    # When the clerk reads their runs one at a time
    seen: list[str] = []
    tokens: list[str] = []
    token = None
    with dynamodb_requests(monkeypatch) as sent:
        for _ in range(10):
            path = "/runs?limit=1" + (f"&next={token}" if token else "")
            page = office.call("GET", path, "clerk")
            seen += _ids(page)
            token = page.body["next"]
            if token is None:
                break
            tokens.append(token)
    # Then every run comes once, newest first, read by Query (and BatchGetItem), never a Scan
    assert seen == [listed, *reversed(started)]
    assert sent["Scan"] == 0 and sent["Query"] >= 3
    # And the filters narrow them
    assert _ids(office.call("GET", "/runs?trigger=list_view", "clerk")) == [listed]
    assert _ids(office.call("GET", "/runs?trigger=run_now", "admin")) == [*reversed(started)]
    assert _ids(office.call("GET", "/runs?status=processing", "admin")) == []
    assert len(_ids(office.call("GET", "/runs?status=completed", "admin"))) == 3
    today = datetime.now(UTC).date()
    assert len(_ids(office.call("GET", f"/runs?from={today}&to={today}", "clerk"))) == 3
    yesterday = (today - timedelta(days=1)).isoformat()
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(_ids(office.call("GET", f"/runs?from={hour_ago}", "clerk"))) == 3
    # an hour from now, as a clock an hour ahead of UTC shows it (+ written %2B in the URL)
    in_an_hour = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S%%2B01:00")
    assert len(_ids(office.call("GET", f"/runs?to={in_an_hour}", "clerk"))) == 3
    assert _ids(office.call("GET", f"/runs?to={yesterday}", "admin")) == []
    assert _ids(office.call("GET", f"/runs?from={today + timedelta(days=1)}", "clerk")) == []
    # And a token of another query, or a forged one, is refused naming `next`
    for forged in (tokens[0], "eyJ4IjogMX0="):
        refused = office.call("GET", f"/runs?limit=1&trigger=run_now&next={forged}", "clerk")
        assert (refused.status, refused.error_code) == (400, "invalid_page_token"), refused.body
        assert "next" in refused.body["error"]["message"]
    # And bad filters are refused naming their field, a 400 that changes nothing
    for query, field in (
        ("from=yesterday", "from"),
        ("to=2026-12-01T09:00:00", "to"),
        ("from=0001-01-01T00:00:00%2B14:00", "from"),  # before year 1 in UTC
        (f"from={today}&to={yesterday}", "to"),
        ("status=stuck", "status"),
        ("trigger=cron", "trigger"),
    ):
        refused = office.call("GET", f"/runs?{query}", "clerk")
        assert refused.status == 400, (query, refused.body)
        assert field in str(refused.body["error"]), (query, refused.body)


def test_a_run_over_one_document_lists_for_its_submitter(office: Office) -> None:
    (document,) = office.queue("clerk")
    answer = office.call("POST", f"/documents/{document['id']}/retry-now", "clerk")
    assert answer.status == 202, answer.body
    office.process()
    (row,) = office.call("GET", "/runs", "clerk").body["runs"]
    assert (row["id"], row["trigger"]) == (answer.body["run_id"], "document")
    assert row["scope"]["reference"] == document["number"]


CLERK = Caller("clerk", "clerk@example.com", allowed_companies=frozenset({"*"}))
LISTER = Caller("lister", "lister@example.com", allowed_companies=frozenset({"*"}))


def test_two_overlapping_runs_over_one_submitters_work_list_each_run_once(
    local_store: Settings,
) -> None:
    given_company()
    for round_ in range(4):
        # Given the clerk's documents in the background and two runs started together
        documents = [given_document() for _ in range(3)]
        background_service.post_from_list_view(CLERK, [d.id for d in documents])
        first, _ = work_log.create_run("run_now", "runner", None, None)
        second, _ = work_log.create_run("run_now", "runner", None, None)
        posting = RecordingQueue()
        # When both scan at once, the first one twice (a redelivered message)
        results = race(
            lambda r=first.id, q=posting: runs.execute_run(r, FOREVER, q),
            lambda r=first.id, q=posting: runs.execute_run(r, FOREVER, q),
            lambda r=second.id, q=posting: runs.execute_run(r, FOREVER, q),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        # Then the clerk's runs list each of the two once, and nobody else's lists them
        listed = runs.list_runs(CLERK, None, None, None, None, 200, None).runs
        ids = [run.id for run in listed]
        assert sorted(ids).count(first.id) == 1 and ids.count(second.id) == 1, (round_, ids)
        assert len(ids) == len(set(ids)) == 2 * (round_ + 1)
        items = list(WorkLogRecord.by_owner.query(f"{PARTICIPANT_OWNER}clerk"))
        assert len(items) == 2 * (round_ + 1)
        assert runs.list_runs(LISTER, None, None, None, None, 200, None).runs == []
        # ...and the clerk may read each of them
        assert runs.view_run(CLERK, first.id).id == first.id
        assert runs.view_run(CLERK, second.id).id == second.id


def test_an_administrator_of_some_companies_lists_the_runs_that_reach_them(aws: Settings) -> None:
    # Given runs over BETA alone, over ACME alone, and over every company
    beta, _ = work_log.create_run("list_view", "admin", ["BETA"], "sales_invoice")
    acme, _ = work_log.create_run("document", "clerk", ["ACME"], "sales_invoice")
    every, _ = work_log.create_run("run_now", "runner", None, None)
    # When an administrator of ACME only, and one logged into ACME only, list the runs
    of_acme = Caller("a1", "a1@example.com", frozenset({SYSTEM_ADMINISTRATOR}), frozenset({"ACME"}))
    logged_in = Caller(
        "a2",
        "a2@example.com",
        frozenset({SYSTEM_ADMINISTRATOR}),
        frozenset({"*"}),
        frozenset({"ACME"}),
    )
    everywhere = Caller("a3", "a3@example.com", frozenset({SYSTEM_ADMINISTRATOR}), frozenset({"*"}))
    # Then each sees the runs whose scope reaches ACME; one of every company sees all three
    for caller in (of_acme, logged_in):
        listed = runs.list_runs(caller, None, None, None, None, 50, None).runs
        assert [run.id for run in listed] == [every.id, acme.id], caller
    listed = runs.list_runs(everywhere, None, None, None, None, 50, None).runs
    assert [run.id for run in listed] == [every.id, acme.id, beta.id]
