"""The administrator's way out of a stuck document, in Chromium on the local stack: Remove
worker items then Set back to In Progress; deleting a worker log group asks first; Run Now
starts one run however often it is clicked."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, Route, expect

from tests.support.api import http
from tests.support.console import given_unbalanced_journal, sign_in
from tests.support.http_steps import given_company
from tests.support.stack import RunningStack


def _items_of(stack: RunningStack, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's worker items (numbers are per company: another company's JNL000001 that
    a test on the same stack queued is not this one's)."""
    items = http(stack.url, "GET", f"/worker-items?reference={document['number']}", "admin")
    return [i for i in items.body["worker_items"] if i["document_id"] == document["id"]]


def test_remove_worker_items_then_set_back_to_in_progress(page: Page, stack: RunningStack) -> None:
    # Given a journal queued for background posting (Ready to Post, with a worker item)
    company = given_company(stack.url)
    journal = given_unbalanced_journal(stack.url, company)
    number = journal["number"]
    # When the administrator opens it, Set back to In Progress is refused while items remain
    sign_in(page, stack.url, "admin", f"/document/{journal['id']}")
    way_out = page.get_by_role("region", name="Stuck? The way out")
    way_out.get_by_role("button", name="Set back to In Progress").click()
    # and the refusal names the button that exists on this screen
    expect(way_out.get_by_role("alert")).to_contain_text("Remove worker items")
    expect(way_out.get_by_role("list", name="Worker items named")).to_contain_text("post_document")
    # When Remove worker items is pressed, it asks first; Keep them changes nothing
    way_out.get_by_role("button", name="Remove worker items").click()
    confirm = page.get_by_role("group", name="Confirm removing worker items")
    expect(confirm).to_contain_text(f"Remove every worker item of {number}?")
    confirm.get_by_role("button", name="Keep them").click()
    expect(confirm).to_have_count(0)
    assert _items_of(stack, journal)
    # When it is confirmed, the items go and the page says what to do next
    way_out.get_by_role("button", name="Remove worker items").click()
    confirm.get_by_role("button", name=f"Remove the worker items of {number}").click()
    expect(way_out.get_by_role("status")).to_contain_text("1 worker item")
    expect(way_out.get_by_role("status")).to_contain_text("Set it back to In Progress")
    # Then Set back to In Progress succeeds and the document can be corrected
    way_out.get_by_role("button", name="Set back to In Progress").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    document = http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body
    assert document["status"] == "In Progress"
    assert _items_of(stack, journal) == []


def test_the_way_out_is_shown_only_to_an_administrator(page: Page, stack: RunningStack) -> None:
    company = given_company(stack.url)
    journal = given_unbalanced_journal(stack.url, company)
    sign_in(page, stack.url, "clerk", f"/document/{journal['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ready to Post")
    expect(page.get_by_role("button", name="Remove worker items")).to_have_count(0)


def test_deleting_a_worker_log_group_asks_first_and_says_its_emails_stop(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk's worker log group of a queued journal
    given_unbalanced_journal(stack.url, given_company(stack.url))
    groups = http(stack.url, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    group = max(groups, key=lambda g: g["created_at"])  # made as the journal was queued
    sign_in(page, stack.url, "clerk", f"/worker-log-groups/{group['id']}")
    # When Delete is pressed, it asks first and says that its e-mails stop; Keep it keeps it
    page.get_by_role("button", name="Delete worker log group").click()
    confirm = page.get_by_role("group", name="Confirm deleting the worker log group")
    expect(confirm).to_contain_text("e-mails stop")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    assert http(stack.url, "GET", f"/worker-log-groups/{group['id']}", "clerk").status == 200
    # When it is confirmed, it is deleted
    page.get_by_role("button", name="Delete worker log group").click()
    confirm.get_by_role("button", name=f"Delete {group['title']}").click()
    expect(page.get_by_text("deleted")).to_be_visible()
    assert http(stack.url, "GET", f"/worker-log-groups/{group['id']}", "clerk").status == 404


def test_run_now_starts_one_run_however_often_it_is_clicked(
    page: Page, stack: RunningStack
) -> None:
    # Given the runner on the scheduler's page, and a run that takes a moment to start
    started: list[str] = []

    def slow_start(route: Route) -> None:
        started.append(route.request.method)
        time.sleep(1.0)
        route.continue_()

    page.route("**/scheduler/run", slow_start)
    sign_in(page, stack.url, "runner", "/scheduler")
    run_now = page.get_by_role("button", name="Run Now")
    # When Run Now is double-clicked and clicked again while the run starts
    run_now.dblclick()
    expect(page.get_by_text("Starting a run")).to_be_visible()
    expect(run_now).to_be_disabled()
    run_now.click(force=True)
    # Then one run was asked for, and Run Now is available again once it has finished
    expect(page.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
    expect(run_now).to_be_enabled()
    assert started == ["POST"]
