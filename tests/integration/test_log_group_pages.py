"""Worker log groups page (issue 28, item 5): the list of a user's groups and a group's
results each come a page at a time, `next` bound to its query (another's or a forged token is
a 400 naming `next`), read by Query, never a scan."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from tests.support.counting import dynamodb_requests
from tests.support.office import Office


@pytest.fixture
def office(api: Any, aws: Settings) -> Office:
    return Office(api, aws)


def _pages(office: Office, path: str, user: str, key: str) -> tuple[list[Any], list[str]]:
    """Every row of `key` through the pages of `path` (which has a query already)."""
    rows: list[Any] = []
    tokens: list[str] = []
    token = None
    for _ in range(10):
        answer = office.call("GET", path + (f"&next={token}" if token else ""), user)
        assert answer.status == 200, answer.body
        rows += answer.body[key]
        token = answer.body["next"]
        if token is None:
            return rows, tokens
        tokens.append(token)
    raise AssertionError("the pages did not end")


def test_a_users_log_groups_page_newest_first(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [office.queue("clerk")[0] for _ in range(3)]
    office.queue("lister")
    with dynamodb_requests(monkeypatch) as sent:
        groups, tokens = _pages(office, "/worker-log-groups?limit=2", "clerk", "worker_log_groups")
    assert len(groups) == 3 and len(tokens) == 1
    stamps = [g["created_at"] for g in groups]
    assert stamps == sorted(stamps, reverse=True)
    assert {g["owner"] for g in groups} == {"clerk"} and len(made) == 3
    assert sent["Scan"] == 0
    # an administrator pages another's; a token of another owner's list is refused
    path = "/worker-log-groups?owner=clerk&limit=1"
    theirs, _ = _pages(office, path, "admin", "worker_log_groups")
    assert [g["id"] for g in theirs] == [g["id"] for g in groups]
    refused = office.call("GET", f"/worker-log-groups?owner=lister&next={tokens[0]}", "admin")
    assert (refused.status, refused.error_code) == (400, "invalid_page_token"), refused.body
    assert "next" in refused.body["error"]["message"]


def test_a_groups_results_page_in_the_order_written(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = office.queue("clerk", count=3)
    office.queue("clerk")
    office.run_now()
    office.process()
    groups = office.call("GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    group = groups[-1]  # the oldest: the three documents
    path = f"/worker-log-groups/{group['id']}?limit=2"
    with dynamodb_requests(monkeypatch) as sent:
        entries, tokens = _pages(office, path, "clerk", "entries")
    assert sorted(e["reference"] for e in entries) == sorted(d["number"] for d in documents)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert len(tokens) == 1 and sent["Scan"] == 0
    first = office.call("GET", path, "clerk").body
    assert first["title"] == group["title"] and first["summary"] == {"posted": 2}
    # a token of another group, or a forged one, is refused; nobody else reads the group
    for forged in (tokens[0], "bm90LWpzb24"):
        refused = office.call("GET", f"/worker-log-groups/{groups[0]['id']}?next={forged}", "clerk")
        assert (refused.status, refused.error_code) == (400, "invalid_page_token"), refused.body
    assert office.call("GET", path, "lister").status == 404
    # and the CSV pages alike
    csv_page = office.call("GET", f"{path}&format=csv", "clerk")
    assert csv_page.status == 200 and len(csv_page.body.strip().splitlines()) == 3
