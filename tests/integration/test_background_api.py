"""Background posting through the API, the run and the worker functions (moto, SQS)."""

from __future__ import annotations

from typing import Any

from background_posting.config import Settings
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.flows import working_day


def test_a_working_day_posts_the_backlog_and_keeps_every_result(api: Any, aws: Settings) -> None:
    seen = working_day(api, aws)
    assert seen["immediate"].status == 200 and seen["immediate"].body["status"] == "Complete"
    assert seen["list_view"].status == 202
    assert {d["status"] for d in seen["list_view"].body["documents"]} == {"Ready to Post"}
    assert seen["journal_button"].status == 202  # 2 lines > the journal line limit of 1
    assert seen["withdraw_refused"].status == 409
    assert seen["withdraw_refused"].error_code == "worker_items_remain"
    assert seen["withdrawn"].status == 200 and seen["withdrawn"].body["status"] == "In Progress"
    assert seen["cancelled"].status == 200 and seen["cancelled"].body["status"] == "In Progress"
    assert seen["retry_now"].status == 202 and seen["retried"]["status"] == "Complete"
    assert seen["run_now"].status == 202
    assert seen["big_immediate"].status == 200
    assert [d["status"] for d in seen["backlog"]] == ["Complete"] * 8
    assert len({d["transaction_number"] for d in seen["backlog"]}) == 8
    run = seen["run"].body
    assert run["status"] == "completed" and run["counts"]["queued"] == 8, run["counts"]
    assert run["counts"]["posted"] == 8
    assert run["counts"]["completed"] == 1  # the income schedule journals
    assert seen["background_post"].status == 202
    assert seen["late"]["status"] == "Complete"
    assert len(seen["scheduled"]["runs"]) == 1
    assert seen["scheduled_again"]["runs"] == []  # the same firing runs once
    assert seen["group"].status == 200
    assert seen["group_deleted"].status == 204


def given(api: Any) -> list[dict[str, Any]]:
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01"))
    return [invoke_api(api, "POST", "/documents", "clerk", document_body()).body for _ in range(2)]


def test_permission_sets_guard_run_now_background_post_and_withdrawal(api: Any) -> None:
    docs = given(api)
    assert invoke_api(api, "POST", "/scheduler/run", "clerk").status == 403
    assert invoke_api(api, "POST", "/scheduler/run", "lister").status == 403
    assert invoke_api(api, "POST", "/scheduler/run", "admin").status == 202
    body = {"type": "sales_invoice"}
    assert invoke_api(api, "POST", "/documents/background-post", "runner", body).status == 403
    assert invoke_api(api, "POST", "/documents/background-post", "clerk", body).status == 403
    assert invoke_api(api, "POST", "/documents/background-post", "lister", body).status == 202
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [docs[0]["id"]]})
    change = {"status": "In Progress"}
    assert (
        invoke_api(api, "PUT", f"/documents/{docs[0]['id']}/status", "clerk", change).status == 403
    )
    assert (
        invoke_api(api, "DELETE", f"/documents/{docs[0]['id']}/worker-items", "clerk").status == 403
    )


def test_ready_to_post_locks_amend_discard_print_and_post(api: Any) -> None:
    docs = given(api)
    doc = f"/documents/{docs[0]['id']}"
    assert (
        invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [docs[0]["id"]]}).status == 202
    )
    for method, path, body in (
        ("PATCH", doc, {"reference": "x"}),
        ("POST", f"{doc}/discard", None),
        ("GET", f"{doc}/print", None),
        ("POST", f"{doc}/post", {"mode": "immediate"}),
        ("POST", f"{doc}/post", {"mode": "auto"}),
    ):
        answer = invoke_api(api, method, path, "clerk", body)
        assert (answer.status, answer.error_code) == (409, "document_locked"), (method, path)
    again = invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [d["id"] for d in docs]})
    assert again.status == 409 and again.error_code == "documents_not_postable"
    assert (
        invoke_api(api, "GET", f"/documents/{docs[1]['id']}", "clerk").body["status"]
        == "In Progress"
    )


def test_worker_items_are_visible_only_in_ones_companies(api: Any) -> None:
    docs = given(api)
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [docs[0]["id"]]})
    mine = invoke_api(api, "GET", f"/worker-items?reference={docs[0]['number']}", "clerk")
    assert [i["action"] for i in mine.body["worker_items"]] == ["post_document"]
    other = {"sub": "o", "email": "o@example.com", "custom:companies": "BETA"}
    theirs = invoke_api(api, "GET", f"/worker-items?reference={docs[0]['number']}", claims=other)
    assert theirs.body["worker_items"] == []


def test_log_groups_belong_to_their_submitter(api: Any) -> None:
    docs = given(api)
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [docs[0]["id"]]})
    (group,) = invoke_api(api, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    assert invoke_api(api, "GET", f"/worker-log-groups/{group['id']}", "lister").status == 404
    assert invoke_api(api, "GET", f"/worker-log-groups/{group['id']}", "admin").status == 200
    assert invoke_api(api, "GET", "/worker-log-groups?owner=clerk", "lister").status == 403
