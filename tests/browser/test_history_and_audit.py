"""History on a document and the Audit page, in Chromium on the local stack: the clerk reads
who changed their invoice and how; an administrator reads what changed in a company's set-up;
the Audit link is shown to administrators only."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.api import http
from tests.support.console import sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack


def test_a_documents_history_tells_each_change_in_words(page: Page, stack: RunningStack) -> None:
    # Given the clerk's invoice, amended and posted
    company = given_company(stack.url)
    (document,) = given_documents_of_type(stack.url, company, 1)
    path = f"/documents/{document['id']}"
    assert http(stack.url, "PATCH", path, "clerk", {"reference": "PO-77"}).status == 200
    assert http(stack.url, "POST", f"{path}/post", "clerk", {"mode": "immediate"}).status == 200
    # When the clerk opens it
    sign_in(page, stack.url, "clerk")
    page.goto(f"{stack.url}/console/#/document/{document['id']}")
    history = page.get_by_role("region", name="History")
    # Then its History lists each change, oldest first, with who and the statuses
    rows = history.get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three changes
    expect(rows.nth(1)).to_contain_text("Created")
    expect(rows.nth(1)).to_contain_text("clerk")
    expect(rows.nth(2)).to_contain_text("Amended")
    expect(rows.nth(2)).to_contain_text("PO-77")
    expect(rows.nth(3)).to_contain_text("Posted")
    expect(rows.nth(3)).to_contain_text("In Progress → Complete")
    # And no raw action tokens are shown
    expect(history).not_to_contain_text("lines_added")
    # And a clerk has no Audit link
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit")
    ).to_have_count(0)


def test_the_audit_shows_an_administrator_what_changed_in_a_company(
    page: Page, stack: RunningStack
) -> None:
    # Given a company whose period an administrator closed
    company = given_company(stack.url)
    closed = {"status": "closed"}
    assert (
        http(stack.url, "PATCH", f"/companies/{company}/periods/2026-11", "admin", closed).status
        == 200
    )
    # When the administrator opens Audit and asks for that company
    sign_in(page, stack.url, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit")
    page.get_by_label("Company").fill(company)
    page.get_by_role("button", name="Show").click()
    # Then the company's creation, its accounts and the closed period are listed
    table = page.get_by_role("table")
    expect(table.get_by_role("row").filter(has_text="Period closed")).to_have_count(1)
    expect(table.get_by_role("row").filter(has_text=f"company {company}")).to_have_count(2)
    expect(table.get_by_role("row").filter(has_text=f"account C-{company}")).to_have_count(1)
    # And a date the server cannot read is refused under its field, not silently
    page.get_by_label("From").fill("2026-12-31")
    page.get_by_label("To").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert").filter(has_text="before").first).to_be_visible()
