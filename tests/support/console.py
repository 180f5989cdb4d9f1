"""The console in a real browser: Debian's Chromium driven by Playwright, and the data it shows.

Playwright cannot download its own browser on these machines, so it drives the system's
(`make install` installs Debian's `chromium` when it is missing).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Playwright, expect

from tests.support.api import http
from tests.support.http_steps import given_documents_of_type

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 400, "height": 860}


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def console_url(stack_url: str, route: str = "") -> str:
    return f"{stack_url}/console/{'#' + route if route else ''}"


def user_choice(page: Page, user: str) -> Locator:
    """The sign-in page's radio button for `user` (its label: the id, then its permission sets)."""
    return page.get_by_role("radio", name=re.compile(rf"^{re.escape(user)} "))


def sign_in(page: Page, stack_url: str, user: str, route: str = "") -> None:
    """Open the console (at `route`) and choose the local user, as a person would."""
    page.goto(console_url(stack_url, route))
    user_choice(page, user).check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible()


def given_unbalanced_journal(url: str, company: str, user: str = "clerk") -> dict[str, Any]:
    """A journal that cannot post (its lines do not balance), queued for background posting."""
    (journal,) = given_documents_of_type(url, company, 1, "journal", user)
    lines = [{"gl_account": "6000", "value": "10.00"}, {"gl_account": "2400", "value": "-9.00"}]
    assert http(url, "PATCH", f"/documents/{journal['id']}", user, {"lines": lines}).status == 200
    queued = http(url, "POST", "/documents/post", user, {"ids": [journal["id"]]})
    assert queued.status == 202, queued.body
    return journal


def sent_emails(url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_local/emails", timeout=10) as response:
        emails: list[dict[str, Any]] = json.load(response)
    return emails


LOG_GROUP_LINK = re.compile(r"https?://\S+?#/worker-log-groups/([0-9a-f]{32})")


def link_to_group_of(url: str, email: dict[str, Any], user: str, document_id: str) -> str:
    """The e-mail's link to the worker log group that holds `document_id`'s results."""
    for match in LOG_GROUP_LINK.finditer(email["text"]):
        group = http(url, "GET", f"/worker-log-groups/{match.group(1)}", user).body
        if any(entry["document_id"] == document_id for entry in group["entries"]):
            return match.group(0)
    raise AssertionError(f"no link in the e-mail leads to {document_id}: {email['text']}")
