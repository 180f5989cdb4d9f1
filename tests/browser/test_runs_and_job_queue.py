"""The Runs and My Job Queue pages, in Chromium on the local stack: a submitter finds the run
that processed their work under **Runs** (its counts live while it is under way), opens it,
filters its results by outcome and downloads them as CSV; **My Job Queue** lists their waiting
work with the account's name, attempts of the maximum and the next try."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.api import http
from tests.support.console import sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack


def queued_by(url: str, company: str, user: str) -> dict[str, Any]:
    (document,) = given_documents_of_type(url, company, 1, "sales_invoice", user)
    answer = http(url, "POST", "/documents/post", user, {"ids": [document["id"]]})
    assert answer.status == 202, answer.body
    return document


def test_runs_lists_the_run_of_my_work_and_its_page_filters_and_exports_results(
    page: Page, stack: RunningStack
) -> None:
    # Given the clerk's invoice, posted by a Run Now the runner started
    document = queued_by(stack.url, given_company(stack.url), "clerk")
    run_id = http(stack.url, "POST", "/scheduler/run", "runner").body["run_id"]
    # When the clerk opens Runs from the navigation
    sign_in(page, stack.url, "clerk")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Runs")
    # Then the run is listed, and its status moves on to completed without a reload
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id[:12]))
    expect(row).to_be_visible(timeout=30_000)
    expect(row.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
    # ...and the Started by filter keeps it for Run Now, not for Retry now
    page.get_by_label("Started by").select_option("document")
    expect(page.get_by_role("link", name=run_id[:12])).to_have_count(0)
    page.get_by_label("Started by").select_option("run_now")
    expect(page.get_by_role("link", name=run_id[:12])).to_be_visible()
    # When the clerk opens the run
    page.get_by_role("link", name=run_id[:12]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Run Now run")
    results = page.get_by_role("region", name="Results")
    # Then its results list the clerk's document as posted; another outcome shows none
    expect(results.get_by_role("link", name=document["number"])).to_be_visible()
    results.get_by_label("Outcome").select_option("failed")
    expect(results.get_by_role("link", name=document["number"])).to_have_count(0)
    results.get_by_label("Outcome").select_option("posted")
    expect(results.get_by_role("link", name=document["number"])).to_be_visible()
    # And Download CSV saves the filtered results
    with page.expect_download() as downloading:
        results.get_by_role("button", name="Download CSV").click()
    saved = downloading.value
    assert saved.suggested_filename == f"run-{run_id[:12]}-posted.csv"
    text = Path(saved.path()).read_text(encoding="utf-8")
    assert text.startswith("at,document_id,number,action,outcome,attempt,errors")
    assert document["number"] in text and ",posted," in text


def test_my_job_queue_lists_my_waiting_work(page: Page, stack: RunningStack) -> None:
    # Given the clerk's invoice queued to post on a later date (no run takes it before)
    company = given_company(stack.url)
    (document,) = given_documents_of_type(stack.url, company, 1, "sales_invoice", "clerk")
    later = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    answer = http(
        stack.url,
        "POST",
        f"/documents/{document['id']}/post",
        "clerk",
        {"mode": "auto", "post_on": later},
    )
    assert answer.status in (200, 202), answer.body
    # When the clerk opens My Job Queue from the navigation
    sign_in(page, stack.url, "clerk")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Job Queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My Job Queue")
    # Then the invoice's row names its account, action, state and attempts of the maximum
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=document["number"]))
    expect(row).to_contain_text(f"C-{company} Customer plc")
    expect(row).to_contain_text("post document")
    expect(row).to_contain_text("Queued")
    expect(row).to_contain_text(re.compile(r"0 of \d+"))
    # ...and the State filter leaves it out of the failed ones
    page.get_by_label("State").select_option("failed")
    expect(page.get_by_role("link", name=document["number"])).to_have_count(0)
    # And its link opens the document, where its work is steered
    page.get_by_label("State").select_option("")
    page.get_by_role("link", name=document["number"]).click()
    expect(page.get_by_role("region", name="Waiting for background posting")).to_be_visible()
