"""Reversing a posted journal from its page, in Chromium on the local stack."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.api import http
from tests.support.console import sign_in
from tests.support.http_steps import given_company, given_documents_of_type
from tests.support.stack import RunningStack


def test_a_clerk_reverses_a_posted_journal_from_its_page(page: Page, stack: RunningStack) -> None:
    # Given a posted journal
    company = given_company(stack.url)
    (journal,) = given_documents_of_type(stack.url, company, 1, "journal")
    posted = http(
        stack.url, "POST", f"/documents/{journal['id']}/post", "clerk", {"mode": "immediate"}
    )
    assert posted.status == 200, posted.body
    sign_in(page, stack.url, "clerk", f"/document/{journal['id']}")
    reversal = page.get_by_role("region", name="Reversal")
    # When Reverse is pressed it asks for the date first; a closed period's date is refused
    reversal.get_by_role("button", name="Reverse", exact=True).click()
    form = page.get_by_role("form", name=f"Reverse {journal['number']}")
    form.get_by_label("Reversal date").fill("2026-10-15")
    form.get_by_role("button", name=f"Reverse {journal['number']}").click()
    expect(reversal.get_by_role("alert")).to_contain_text("closed")
    # When a date in the open period is given, with a reason
    form.get_by_label("Reversal date").fill("2026-11-28")
    form.get_by_label("Reason").fill("Entered twice")
    form.get_by_role("button", name=f"Reverse {journal['number']}").click()
    # Then the reversal is posted, the page links to it, and Reverse is gone
    expect(reversal.get_by_role("status")).to_contain_text(f"reverses {journal['number']}")
    expect(reversal.get_by_role("link", name="its reversal")).to_be_visible()
    expect(reversal.get_by_role("button", name="Reverse", exact=True)).to_have_count(0)
    stored = http(stack.url, "GET", f"/documents/{journal['id']}", "clerk").body
    assert stored["reversed_by"]
    reversal.get_by_role("link", name="its reversal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Complete")
    expect(page.get_by_role("region", name="Reversal")).to_contain_text("Reverses")
