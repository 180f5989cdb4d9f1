"""My Job Queue through the API (moto): `GET /worker-items?submitted_by=me&company=&state=`
(docs/api.md "The job queue")."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from background_posting.config import Settings
from background_posting.store import worker_items as item_store
from background_posting.store.writes import transact
from tests.support.api import invoke_api
from tests.support.counting import dynamodb_requests
from tests.support.data import account_body, company_body, document_body


def queued(api: Any, count: int, user: str = "clerk") -> list[dict[str, Any]]:
    """`count` sales invoices of ACME that `user` posted from a list view, oldest first."""
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))
    documents = []
    for _ in range(count):
        document = invoke_api(api, "POST", "/documents", user, document_body()).body
        answer = invoke_api(api, "POST", "/documents/post", user, {"ids": [document["id"]]})
        assert answer.status == 202, answer.body
        documents.append(document)
        time.sleep(0.002)  # distinct creation times
    return documents


def test_the_submitter_pages_through_their_queue_newest_first(api: Any) -> None:
    # Given three invoices the clerk queued
    documents = queued(api, 3)
    # When the clerk reads their job queue two at a time
    first = invoke_api(api, "GET", "/worker-items?submitted_by=me&limit=2", "clerk")
    assert first.status == 200, first.body
    # Then the newest come first, each with its document, account, action, attempts and state
    newest = [documents[2]["number"], documents[1]["number"]]
    assert [i["number"] for i in first.body["worker_items"]] == newest
    item = first.body["worker_items"][0]
    assert item["document_id"] == documents[2]["id"]
    assert (item["account"], item["action"], item["state"]) == (
        "CUST01",
        "post_document",
        "queued",
    )
    assert (item["attempts"], item["max_attempts"], item["last_error"]) == (0, 3, None)
    assert item["account_name"] == "CUST01 Customer plc"
    assert datetime.fromisoformat(item["next_try"]) <= datetime.now(UTC)
    # ...and `next` gives the rest, the same query's
    token = first.body["next"]
    assert token
    rest = invoke_api(api, "GET", f"/worker-items?submitted_by=me&limit=2&next={token}", "clerk")
    assert [i["number"] for i in rest.body["worker_items"]] == [documents[0]["number"]]
    assert rest.body["next"] is None
    # ...and the default submitter is the caller
    mine = invoke_api(api, "GET", "/worker-items", "clerk").body["worker_items"]
    assert [i["number"] for i in mine] == [d["number"] for d in reversed(documents)]


def test_a_page_token_is_bound_to_its_query(api: Any) -> None:
    queued(api, 2)
    token = invoke_api(api, "GET", "/worker-items?limit=1", "clerk").body["next"]
    other = invoke_api(api, "GET", f"/worker-items?limit=1&state=failed&next={token}", "clerk")
    assert (other.status, other.error_code) == (400, "invalid_page_token")
    assert "next" in other.body["error"]["message"]
    garbage = invoke_api(api, "GET", "/worker-items?next=bm90LWpzb24", "clerk")
    assert (garbage.status, garbage.error_code) == (400, "invalid_page_token")
    bad_state = invoke_api(api, "GET", "/worker-items?state=stuck", "clerk")
    assert bad_state.status == 400
    assert "state" in str(bad_state.body["error"])


def test_each_item_says_whether_it_waits_is_held_or_failed(api: Any, aws: Settings) -> None:
    # Given three queued invoices: one a worker holds, one failed once, one waiting
    waiting, held, failed = queued(api, 3)
    now = time.time()
    (held_item,) = item_store.items_of(held["id"])
    assert item_store.lease(held_item, "worker-1", now + 300, now)
    (failed_item,) = item_store.items_of(failed["id"])
    transact([item_store.failure_counted(failed_item, None, "period closed", now + 3600, now)])
    # When the clerk reads their queue
    items = invoke_api(api, "GET", "/worker-items", "clerk").body["worker_items"]
    # Then each shows its state, the failed one its error, attempts and next try
    states = {i["number"]: i["state"] for i in items}
    assert states == {
        waiting["number"]: "queued",
        held["number"]: "in_process",
        failed["number"]: "failed",
    }
    (shown,) = [i for i in items if i["number"] == failed["number"]]
    assert (shown["attempts"], shown["max_attempts"], shown["last_error"]) == (
        1,
        3,
        "period closed",
    )
    assert datetime.fromisoformat(shown["next_try"]).timestamp() >= now + 3599
    # ...and the state filter narrows the list to one state
    for state, document in (("queued", waiting), ("in_process", held), ("failed", failed)):
        answer = invoke_api(api, "GET", f"/worker-items?state={state}", "clerk")
        assert [i["number"] for i in answer.body["worker_items"]] == [document["number"]], state


def test_others_items_only_for_administrators_of_their_companies(api: Any) -> None:
    (document,) = queued(api, 1)
    # The lister has no queue of their own, and may not read the clerk's
    assert invoke_api(api, "GET", "/worker-items", "lister").body["worker_items"] == []
    refused = invoke_api(api, "GET", "/worker-items?submitted_by=clerk", "lister")
    assert (refused.status, refused.error_code) == (403, "permission_denied")
    # An administrator may
    theirs = invoke_api(api, "GET", "/worker-items?submitted_by=clerk", "admin")
    assert [i["number"] for i in theirs.body["worker_items"]] == [document["number"]]
    # A caller sees only the companies they may use, and may not name another
    beta_only = {"sub": "clerk", "email": "clerk@example.com", "custom:companies": "BETA"}
    assert invoke_api(api, "GET", "/worker-items", claims=beta_only).body["worker_items"] == []
    named = invoke_api(api, "GET", "/worker-items?company=ACME", claims=beta_only)
    assert (named.status, named.error_code) == (403, "company_not_allowed")
    acme = invoke_api(api, "GET", "/worker-items?company=ACME", "clerk").body["worker_items"]
    assert [i["number"] for i in acme] == [document["number"]]


def test_the_queue_is_read_with_a_query_only(api: Any, monkeypatch: Any) -> None:
    queued(api, 2)
    with dynamodb_requests(monkeypatch) as sent:
        answer = invoke_api(api, "GET", "/worker-items?state=queued", "clerk")
    assert len(answer.body["worker_items"]) == 2
    assert sent["Scan"] == 0
    assert sent["Query"] >= 1
    # the accounts' names in one BatchGetItem for the page, not a GetItem per row
    assert sent["BatchGetItem"] == 1 and sent["GetItem"] <= 2, sent
    assert {i["account_name"] for i in answer.body["worker_items"]} == {"CUST01 Customer plc"}
