"""A document's history and the audit of reference data, written with each change (moto and
DynamoDB Local): `GET /documents/{id}/history`, `GET /audit` (docs/api.md "The job queue")."""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.connection.base import Connection

from background_posting.config import Settings
from background_posting.store import document_store
from background_posting.store import writes as store_writes
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.queues import Drain

ADMIN_OF_ACME = {
    "sub": "acme-admin",
    "email": "acme-admin@example.com",
    "cognito:groups": "SystemAdministrator",
    "custom:companies": "ACME",
}


@pytest.fixture
def acme(api: Any) -> Any:
    for company in ("ACME", "BETA"):
        assert invoke_api(api, "POST", "/companies", "admin", company_body(company)).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    assert (
        invoke_api(api, "POST", "/accounts", "admin", account_body("BCUST", "BETA")).status == 201
    )
    return api


def history(api: Any, document: dict[str, Any], user: str = "clerk") -> list[dict[str, Any]]:
    answer = invoke_api(api, "GET", f"/documents/{document['id']}/history", user)
    assert answer.status == 200, answer.body
    assert answer.body["number"] == document["number"]
    return list(answer.body["history"])


def created(api: Any, **overrides: Any) -> dict[str, Any]:
    answer = invoke_api(api, "POST", "/documents", "clerk", document_body(**overrides))
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_a_documents_life_is_its_history_one_entry_per_version(acme: Any, aws: Settings) -> None:
    # Given an invoice created, amended, sent to the background and posted by a run
    document = created(acme)
    amended = invoke_api(
        acme, "PATCH", f"/documents/{document['id']}", "clerk", {"reference": "PO-7"}
    )
    assert amended.status == 200, amended.body
    queued = invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    assert queued.status == 202, queued.body
    assert invoke_api(acme, "POST", "/scheduler/run", "admin").status == 202
    Drain(aws).all()
    posted = invoke_api(acme, "GET", f"/documents/{document['id']}", "clerk").body
    assert posted["status"] == "Complete"
    # Then its history tells each change, oldest first, with who made it
    entries = history(acme, document)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in entries] == [
        ("create", None, "In Progress"),
        ("amend", "In Progress", "In Progress"),
        ("queue", "In Progress", "Ready to Post"),
        ("post", "Ready to Post", "Complete"),
    ]
    assert [e["by"] for e in entries] == ["clerk", "clerk", "clerk", "clerk"]
    assert entries[1]["details"]["after"]["reference"] == "PO-7"
    assert entries[1]["details"]["before"]["reference"] != "PO-7"
    assert entries[3]["details"]["transaction"] == posted["transaction_number"]
    # And history and state agree: one entry for each version the document went through
    assert [e["version"] for e in entries] == list(range(1, posted["version"] + 1))


def test_a_change_that_is_refused_leaves_no_entry(acme: Any, monkeypatch: Any) -> None:
    # Given an invoice whose amendment loses a race: another amendment lands between the read
    # and the write (the write's condition on the version read fails)
    document = created(acme)
    original = store_writes.transact
    raced = []

    def racing(writes: Any, token: str | None = None) -> None:
        if not raced:
            raced.append(True)
            stored = document_store.get_document(document["id"])
            meanwhile = stored.document.model_copy(update={"description": "meanwhile"})
            change = document_store.Change("amend", "someone")
            document_store.save_amendment(stored, meanwhile, lines_changed=False, change=change)
        original(writes, token)

    monkeypatch.setattr(document_store, "transact", racing)
    answer = invoke_api(
        acme, "PATCH", f"/documents/{document['id']}", "clerk", {"reference": "lost"}
    )
    # Then the loser is refused and its change is nowhere: not on the document, not in history
    assert (answer.status, answer.error_code) == (409, "concurrent_update")
    monkeypatch.setattr(document_store, "transact", original)
    entries = history(acme, document)
    assert [(e["action"], e["by"]) for e in entries] == [("create", "clerk"), ("amend", "someone")]
    current = invoke_api(acme, "GET", f"/documents/{document['id']}", "clerk").body
    assert current["reference"] != "lost" and current["version"] == entries[-1]["version"]


def test_set_back_and_worker_items_removed_by_an_administrator(acme: Any) -> None:
    document = created(acme)
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    removed = invoke_api(acme, "DELETE", f"/documents/{document['id']}/worker-items", "admin")
    assert removed.status == 200 and removed.body["removed"] == 1, removed.body
    back = invoke_api(
        acme, "PUT", f"/documents/{document['id']}/status", "admin", {"status": "In Progress"}
    )
    assert back.status == 200, back.body
    entries = history(acme, document)
    assert [(e["action"], e["by"], e["to_status"]) for e in entries] == [
        ("create", "clerk", "In Progress"),
        ("queue", "clerk", "Ready to Post"),
        ("worker_items_removed", "admin", "Ready to Post"),
        ("set_back", "admin", "In Progress"),
    ]
    assert entries[2]["details"] == {"worker_items": 1}


def test_cancel_and_discard_are_in_the_history(acme: Any) -> None:
    document = created(acme)
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    path = f"/documents/{document['id']}/cancel-background"
    assert invoke_api(acme, "POST", path, "clerk").status == 200
    assert invoke_api(acme, "POST", f"/documents/{document['id']}/discard", "clerk").status == 200
    actions = [e["action"] for e in history(acme, document)]
    assert actions == ["create", "queue", "cancel", "discard"]


def test_a_match_and_its_undoing_are_in_both_documents_histories(acme: Any) -> None:
    invoice = created(acme)
    assert invoke_api(acme, "POST", f"/documents/{invoice['id']}/post", "clerk").status == 200
    note = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/credit-note",
        "clerk",
        {"document_date": "2026-11-25"},
    ).body
    assert invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk").status == 200
    matched = invoke_api(
        acme,
        "POST",
        f"/documents/{invoice['id']}/match",
        "clerk",
        {"with": note["id"], "amount": "10.00"},
    )
    assert matched.status == 200, matched.body
    match_id = matched.body["matches"][0]["id"]
    assert invoke_api(acme, "DELETE", f"/matches/{match_id}", "clerk").status == 200
    on_invoice = history(acme, invoice)
    assert [e["action"] for e in on_invoice] == ["create", "post", "match", "unmatch"]
    assert on_invoice[2]["details"]["with"] == note["number"]
    assert on_invoice[2]["details"]["amount"] == "10.00"
    outstanding = on_invoice[2]["details"]["outstanding"]
    assert outstanding["before"] != outstanding["after"]
    on_note = history(acme, note)
    assert [e["action"] for e in on_note] == ["create", "post", "match", "unmatch"]
    assert on_note[0]["details"] == {"credit_note_for": invoice["number"]}


def test_history_is_read_as_the_document_is_and_a_page_at_a_time(acme: Any) -> None:
    document = created(acme)
    for reference in ("A", "B", "C"):
        path = f"/documents/{document['id']}"
        assert invoke_api(acme, "PATCH", path, "clerk", {"reference": reference}).status == 200
    path = f"/documents/{document['id']}/history"
    # Someone who may not read the document cannot read its history either (as if absent)
    foreign = invoke_api(
        acme,
        "GET",
        path,
        claims={"sub": "beta-clerk", "email": "b@example.com", "custom:companies": "BETA"},
    )
    assert (foreign.status, foreign.error_code) == (404, "document_not_found")
    # A page at a time, every entry once, in order
    first = invoke_api(acme, "GET", f"{path}?limit=3", "clerk").body
    assert len(first["history"]) == 3 and first["next"]
    second = invoke_api(acme, "GET", f"{path}?limit=3&next={first['next']}", "clerk").body
    seen = [e["version"] for e in first["history"] + second["history"]]
    assert seen == [1, 2, 3, 4]
    # A token of another document's history is refused, by name
    other = created(acme)
    refused = invoke_api(
        acme, "GET", f"/documents/{other['id']}/history?next={first['next']}", "clerk"
    )
    assert (refused.status, refused.error_code) == (400, "invalid_page_token")


def test_history_survives_the_deletion_of_the_worker_log_group(acme: Any) -> None:
    document = created(acme)
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [document["id"]]})
    (group,) = invoke_api(acme, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    deleted = invoke_api(acme, "DELETE", f"/worker-log-groups/{group['id']}", "clerk")
    assert deleted.status in (200, 204), deleted.body
    assert [e["action"] for e in history(acme, document)] == ["create", "queue"]


# -- the audit ------------------------------------------------------------------------------


def audit(api: Any, query: str = "", user: str = "admin", **kwargs: Any) -> Any:
    return invoke_api(api, "GET", f"/audit{query}", user, **kwargs)


def test_every_change_of_reference_data_and_settings_is_audited(acme: Any) -> None:
    # Given an administrator's changes: a rate added, a period closed, an account renamed,
    # the company settings, the background posting settings and the schedule
    rates = company_body("ACME")["exchange_rates"] + [
        {"from_currency": "USD", "to_currency": "GBP", "date": "2026-11-01", "rate": "0.80"}
    ]
    steps = [
        ("PATCH", "/companies/ACME", {"exchange_rates": rates}),
        ("PATCH", "/companies/ACME/periods/2026-11", {"status": "closed"}),
        ("PATCH", "/accounts/CUST01", {"name": "Renamed Ltd"}),
        ("PUT", "/companies/ACME/settings", {"journal_line_limit": 50}),
        ("PUT", "/settings/background-posting", {"max_attempts": 5}),
        ("PUT", "/scheduler", {"frequency": "daily", "time": "02:00", "timezone": "UTC"}),
    ]
    for method, path, body in steps:
        answer = invoke_api(acme, method, path, "admin", body)
        assert answer.status == 200, (path, answer.body)
    # Then the audit tells each, with who, and the fields before and after
    answer = audit(acme, "?company=ACME")
    assert answer.status == 200, answer.body
    entries = answer.body["audit"]
    told = [(e["subject"], e["action"]) for e in entries]
    assert told == [
        ("company ACME", "create"),
        ("account CUST01", "create"),
        ("company ACME", "amend"),
        ("company ACME", "close_period"),
        ("account CUST01", "amend"),
        ("settings of ACME", "amend"),
        ("background posting settings", "amend"),
        ("schedule", "schedule"),
    ]
    assert all(e["by"] == "admin" for e in entries)
    rate = entries[2]["after"]["exchange_rates"]["added"]
    assert rate == [rates[-1]] and entries[2]["before"]["exchange_rates"] == {"removed": []}
    period = entries[3]
    assert period["before"]["periods"]["removed"][0]["status"] == "open"
    assert period["after"]["periods"]["added"][0]["status"] == "closed"
    assert entries[4]["before"]["name"] != "Renamed Ltd" == entries[4]["after"]["name"]
    assert entries[6]["after"] == {"max_attempts": 5} and entries[6]["company"] is None


def test_the_audit_is_for_administrators_within_their_companies(acme: Any) -> None:
    refused = audit(acme, user="clerk")
    assert (refused.status, refused.error_code) == (403, "permission_denied")
    # An administrator of ACME only sees ACME's changes (and the organisation's), not BETA's
    mine = audit(acme, claims=ADMIN_OF_ACME)
    assert mine.status == 200, mine.body
    assert {e["company"] for e in mine.body["audit"]} == {"ACME"}
    foreign = audit(acme, "?company=BETA", claims=ADMIN_OF_ACME)
    assert (foreign.status, foreign.error_code) == (403, "company_not_allowed")
    # An administrator of every company sees both
    every = audit(acme).body["audit"]
    assert {e["company"] for e in every} == {"ACME", "BETA"}


def test_the_audit_by_time_and_a_page_at_a_time(acme: Any) -> None:
    everything = audit(acme).body["audit"]
    assert len(everything) == 4  # two companies, two accounts
    later = audit(acme, f"?from={everything[2]['at'].replace('+', '%2B')}").body["audit"]
    assert later == everything[2:]
    assert audit(acme, "?to=2000-01-01").body["audit"] == []
    first = audit(acme, "?limit=3").body
    second = audit(acme, f"?limit=3&next={first['next']}").body
    assert first["audit"] + second["audit"] == everything
    for bad_value in ("yesterday", "2026-13-45", "2026-12-01T09:00:00"):  # the last: no offset
        bad = audit(acme, f"?from={bad_value}")
        assert (bad.status, bad.error_code) == (400, "invalid_request"), bad.body
        assert "from" in bad.body["error"]["message"].lower()


def test_every_write_of_a_document_header_carries_its_history_entry(
    acme: Any, aws: Settings, monkeypatch: Any
) -> None:
    """Whatever step a crash interrupts, history and state agree: every request that writes a
    document's header is one transaction that also puts that document's history entry (and
    nothing writes a header outside a transaction)."""
    requests: list[tuple[str, dict[str, Any]]] = []
    original = Connection.dispatch

    def recording(self: Any, operation: str, kwargs: dict[str, Any]) -> Any:
        requests.append((operation, kwargs))
        return original(self, operation, kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    # Given every kind of change: create, amend, queue, post by a run, credit note, match,
    # undo, cancel, discard, remove worker items and set back
    invoice = created(acme)
    path = f"/documents/{invoice['id']}"
    invoke_api(acme, "PATCH", path, "clerk", {"reference": "R"})
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [invoice["id"]]})
    invoke_api(acme, "POST", "/scheduler/run", "admin")
    Drain(aws).all()
    note = invoke_api(
        acme, "POST", f"{path}/credit-note", "clerk", {"document_date": "2026-11-25"}
    ).body
    invoke_api(acme, "POST", f"/documents/{note['id']}/post", "clerk")
    matched = invoke_api(acme, "POST", f"{path}/match", "clerk", {"with": note["id"]}).body
    invoke_api(acme, "DELETE", f"/matches/{matched['matches'][0]['id']}", "clerk")
    other = created(acme)
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [other["id"]]})
    invoke_api(acme, "POST", f"/documents/{other['id']}/cancel-background", "clerk")
    invoke_api(acme, "POST", "/documents/post", "clerk", {"ids": [other["id"]]})
    invoke_api(acme, "DELETE", f"/documents/{other['id']}/worker-items", "admin")
    invoke_api(acme, "PUT", f"/documents/{other['id']}/status", "admin", {"status": "In Progress"})
    invoke_api(acme, "POST", f"/documents/{other['id']}/discard", "clerk")

    def key(item: dict[str, Any]) -> tuple[str, str]:
        found = item.get("Key") or item.get("Item") or {}
        return found.get("pk", {}).get("S", ""), found.get("sk", {}).get("S", "")

    headers_written = 0
    for operation, kwargs in requests:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            assert key(kwargs)[1] != "HEADER" or not key(kwargs)[0].startswith("DOC#"), kwargs
        if operation != "TransactWriteItems":
            continue
        items = [next(iter(item.values())) for item in kwargs["TransactItems"]]
        written = [
            key(item)
            for item, raw in zip(items, kwargs["TransactItems"], strict=True)
            if "ConditionCheck" not in raw
        ]
        headers = {
            pk.removeprefix("DOC#")
            for pk, sk in written
            if pk.startswith("DOC#") and sk == "HEADER"
        }
        entries = [pk.removeprefix("HIST#") for pk, _ in written if pk.startswith("HIST#")]
        assert sorted(entries) == sorted(headers) or (not headers and len(entries) == 1), written
        headers_written += len(headers)
    assert headers_written >= 14
