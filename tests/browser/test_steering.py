"""Steering one's own queued work on a Ready to Post document's page, in Chromium on the local
stack: Retry now starts a run over that document and links it; Cancel background posting asks
first, then takes the document out of the background."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.api import http
from tests.support.console import sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack


def queued_by(url: str, company: str, user: str) -> dict[str, Any]:
    """A sales invoice `user` entered and posted from a list view (Ready to Post)."""
    (document,) = given_documents_of_type(url, company, 1, "sales_invoice", user)
    answer = http(url, "POST", "/documents/post", user, {"ids": [document["id"]]})
    assert answer.status == 202, answer.body
    return document


def test_retry_now_starts_a_run_over_the_document_and_links_it(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk's invoice waiting for the Background Posting Scheduler
    document = queued_by(stack.url, given_company(stack.url), "clerk")
    sign_in(page, stack.url, "clerk", f"/document/{document['id']}")
    panel = page.get_by_role("region", name="Waiting for background posting")
    # When the clerk presses Retry now
    panel.get_by_role("button", name="Retry now").click()
    # Then the page links the run over that document, and following it shows it posted
    link = panel.get_by_role("link", name=re.compile("^follow run "))
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retry now run")
    expect(page.get_by_role("link", name=document["number"])).to_be_visible()
    expect(page.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
    shown = http(stack.url, "GET", f"/documents/{document['id']}", "clerk").body
    assert shown["status"] == "Complete"


def test_cancel_background_posting_asks_first_then_the_document_is_in_progress(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk's invoice waiting for the Background Posting Scheduler
    document = queued_by(stack.url, given_company(stack.url), "clerk")
    number = document["number"]
    sign_in(page, stack.url, "clerk", f"/document/{document['id']}")
    panel = page.get_by_role("region", name="Waiting for background posting")
    # When Cancel background posting is pressed, it asks first; Keep it changes nothing
    panel.get_by_role("button", name="Cancel background posting").click()
    confirm = page.get_by_role("group", name="Confirm cancelling background posting")
    expect(confirm).to_contain_text(f"Take {number} out of the background?")
    confirm.get_by_role("button", name="Keep it in the background").click()
    expect(confirm).to_have_count(0)
    assert http(stack.url, "GET", f"/documents/{document['id']}", "clerk").body["status"] == (
        "Ready to Post"
    )
    # When it is confirmed
    panel.get_by_role("button", name="Cancel background posting").click()
    confirm.get_by_role("button", name=f"Cancel background posting of {number}").click()
    # Then the document is In Progress again, without worker items
    expect(page.get_by_role("heading", level=1)).to_contain_text("In Progress")
    # (numbers are per company: other tests' companies may have queued their own SIN000001)
    items = http(stack.url, "GET", f"/worker-items?reference={number}", "clerk").body
    assert [i for i in items["worker_items"] if i["document_id"] == document["id"]] == []


def test_a_run_now_user_may_retry_someone_elses_document_but_not_cancel_it(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk's queued invoice, opened by the runner (Run Now, not its submitter)
    document = queued_by(stack.url, given_company(stack.url), "clerk")
    sign_in(page, stack.url, "runner", f"/document/{document['id']}")
    panel = page.get_by_role("region", name="Waiting for background posting")
    # Then Retry now is offered, and Cancel background posting is not
    expect(panel.get_by_role("button", name="Retry now")).to_be_visible()
    expect(panel.get_by_role("button", name="Cancel background posting")).to_have_count(0)


def test_someone_elses_queued_document_offers_neither(page: Page, stack: RunningStack) -> None:
    # Given the clerk's queued invoice, opened by the lister (neither submitter nor Run Now)
    document = queued_by(stack.url, given_company(stack.url), "clerk")
    sign_in(page, stack.url, "lister", f"/document/{document['id']}")
    # Then, once its worker items are shown, neither button is offered
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ready to Post")
    expect(page.get_by_text("post_document").first).to_be_visible()
    expect(page.get_by_role("button", name="Retry now")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel background posting")).to_have_count(0)
