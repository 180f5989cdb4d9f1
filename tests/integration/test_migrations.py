"""Migrations of stored data on DynamoDB Local: a store left as an older version would have
left it is upgraded, interrupted halfway and run again, and ends right; a second run changes
nothing (background_posting.migrations)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter

from background_posting import migrations
from background_posting.config import Settings
from background_posting.domain.document_input import DocumentInput
from background_posting.domain.documents import Document
from background_posting.migrations import MIGRATIONS, Migration, m0001_outstanding, run_migrations
from background_posting.services import document_service, posting
from background_posting.store import document_store, migration_records
from background_posting.store.document_store import DocumentRecord
from tests.support.data import document_body
from tests.support.scenario import ADMIN, given_company

_input: TypeAdapter[Any] = TypeAdapter(DocumentInput)


def _line(quantity: int, price: str) -> dict[str, Any]:
    return {
        "description": "Goods",
        "quantity": str(quantity),
        "unit_price": price,
        "tax_code": "ZERO",
    }


def _read(document_id: str) -> Document:
    return document_store.get_document(document_id, with_lines=False).document


def _as_before_matching(document: Document) -> None:
    """The header as a version without matching wrote it: no `outstanding` at all."""
    record = DocumentRecord.get(f"DOC#{document.id}", "HEADER")
    body = _read(document.id).model_dump(mode="json", exclude={"lines", "outstanding"})
    record.body = Document.model_validate(body).model_dump_json(exclude={"lines", "outstanding"})
    record.save()


@pytest.fixture
def posted_before_matching(local_store: Settings) -> dict[str, Decimal]:
    """Invoices, a credit note and a journal posted, then left as the old version stored them;
    the outstanding amount each should get back."""
    given_company()
    expected: dict[str, Decimal] = {}
    bodies = [
        document_body("sales_invoice", lines=[_line(1, "120.00")]),
        document_body("sales_invoice", lines=[_line(2, "35.50")]),
        document_body("sales_invoice", lines=[_line(-1, "40.00")]),  # credits the customer
        document_body("sales_credit_note", lines=[_line(1, "25.00")]),
        document_body("journal"),
    ]
    for body in bodies:
        created = document_service.create_document(ADMIN, _input.validate_python(body))
        posted = posting.post_now(created, "clerk")
        if posted.outstanding is not None:
            expected[posted.id] = posted.outstanding
        _as_before_matching(posted)
    return expected


def _outstanding(ids: list[str]) -> dict[str, Decimal | None]:
    return {document_id: _read(document_id).outstanding for document_id in ids}


def test_documents_posted_before_matching_get_their_outstanding_resumed_after_a_stop(
    posted_before_matching: dict[str, Decimal], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = list(posted_before_matching)
    assert set(_outstanding(ids).values()) == {None}
    # Given pages of two headers, and a run that stops after its first page
    monkeypatch.setattr(m0001_outstanding, "PAGE_SIZE", 2)
    one_page = Migration(1, MIGRATIONS[0].name, lambda cursor: m0001_outstanding.step(cursor, 2))
    pages_left = iter([100.0, 0.0])
    first = run_migrations(lambda: next(pages_left), (one_page,))
    # Then it stopped unfinished, with its cursor stored
    assert [report.done for report in first] == [False]
    record = migration_records.get_record(1)
    assert record is not None and not record.done and record.cursor is not None
    assert first[0].changed < len(ids) and None in _outstanding(ids).values()
    # When it runs again, and then once more
    second = run_migrations(migrations=(one_page,))
    third = run_migrations()
    # Then every invoice and credit note has what posting gives it today, signed, once
    assert _outstanding(ids) == posted_before_matching
    assert posted_before_matching[ids[2]] == Decimal("-40.00")
    assert [report.done for report in second] == [True] and second[0].changed == len(ids)
    assert third[0].changed == len(ids)  # the total stays: the finished one did not run again
    record = migration_records.get_record(1)
    assert record is not None and record.done and record.finished_at is not None


def test_a_backfilled_document_can_be_matched(posted_before_matching: dict[str, Decimal]) -> None:
    from background_posting.domain.matching import require_open

    invoice = next(iter(posted_before_matching))
    run_migrations()
    require_open(_read(invoice), Decimal("10.00"))  # raises when it cannot be matched


def test_two_runners_at_once_backfill_each_document_once(
    posted_before_matching: dict[str, Decimal],
) -> None:
    from tests.support.concurrency import race

    versions = {document_id: _read(document_id).version for document_id in posted_before_matching}
    results = race(lambda: run_migrations(), lambda: run_migrations())
    assert not [result for result in results if isinstance(result, Exception)]
    after = {document_id: _read(document_id) for document_id in posted_before_matching}
    assert {i: d.outstanding for i, d in after.items()} == posted_before_matching
    assert {i: d.version for i, d in after.items()} == {i: v + 1 for i, v in versions.items()}


def test_every_migration_is_numbered_once_in_order() -> None:
    versions = [migration.version for migration in migrations.MIGRATIONS]
    assert versions == sorted(set(versions)) == list(range(1, len(versions) + 1))


def test_runs_stored_before_participants_get_them_resumed_after_a_stop(
    api: Any, aws: Settings
) -> None:
    from background_posting.migrations import m0002_run_participants
    from background_posting.store.work_log import WorkLogRecord
    from tests.support.office import Office

    # Given three runs, over the clerk's work, the lister's, and both
    office = Office(api, aws)
    made = []
    for users in (["clerk"], ["lister"], ["clerk", "lister"]):
        for user in users:
            office.queue(user)
        made.append(office.run_now())
        office.process()
    expected = {"clerk": [made[2], made[0]], "lister": [made[2], made[1]]}

    def listed(user: str) -> list[str]:
        answer = office.call("GET", "/runs", user)
        assert answer.status == 200, answer.body
        return [run["id"] for run in answer.body["runs"]]

    assert {user: listed(user) for user in expected} == expected
    # ...stored as before runs recorded their participants
    for record in WorkLogRecord.scan(WorkLogRecord.sk.startswith("PARTICIPANT#")):
        record.delete()
    assert listed("clerk") == [] and office.call("GET", f"/runs/{made[0]}", "clerk").status == 404
    # When the migration runs a page of one run, stops, and runs again, and once more
    one_run = Migration(2, MIGRATIONS[1].name, lambda c: m0002_run_participants.step(c, 1))
    pages_left = iter([100.0, 0.0])
    first = run_migrations(lambda: next(pages_left), (one_run,))
    assert [report.done for report in first] == [False] and first[0].changed == 1
    second = run_migrations(migrations=(one_run,))
    again = m0002_run_participants.step(None)  # a runner that starts over writes nothing
    # Then each run has its participants, once: each lists for whose work it processed
    assert second[0].done and second[0].changed == 4
    assert again == (0, None)
    assert {user: listed(user) for user in expected} == expected
    assert office.call("GET", f"/runs/{made[0]}", "clerk").status == 200


def test_two_runners_at_once_give_each_run_its_participants_once(local_store: Settings) -> None:
    from background_posting import clock
    from background_posting.domain.work import LogEntry
    from background_posting.store import log_groups, work_log
    from background_posting.store.work_log import PARTICIPANT_OWNER, WorkLogRecord
    from tests.support.concurrency import race

    # Given runs stored before participants: each wrote entries into its submitters' groups
    owners = ("clerk", "lister", "payables")
    groups = {
        owner: log_groups.create_group(owner, f"{owner}@x.com", "Work", ["ACME"])
        for owner in owners
    }
    expected: dict[str, set[str]] = {owner: set() for owner in owners}
    for n in range(12):
        run, _ = work_log.create_run("run_now", "runner", None, None)
        for owner in owners[: 1 + n % 3]:
            entry = LogEntry(
                at=clock.now().isoformat(),
                document_id=f"doc{n}",
                reference=f"SIN{n:06d}",
                document_type="sales_invoice",
                action="post_document",
                outcome="posted",
                errors=[],
                run_id=run.id,
                attempt=1,
            )
            log_groups.add_entry(groups[owner], entry)
            expected[owner].add(run.id)
    # When two runners migrate at once
    results = race(lambda: run_migrations(), lambda: run_migrations())
    assert not [result for result in results if isinstance(result, Exception)], results
    # Then each run has one participant item per submitter, and no other
    for owner in owners:
        items = list(WorkLogRecord.by_owner.query(f"{PARTICIPANT_OWNER}{owner}"))
        assert sorted(i.pk.removeprefix("RUN#") for i in items) == sorted(expected[owner]), owner
