"""Steering one's own queued work through the API (moto): Cancel background posting, Retry now
and Post on a date (docs/api.md "The job queue")."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from background_posting.config import Settings
from background_posting.store import worker_items as item_store
from background_posting.store.writes import transact
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.queues import Drain


def given(api: Any) -> dict[str, Any]:
    """ACME with its customer, and an In Progress sales invoice entered by the clerk."""
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))
    return dict(invoke_api(api, "POST", "/documents", "clerk", document_body()).body)


def queued_by_clerk(api: Any) -> dict[str, Any]:
    """The clerk's invoice, posted from a list view: Ready to Post with a worker item."""
    document = given(api)
    answer = invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    assert answer.status == 202, answer.body
    return document


def test_the_submitter_cancels_background_posting_and_the_log_says_so(api: Any) -> None:
    # Given the clerk's invoice waiting in the background
    document = queued_by_clerk(api)
    path = f"/documents/{document['id']}/cancel-background"
    # When someone else tries to take it out, they are refused and nothing changes
    refused = invoke_api(api, "POST", path, "lister")
    assert (refused.status, refused.error_code) == (403, "permission_denied")
    assert "clerk" in refused.body["error"]["message"]
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Ready to Post"
    )
    # When the clerk cancels it
    answer = invoke_api(api, "POST", path, "clerk")
    # Then it is In Progress again, without worker items, and may be amended
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "In Progress"
    items = invoke_api(api, "GET", f"/worker-items?reference={document['number']}", "clerk")
    assert items.body["worker_items"] == []
    amended = invoke_api(api, "PATCH", f"/documents/{document['id']}", "clerk", {"reference": "x"})
    assert amended.status == 200, amended.body
    # ...and the clerk's worker log group records who took it out
    (group,) = invoke_api(api, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    entries = invoke_api(api, "GET", f"/worker-log-groups/{group['id']}", "clerk").body["entries"]
    assert [(e["reference"], e["outcome"]) for e in entries] == [(document["number"], "cancelled")]
    assert "clerk took" in entries[0]["errors"][0]["message"]
    # When it is cancelled again, it is no longer Ready to Post: 409 saying so
    again = invoke_api(api, "POST", path, "clerk")
    assert (again.status, again.error_code) == (409, "document_in_progress")
    assert "In Progress" in again.body["error"]["message"]


def test_an_administrator_may_cancel_anyones_queued_document(api: Any) -> None:
    document = queued_by_clerk(api)
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/cancel-background", "admin")
    assert answer.status == 200 and answer.body["status"] == "In Progress"


def test_cancel_is_refused_while_a_worker_holds_an_item(api: Any, aws: Settings) -> None:
    # Given the clerk's queued invoice whose item a worker has leased
    document = queued_by_clerk(api)
    (item,) = item_store.items_of(document["id"])
    assert item_store.lease(item, "worker-1", time.time() + 300, time.time())
    # When the clerk cancels it
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/cancel-background", "clerk")
    # Then 409 worker_item_held with a sentence, and nothing changed
    assert (answer.status, answer.error_code) == (409, "worker_item_held")
    assert document["number"] in answer.body["error"]["message"]
    assert answer.body["error"]["details"]["worker_items"][0]["held_by_worker"] is True
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Ready to Post"
    )
    assert len(item_store.items_of(document["id"])) == 1


def test_the_submitter_retries_a_failed_document_now_in_a_run_of_its_own(
    api: Any, aws: Settings
) -> None:
    # Given the clerk's invoice, dated in a closed period, failed once and waiting out a
    # retry delay of an hour
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))
    document = invoke_api(
        api, "POST", "/documents", "clerk", document_body(document_date="2026-10-10")
    ).body
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    (item,) = item_store.items_of(document["id"])
    now = time.time()
    transact([item_store.failure_counted(item, None, "period 2026-10 is closed", now + 3600, now)])
    # ...and the period reopened meanwhile
    reopened = invoke_api(
        api, "PATCH", "/companies/ACME/periods/2026-10", "admin", {"status": "open"}
    )
    assert reopened.status == 200, reopened.body
    path = f"/documents/{document['id']}/retry-now"
    # When the lister (neither submitter nor Run Now) asks, they are refused
    assert invoke_api(api, "POST", path, "lister").error_code == "permission_denied"
    # When the clerk presses Retry now
    answer = invoke_api(api, "POST", path, "clerk")
    # Then a run over that one document starts now, and posts it
    assert answer.status == 202, answer.body
    run_id = answer.body["run_id"]
    Drain(aws).all()
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Complete"
    )
    run = invoke_api(api, "GET", f"/runs/{run_id}", "clerk").body
    assert run["trigger"] == "document" and run["requested_by"] == "clerk"
    assert run["scope"]["document"] == document["id"]
    assert run["scope"]["reference"] == document["number"]
    assert run["scope"]["companies"] == ["ACME"]
    assert (run["status"], run["counts"]["queued"], run["counts"]["posted"]) == ("completed", 1, 1)
    # When it is retried again, nothing of it waits: 409 no_worker_items
    again = invoke_api(api, "POST", path, "clerk")
    assert (again.status, again.error_code) == (409, "no_worker_items")


def test_a_run_now_user_may_retry_anyones_document(api: Any, aws: Settings) -> None:
    document = queued_by_clerk(api)
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/retry-now", "runner")
    assert answer.status == 202, answer.body
    Drain(aws).all()
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Complete"
    )


def test_retry_now_is_refused_for_work_that_waits_for_its_date(api: Any, aws: Settings) -> None:
    # Given the clerk's queued invoice whose item no run may take before tomorrow
    document = queued_by_clerk(api)
    (item,) = item_store.items_of(document["id"])
    transact([item_store.postponed(item, time.time() + 86_400)])
    # When the clerk presses Retry now
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/retry-now", "clerk")
    # Then 409 worker_items_not_due saying until when, and no run starts
    assert (answer.status, answer.error_code) == (409, "worker_items_not_due")
    assert "not due yet" in answer.body["error"]["message"]
    assert Drain(aws).once("RunQueue") == 0


def london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def test_post_on_a_date_queues_the_document_until_that_day_begins_in_the_companys_zone(
    api: Any, aws: Settings
) -> None:
    # Given the clerk's In Progress invoice (ACME keeps Europe/London time)
    document = given(api)
    on = london_today() + timedelta(days=3)
    # When the clerk posts it on a date three days ahead
    answer = invoke_api(
        api, "POST", f"/documents/{document['id']}/post", "clerk",
        {"mode": "auto", "post_on": on.isoformat()},
    )  # fmt: skip
    # Then it is Ready to Post now and says when it posts
    assert answer.status == 202, answer.body
    assert (answer.body["status"], answer.body["post_on"]) == ("Ready to Post", on.isoformat())
    shown = invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body
    assert shown["post_on"] == on.isoformat()
    # ...its worker item waits for London's midnight of that day
    (item,) = item_store.items_of(document["id"])
    midnight = datetime.combine(on, datetime.min.time(), ZoneInfo("Europe/London"))
    assert item.not_before == midnight.timestamp()
    # ...a Run Now before then leaves it alone, and Retry now says it is not due
    assert invoke_api(api, "POST", "/scheduler/run", "admin").status == 202
    Drain(aws).all()
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Ready to Post"
    )
    early = invoke_api(api, "POST", f"/documents/{document['id']}/retry-now", "clerk")
    assert (early.status, early.error_code) == (409, "worker_items_not_due")
    assert f"{midnight:%d %b %Y} 00:00 (Europe/London)" in early.body["error"]["message"]
    # When the clerk cancels it, it no longer names a date
    cancelled = invoke_api(api, "POST", f"/documents/{document['id']}/cancel-background", "clerk")
    assert (cancelled.body["status"], cancelled.body["post_on"]) == ("In Progress", None)


def test_post_on_today_is_posted_by_the_next_run(api: Any, aws: Settings) -> None:
    document = given(api)
    answer = invoke_api(
        api, "POST", f"/documents/{document['id']}/post", "clerk",
        {"mode": "auto", "post_on": london_today().isoformat()},
    )  # fmt: skip
    assert answer.status == 202, answer.body
    assert invoke_api(api, "POST", "/scheduler/run", "admin").status == 202
    Drain(aws).all()
    assert invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Complete"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"mode": "auto", "post_on": "YESTERDAY"}, "date_in_past"),
        ({"mode": "auto", "post_on": "IN_91_DAYS"}, "date_too_far"),
        ({"mode": "immediate", "post_on": "TOMORROW"}, "mode"),
        ({"mode": "auto", "post_on": "2026-02-30"}, None),
    ],
)
def test_post_on_outside_today_and_90_days_ahead_is_refused_naming_it(
    api: Any, body: dict[str, str], code: str | None
) -> None:
    document = given(api)
    today = london_today()
    days = {"YESTERDAY": -1, "IN_91_DAYS": 91, "TOMORROW": 1}
    if body["post_on"] in days:
        body = body | {"post_on": (today + timedelta(days=days[body["post_on"]])).isoformat()}
    answer = invoke_api(api, "POST", f"/documents/{document['id']}/post", "clerk", body)
    assert answer.status == 400, answer.body
    (error,) = answer.body["error"]["details"]["errors"]
    assert error["field"] == "post_on"
    if code is not None:
        assert error["code"] == code
        assert answer.body["error"]["message"].startswith("Post on:")
    shown = invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body
    assert (shown["status"], shown["post_on"]) == ("In Progress", None)
    assert item_store.items_of(document["id"]) == []


def test_post_on_90_days_ahead_is_the_last_date_taken(api: Any) -> None:
    document = given(api)
    on = london_today() + timedelta(days=90)
    answer = invoke_api(
        api, "POST", f"/documents/{document['id']}/post", "clerk",
        {"mode": "auto", "post_on": on.isoformat()},
    )  # fmt: skip
    assert answer.status == 202, answer.body


def test_the_openapi_says_retry_now_answers_202_with_a_link_to_its_run(api: Any) -> None:
    document = invoke_api(api, "GET", "/openapi.json", user=None).body
    operation = document["paths"]["/documents/{document_id}/retry-now"]["post"]
    assert "202" in operation["responses"] and "200" not in operation["responses"]
    (link,) = operation["responses"]["202"]["links"].values()
    assert link["parameters"] == {"run_id": "$response.body#/run_id"}
    cancel = document["paths"]["/documents/{document_id}/cancel-background"]["post"]
    assert {"200", "403", "409"} <= set(cancel["responses"])
