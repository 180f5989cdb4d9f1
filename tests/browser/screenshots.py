"""`make screenshots`: the console's main pages as PNGs (docs/console.md), from a fresh stack.

    python -m tests.browser.screenshots docs/screenshots

Starts its own local stack on a free port, sets up a small day's work through the API, then
photographs each page in Chromium as a signed-in user sees it.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect, sync_playwright

from tests.support.api import http
from tests.support.console import (
    NARROW,
    WIDE,
    console_url,
    given_unbalanced_journal,
    launch,
    link_to_group_of,
    sent_emails,
    sign_in,
    user_choice,
)
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import start_stack


def _until(check: Callable[[], Any], seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while not (answer := check()):
        if time.monotonic() > deadline:
            raise TimeoutError("the local stack did not get there in time")
        time.sleep(0.5)
    return answer


def _finished(url: str, run_id: str) -> bool:
    status: str = http(url, "GET", f"/runs/{run_id}", "runner").body["status"]
    return status.startswith("completed")


def _day_of_work(url: str) -> dict[str, Any]:
    """Posted invoices, some Ready to Post, a journal that failed: what the pages will show."""
    company = given_company(url)
    posted = given_documents_of_type(url, company, 3)
    http(url, "POST", "/documents/post", "clerk", {"ids": [d["id"] for d in posted]})
    journal = given_unbalanced_journal(url, company)
    run_id = http(url, "POST", "/scheduler/run", "runner").body["run_id"]
    _until(lambda: _finished(url, run_id))
    waiting = given_documents_of_type(url, company, 2)
    http(url, "POST", "/documents/post", "clerk", {"ids": [d["id"] for d in waiting]})
    given_documents_of_type(url, company, 2)  # still In Progress
    email = _until(
        lambda: next((e for e in sent_emails(url) if journal["number"] in e["text"]), None)
    )
    schedule = {"frequency": "hourly", "every_hours": 2, "start_offset_minutes": 15}
    assert http(url, "PUT", "/scheduler", "admin", schedule).status == 200
    return {
        "company": company,
        "invoice": posted[0],
        "journal": journal,
        "run_id": run_id,
        "link": link_to_group_of(url, email, "clerk", journal["id"]),
    }


def _shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    expect(page.locator(".loading")).to_have_count(0)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(f"  {out / name}.png")


def _list_view(page: Page, url: str, company: str) -> None:
    page.goto(console_url(url, "/documents/sales_invoice"))
    page.get_by_label("Company").fill(company)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("table").get_by_text("In Progress").first).to_be_visible()


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        stack = start_stack(base / "dynamodb", base / "stack.log")
        try:
            url = stack.url
            day = _day_of_work(url)
            with sync_playwright() as playwright:
                browser = launch(playwright)
                context = browser.new_context(viewport=WIDE)
                page = context.new_page()
                page.goto(console_url(url))
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                _shoot(page, out, "sign-in")
                sign_in(page, url, "admin", "/scheduler")
                expect(page.locator("ol.next-runs li").first).to_be_visible()
                _shoot(page, out, "scheduler")
                _list_view(page, url, day["company"])
                page.get_by_label(f"Select {day['invoice']['number']}").check(force=True)
                _shoot(page, out, "list-view")
                page.goto(console_url(url, f"/document/{day['invoice']['id']}"))
                expect(page.get_by_role("heading", name="Settlement discount")).to_be_visible()
                _shoot(page, out, "document")
                page.goto(console_url(url, f"/document/{day['journal']['id']}"))
                expect(page.get_by_text("journal_unbalanced").first).to_be_visible()
                _shoot(page, out, "document-failed")
                page.goto(console_url(url, f"/runs/{day['run_id']}"))
                expect(page.get_by_text("The run has finished")).to_be_visible()
                _shoot(page, out, "run")
                context.close()

                clerk = browser.new_context(viewport=WIDE)
                page = clerk.new_page()
                page.goto(day["link"])
                user_choice(page, "clerk").check()
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", name=re.compile("^Errors"))).to_be_visible()
                _shoot(page, out, "worker-log-group")
                clerk.close()

                narrow = browser.new_context(viewport=NARROW)
                page = narrow.new_page()
                sign_in(page, url, "admin")
                _list_view(page, url, day["company"])
                _shoot(page, out, "list-view-400px")
                narrow.close()
                browser.close()
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
