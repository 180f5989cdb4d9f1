"""Large documents through the API: at most 1,000 lines a request, more appended in pages, no
answer with more than one page of lines; appends at once on DynamoDB Local never interleave."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.services import document_service
from background_posting.store import document_store
from tests.support.api import invoke_api
from tests.support.concurrency import race
from tests.support.data import account_body, company_body, document_body
from tests.support.scenario import ADMIN, given_company, given_document


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert (
        invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01", "ACME")).status == 201
    )
    return api


def lines(count: int, start: int = 0) -> list[dict[str, str]]:
    return [
        {"description": f"Line {n}", "quantity": "1", "unit_price": "2.00", "tax_code": "STD"}
        for n in range(start, start + count)
    ]


def test_a_new_document_takes_at_most_1000_lines(acme: Any) -> None:
    answer = invoke_api(acme, "POST", "/documents", "clerk", document_body(lines=lines(1001)))
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "lines"
    assert invoke_api(acme, "GET", "/documents?company=ACME", "clerk").body["documents"] == []
    ok = invoke_api(acme, "POST", "/documents", "clerk", document_body(lines=lines(1000)))
    assert ok.status == 201 and ok.body["line_count"] == 1000 and ok.body["lines_next"] is None


def test_lines_are_appended_in_pages_and_read_in_pages(acme: Any) -> None:
    # Given a document of 1,000 lines
    doc = invoke_api(acme, "POST", "/documents", "clerk", document_body(lines=lines(1000))).body
    path = f"/documents/{doc['id']}"
    # When 1,000 and then 501 more lines are appended
    second = invoke_api(acme, "POST", f"{path}/lines", "clerk", {"lines": lines(1000, 1000)})
    third = invoke_api(
        acme, "POST", f"{path}/lines", "clerk", {"lines": lines(501, 2000), "line_count": 2000}
    )
    # Then each answer shows the lines it added, where they start, and the new count
    assert second.status == 200, second.body
    assert (second.body["lines_offset"], len(second.body["lines"])) == (1000, 1000)
    assert second.body["line_count"] == 2000 and second.body["lines_next"] is None
    assert third.body["lines_offset"] == 2000 and third.body["line_count"] == 2501
    # And the document reads back in order, a page at a time
    first_page = invoke_api(acme, "GET", path, "clerk").body
    assert len(first_page["lines"]) == 1000 and first_page["lines_next"] == 1000
    seen = [line["description"] for line in first_page["lines"]]
    offset = first_page["lines_next"]
    while offset is not None:
        page = invoke_api(acme, "GET", f"{path}?lines_offset={offset}", "clerk").body
        seen += [line["description"] for line in page["lines"]]
        offset = page["lines_next"]
    assert seen == [f"Line {n}" for n in range(2501)]
    # And amending, posting and reading answer one page of lines at most
    amended = invoke_api(acme, "PATCH", path, "clerk", {"reference": "PO-1"}).body
    assert len(amended["lines"]) == 1000 and amended["lines_next"] == 1000
    posted = invoke_api(acme, "POST", f"{path}/post", "clerk", {"mode": "immediate"})
    assert posted.status == 200, posted.body
    assert posted.body["status"] == "Complete" and len(posted.body["lines"]) == 1000
    assert posted.body["line_count"] == 2501 and posted.body["lines_next"] == 1000
    transaction = invoke_api(acme, "GET", f"{path}/transaction?lines_limit=1", "clerk").body
    assert transaction["line_count"] == 2501 + 2  # a line per line, the control line, the tax


def test_a_retried_append_with_line_count_does_not_append_twice(acme: Any) -> None:
    doc = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    body = {"lines": lines(3), "line_count": 2}
    first = invoke_api(acme, "POST", f"/documents/{doc['id']}/lines", "clerk", body)
    again = invoke_api(acme, "POST", f"/documents/{doc['id']}/lines", "clerk", body)
    assert first.status == 200 and first.body["line_count"] == 5
    assert again.status == 409 and again.error_code == "line_count_changed"
    assert invoke_api(acme, "GET", f"/documents/{doc['id']}", "clerk").body["line_count"] == 5


def test_lines_cannot_be_appended_unless_in_progress(acme: Any) -> None:
    doc = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    path = f"/documents/{doc['id']}"
    assert invoke_api(acme, "POST", f"{path}/post", "clerk", {"mode": "immediate"}).status == 200
    answer = invoke_api(acme, "POST", f"{path}/lines", "clerk", {"lines": lines(1)})
    assert answer.status == 409 and answer.error_code == "document_complete"
    assert invoke_api(acme, "GET", path, "clerk").body["line_count"] == 2
    too_many = invoke_api(acme, "POST", f"{path}/lines", "clerk", {"lines": lines(1001)})
    assert too_many.status == 400


def test_bad_appended_lines_are_named_and_nothing_is_appended(acme: Any) -> None:
    doc = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    bad = lines(3)
    bad[2]["quantity"] = 2
    answer = invoke_api(acme, "POST", f"/documents/{doc['id']}/lines", "clerk", {"lines": bad})
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "lines[2].quantity"
    assert invoke_api(acme, "GET", f"/documents/{doc['id']}", "clerk").body["line_count"] == 2


def test_two_appends_at_once_both_land_without_interleaving(local_store: Settings) -> None:
    # Given a document of 700 lines (its last chunk part full) on DynamoDB Local
    given_company()
    document = given_document(lines=700)
    batches = [lines(600, 10_000), lines(600, 20_000), lines(600, 30_000)]
    # When three appends run at the same moment
    results = race(
        *(lambda b=b: document_service.append_lines(ADMIN, document.id, b) for b in batches)
    )
    # Then all land, each batch contiguous and in its own order, nothing lost or doubled
    assert all(not isinstance(r, Exception) for r in results), results
    stored = document_store.get_document(document.id)
    assert stored.document.line_count == 700 + 1800
    descriptions = [line.description for line in stored.document.lines]
    assert descriptions[:700] == [f"Line {n}" for n in range(700)]
    blocks = [descriptions[700 + 600 * k : 700 + 600 * (k + 1)] for k in range(3)]
    expected = [[line["description"] for line in batch] for batch in batches]
    assert sorted(blocks) == sorted(expected)
    offsets = sorted(r[2] for r in results)
    assert offsets == [700, 1300, 1900]
