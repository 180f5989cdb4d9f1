"""The console in Chromium on the local stack: what each user sees, and a day's work by clicking."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.api import http
from tests.support.console import (
    NARROW,
    console_url,
    given_unbalanced_journal,
    link_to_group_of,
    sent_emails,
    sign_in,
    user_choice,
)
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack

SCHEDULER_LINK = "Background Posting Scheduler"


def eventually(check: Callable[[], Any], seconds: float = 60) -> Any:
    """For state read over HTTP rather than on the page (e-mails, a run the test waits for)."""
    deadline = time.monotonic() + seconds
    while not (answer := check()):
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.5)
    return answer


# --- the console's files -------------------------------------------------------------------


def test_the_console_is_served_without_identity_with_its_content_types(
    stack: RunningStack,
) -> None:
    # Given the local stack; When the page and its code are fetched without identity
    def fetch(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(stack.url + path, timeout=10) as response:
                return response.status, response.headers["Content-Type"]
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers["Content-Type"]

    # Then each answers with its own content type, and nothing outside console/ is served
    assert fetch("/console/") == (200, "text/html; charset=utf-8")
    assert fetch("/console/src/app.js") == (200, "text/javascript; charset=utf-8")
    assert fetch("/console/vendor/preact.mjs") == (200, "text/javascript; charset=utf-8")
    assert fetch("/console/style.css") == (200, "text/css; charset=utf-8")
    assert fetch("/console/config.json") == (200, "application/json")
    assert fetch("/console/package.json")[0] == 404
    assert fetch("/console/../infra/users.json")[0] == 404
    assert fetch("/console/%2e%2e/infra/users.json")[0] == 404


def test_the_first_page_load_is_under_200_kb(page: Page, stack: RunningStack) -> None:
    # Given a fresh browser; When the console's sign-in page loads
    sizes: list[int] = []
    page.on(
        "response",
        lambda r: sizes.append(len(r.body())) if "/console/" in r.url else None,
    )
    page.goto(console_url(stack.url))
    expect(page.get_by_role("heading", name="Sign in to Background Posting")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # Then every asset together is under 200 KB
    assert 0 < sum(sizes) < 200_000, sizes


# --- who sees what ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "sees_scheduler", "may_schedule", "may_background_post"),
    [
        ("admin", True, True, True),
        ("runner", True, False, False),
        ("lister", False, False, True),
        ("clerk", False, False, False),
    ],
)
def test_each_local_user_sees_only_what_they_may(
    page: Page,
    stack: RunningStack,
    user: str,
    sees_scheduler: bool,
    may_schedule: bool,
    may_background_post: bool,
) -> None:
    # Given a local user; When they sign in
    sign_in(page, stack.url, user, "/documents/sales_invoice")
    nav = page.get_by_role("navigation", name="Main")
    # Then the list view is there for everyone, Background Post only with the Listview set
    expect(page.get_by_role("heading", name="Sales Invoices")).to_be_visible()
    expect(page.get_by_role("button", name="Post", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Background Post")).to_have_count(
        int(may_background_post)
    )
    # And the scheduler tab only for administrators and Run Now
    expect(nav.get_by_role("link", name=SCHEDULER_LINK)).to_have_count(int(sees_scheduler))
    page.goto(console_url(stack.url, "/scheduler"))
    if not sees_scheduler:
        expect(page.get_by_role("alert")).to_contain_text("System Administrators")
        expect(page.get_by_role("button", name="Run Now")).to_have_count(0)
        return
    expect(page.get_by_role("button", name="Run Now")).to_be_visible()
    expect(page.get_by_role("button", name="Schedule Job")).to_have_count(int(may_schedule))
    settings = page.get_by_label("Repeat every (hours)")
    if may_schedule:
        expect(settings).to_be_enabled()
    else:
        expect(settings).to_be_disabled()


# --- the scheduler ----------------------------------------------------------------------------


def test_schedule_job_shows_the_message_and_the_next_runs_and_errors_by_their_field(
    page: Page, stack: RunningStack
) -> None:
    try:
        # Given an administrator on the Background Posting Scheduler tab
        sign_in(page, stack.url, "admin", "/scheduler")
        # When they ask for every 0 hours
        page.get_by_label("Repeat every (hours)").fill("0")
        page.get_by_role("button", name="Schedule Job").click()
        # Then the API's words stand next to the field, and nothing is scheduled
        field_error = page.locator("#every_hours-error")
        expect(field_error).to_contain_text("must be 1 or more")
        expect(page.get_by_label("Repeat every (hours)")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_text("No job is scheduled")).to_be_visible()

        # When they schedule a job on the third Tuesday of every month at 02:00 in London
        page.get_by_role("radio", name="Monthly").check()
        page.get_by_role("radio", name="By weekday").check()
        page.get_by_label("Which").select_option(label="Third")
        page.get_by_label("Day of the week").select_option(label="Tuesday")
        page.get_by_label("Preferred Start Time").fill("02:00")
        page.get_by_label("Time zone").fill("Europe/London")
        page.get_by_role("button", name="Schedule Job").click()

        # Then the message says when it next runs, and the next runs are listed in London time
        message = re.compile(r"The scheduler will next run on Tuesday \d+ \w+ \d{4} at 02:00")
        expect(page.get_by_role("status").filter(has_text=message)).to_be_visible()
        expect(field_error).to_have_count(0)
        runs = page.locator("ol.next-runs li")
        expect(runs).to_have_count(5)
        expect(runs.first).to_contain_text("Tue")
        expect(runs.first).to_contain_text("02:00")
        expect(page.get_by_role("heading", name="Next runs (Europe/London)")).to_be_visible()
    finally:
        http(stack.url, "DELETE", "/scheduler", "admin")


# --- posting from a list view and Run Now --------------------------------------------------


def _documents_table(page: Page) -> Locator:
    return page.get_by_role("table")


def test_queue_documents_then_run_now_and_watch_the_run_finish(
    page: Page, stack: RunningStack
) -> None:
    # Given three sales invoices In Progress in a company
    company = given_company(stack.url)
    invoices = given_documents_of_type(stack.url, company, 3)
    sign_in(page, stack.url, "admin", "/documents/sales_invoice")
    page.get_by_label("Company").fill(company)
    page.get_by_role("button", name="Apply filters").click()
    table = _documents_table(page)
    expect(table.get_by_text("In Progress")).to_have_count(3)

    # When they are selected and posted from the list view
    page.get_by_label("Select every document on this page").check()
    page.get_by_role("button", name="Post (3)").click()

    # Then they are Ready to Post, the message says so
    expect(
        page.get_by_role("status").filter(has_text="3 documents are Ready to Post")
    ).to_be_visible()
    expect(table.get_by_text("Ready to Post")).to_have_count(3)

    # When the administrator clicks Run Now
    page.get_by_role("navigation", name="Main").get_by_role("link", name=SCHEDULER_LINK).click()
    page.get_by_role("button", name="Run Now").click()

    # Then the progress bar fills up and the run says it has finished, without a reload
    progress = page.locator("progress")
    expect(page.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
    assert progress.get_attribute("value") == progress.get_attribute("max")
    expect(page.get_by_text("The run has finished")).to_be_visible()
    assert int(page.locator('[data-count="posted"]').inner_text()) >= 3

    # And the list view shows them Complete
    page.goto(console_url(stack.url, "/documents/sales_invoice"))
    page.get_by_label("Company").fill(company)
    page.get_by_role("button", name="Apply filters").click()
    expect(_documents_table(page).get_by_text("Complete")).to_have_count(len(invoices))


def test_background_post_from_a_list_view_shows_its_run(page: Page, stack: RunningStack) -> None:
    # Given a payable invoice Ready to Post
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1, "payable_invoice")
    assert (
        http(stack.url, "POST", "/documents/post", "clerk", {"ids": [invoice["id"]]}).status == 202
    )
    # When a user with the Listview permission set clicks Background Post
    sign_in(page, stack.url, "lister", "/documents/payable_invoice")
    page.get_by_role("button", name="Background Post").click()
    # Then the run's progress shows until it has finished
    expect(page.get_by_text("Background Post started")).to_be_visible()
    expect(page.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
    document = http(stack.url, "GET", f"/documents/{invoice['id']}", "clerk").body
    assert document["status"] == "Complete"


# --- a failing document, its e-mail and its worker log group ----------------------------


@pytest.fixture(scope="module")
def failed_journal(stack: RunningStack) -> dict[str, Any]:
    """An unbalanced journal submitted by the clerk, after one run has failed to post it."""
    company = given_company(stack.url)
    journal = given_unbalanced_journal(stack.url, company)
    run_id = http(stack.url, "POST", "/scheduler/run", "runner").body["run_id"]
    eventually(
        lambda: (
            http(stack.url, "GET", f"/runs/{run_id}", "runner")
            .body["status"]
            .startswith("completed")
        ),
        90,
    )
    email = eventually(
        lambda: next(
            (
                e
                for e in reversed(sent_emails(stack.url))
                if e["to"] == ["clerk@example.com"]
                and f"{journal['number']} - Journal - {company}" in e["text"]
            ),
            None,
        ),
        60,
    )
    return {"journal": journal, "email": email}


def test_the_emails_link_opens_the_worker_log_group_after_choosing_a_user(
    page: Page, stack: RunningStack, failed_journal: dict[str, Any]
) -> None:
    # Given the e-mail the clerk received after the run
    journal = failed_journal["journal"]
    link = link_to_group_of(stack.url, failed_journal["email"], "clerk", journal["id"])
    assert link.startswith(f"{stack.url}/console/#/worker-log-groups/")
    # When the link is opened in a browser where nobody is signed in
    page.goto(link)
    user_choice(page, "clerk").check()
    page.get_by_role("button", name="Sign in").click()
    # Then the worker log group opens, with the journal's error in the API's words
    expect(page.get_by_role("heading", name="Errors (1)")).to_be_visible()
    report = page.locator(".error-report")
    expect(report.get_by_role("link", name=journal["number"])).to_be_visible()
    expect(report).to_contain_text("journal_unbalanced")
    expect(page.get_by_role("cell", name="Failed")).to_be_visible()


def test_a_documents_page_shows_its_failure_its_worker_items_and_why_it_is_locked(
    page: Page, stack: RunningStack, failed_journal: dict[str, Any]
) -> None:
    journal = failed_journal["journal"]
    # Given the journal that failed its first attempt (three are allowed)
    # When the clerk opens it
    sign_in(page, stack.url, "clerk", f"/document/{journal['id']}")
    # Then it is Ready to Post and says why it is locked; no Post, Discard or Print
    expect(page.get_by_role("heading", name=f"Journal {journal['number']}")).to_contain_text(
        "Ready to Post"
    )
    expect(page.get_by_role("note")).to_contain_text("cannot be amended, discarded")
    for button in ("Post", "Discard", "Print"):
        expect(page.get_by_role("button", name=button, exact=True)).to_have_count(0)
    # And its worker item shows the attempt and the last error
    items = page.get_by_role("table").filter(has_text="Attempts")
    expect(items).to_contain_text("1 of 3")
    expect(items).to_contain_text(re.compile("balance", re.IGNORECASE))
    # And the last background attempt lists its errors
    attempt = page.get_by_role("region", name="Last background attempt")
    expect(attempt).to_contain_text("failed")
    expect(attempt).to_contain_text("journal_unbalanced")
    # And its lines are shown
    expect(page.get_by_role("region", name="Lines")).to_contain_text("Lines 1\u20132 of 2")


def test_an_administrator_setting_a_document_back_sees_the_apis_refusal(
    page: Page, stack: RunningStack, failed_journal: dict[str, Any]
) -> None:
    journal = failed_journal["journal"]
    # Given the journal still has a worker item; When an administrator sets it back
    sign_in(page, stack.url, "admin", f"/document/{journal['id']}")
    page.get_by_role("button", name="Set back to In Progress").click()
    # Then the API's refusal is shown in its words, and the status is unchanged
    expect(page.get_by_role("alert")).to_contain_text("worker item")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ready to Post")


def test_a_complete_invoice_shows_its_transaction_in_three_currencies_with_its_discount(
    page: Page, stack: RunningStack
) -> None:
    # Given an invoice In Progress; When the clerk posts it from its page
    company = given_company(stack.url)
    (invoice,) = given_documents_of_type(stack.url, company, 1)
    sign_in(page, stack.url, "clerk", f"/document/{invoice['id']}")
    page.get_by_role("button", name="Post", exact=True).click()
    # Then it is posted at once and its transaction is shown in the three currencies
    expect(page.get_by_role("status").filter(has_text="is posted")).to_be_visible()
    transaction = page.get_by_role("region", name=re.compile("^Transaction"))
    expect(transaction.get_by_role("columnheader", name="Document (GBP)")).to_be_visible()
    expect(transaction.get_by_role("columnheader", name="Home (GBP)")).to_be_visible()
    expect(transaction.get_by_role("columnheader", name="Dual (EUR)")).to_be_visible()
    expect(transaction.get_by_role("heading", name="Settlement discount")).to_be_visible()
    expect(transaction).to_contain_text("2%")
    expect(page.get_by_role("button", name="Print")).to_be_visible()


# --- keyboard only and narrow screens ----------------------------------------------------


def _tab_to(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} cannot be reached with the Tab key")


def test_the_main_flow_by_keyboard_alone_at_400_pixels(
    browser: Browser, stack: RunningStack
) -> None:
    # Given two sales invoices and a narrow screen, a keyboard and no mouse
    company = given_company(stack.url)
    given_documents_of_type(stack.url, company, 2)
    context = browser.new_context(viewport=NARROW)
    page = context.new_page()
    try:
        page.goto(console_url(stack.url))
        # When the administrator signs in with the keyboard
        _tab_to(page, user_choice(page, "admin"))
        page.keyboard.press("Space")
        _tab_to(page, page.get_by_role("button", name="Sign in"))
        page.keyboard.press("Enter")
        expect(page.get_by_text("Signed in as admin")).to_be_visible()
        # And filters the list view by company, selects both and posts them
        _tab_to(page, page.get_by_label("Company"))
        page.keyboard.type(company)
        page.keyboard.press("Enter")
        expect(page.get_by_role("table").get_by_text("In Progress")).to_have_count(2)
        _tab_to(page, page.get_by_label("Select every document on this page"))
        page.keyboard.press("Space")
        _tab_to(page, page.get_by_role("button", name="Post (2)"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("table").get_by_text("Ready to Post")).to_have_count(2)
        # And opens the scheduler tab and clicks Run Now, all by keyboard
        page.keyboard.press("Shift+Tab")  # from the page back to the header
        _tab_to(page, page.get_by_role("button", name="Menu"))  # at 400 px the links are behind it
        page.keyboard.press("Enter")
        _tab_to(page, page.get_by_role("link", name=SCHEDULER_LINK))
        page.keyboard.press("Enter")
        _tab_to(page, page.get_by_role("button", name="Run Now"))
        page.keyboard.press("Enter")
        # Then the run finishes on the page, and nothing is wider than the screen
        expect(page.locator(".run-status")).to_have_text(re.compile("^completed"), timeout=90_000)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROW["width"], width
    finally:
        context.close()


# --- the companies a user is logged into ----------------------------------------------------


def test_a_user_logs_into_companies_and_the_list_view_shows_them(
    page: Page, stack: RunningStack
) -> None:
    # Given a user allowed two companies, each with an invoice
    first, second = given_company(stack.url), given_company(stack.url)
    given_documents_of_type(stack.url, first, 1)
    given_documents_of_type(stack.url, second, 1)
    users_file = stack.data_dir.parent / "users.json"
    users = json.loads(users_file.read_text())
    users["ana"] = {"email": "ana@example.com", "groups": [], "companies": f"{first},{second}"}
    users_file.write_text(json.dumps(users))
    sign_in(page, stack.url, "ana", "/companies")
    allowed = ", ".join(sorted([first, second]))  # the console lists them in order
    expect(page.get_by_text(f"You may use {allowed}")).to_be_visible()

    # When she asks for a company she may not use, the API's refusal is shown
    field = page.get_by_label("Companies to log into")
    field.fill(f"{first}, NOPE")
    page.get_by_role("button", name="Log into these companies").click()
    expect(page.locator("#companies-error")).to_contain_text("not a company you are allowed")

    # When she logs into the first only
    field.fill(first)
    page.get_by_role("button", name="Log into these companies").click()
    expect(
        page.get_by_role("status").filter(has_text=f"You are logged into {first}.")
    ).to_be_visible()

    # Then the list view shows that company's invoices without naming it
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sales Invoices").click()
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(first)
