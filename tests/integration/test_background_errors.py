"""A document that background posting gave back carries its last errors until amended or posted
(moto: the worker's retries in turn, no overlap needed)."""

from __future__ import annotations

from datetime import date

from background_posting.config import Settings
from background_posting.domain.company import CompanyPatch, Period
from background_posting.domain.document_input import DocumentPatch
from background_posting.domain.documents import COMPLETE, IN_PROGRESS, Document
from background_posting.services import (
    background_service,
    document_service,
    posting,
    reference_data,
    worker,
)
from background_posting.store import document_store, log_groups, work_log
from tests.support.scenario import ADMIN, given_company, given_document

FOREVER = lambda: 900.0  # noqa: E731 - an invocation with plenty of time left


def read(document: Document) -> Document:
    return document_store.get_document(document.id, with_lines=False).document


def returned_after_three_runs(document: Document) -> Document:
    """Send `document` to the background and let three runs fail it (the default maximum)."""
    (queued,) = background_service.post_from_list_view(ADMIN, [document.id])
    for _ in range(3):
        run = work_log.create_run("schedule", "scheduler", None, None)[0]
        worker.process(worker.Message(run.id, queued.id), "w", FOREVER)
    return read(document)


def listed(has_errors: bool | None) -> list[str]:
    page = document_service.list_documents(ADMIN, "ACME", None, None, 50, None, has_errors)
    return [d.number for d in page.documents]


def test_a_document_returned_after_its_log_group_was_deleted_keeps_the_group_s_title(
    aws: Settings,
) -> None:
    given_company()
    # Given an invoice dated in a closed period, sent to the background from a list view
    broken = given_document(document_date="2026-10-10")
    (queued,) = background_service.post_from_list_view(ADMIN, [broken.id])
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    # When its submitter deletes the worker log group while its item still waits
    log_groups.delete_group(group.id)
    for _ in range(3):  # and three runs fail it (the default maximum)
        run = work_log.create_run("schedule", "scheduler", None, None)[0]
        worker.process(worker.Message(run.id, queued.id), "w", FOREVER)
    # Then it is back In Progress, and its errors name the group by id and by title
    back = read(broken)
    assert back.status == IN_PROGRESS
    errors = back.last_background_errors
    assert errors is not None and [e.code for e in errors.errors] == ["period_closed"]
    assert errors.log_group == group.id
    assert errors.log_group_title == "1 documents posted from a list view"


def test_the_last_errors_stay_on_the_document_through_the_log_group_deletion_until_amended(
    aws: Settings,
) -> None:
    given_company()
    # Given an invoice dated in a closed period, and one that is fine
    broken = given_document(document_date="2026-10-10")
    fine = given_document()
    # When background posting gives the broken one back after its three attempts
    back = returned_after_three_runs(broken)
    # Then it is In Progress and says why, with the log group the errors came from
    assert back.status == IN_PROGRESS
    errors = back.last_background_errors
    assert errors is not None
    assert errors.step == "post_document" and errors.attempts == 3
    (group,) = log_groups.groups_of(ADMIN.user_id).groups
    assert errors.log_group == group.id
    assert errors.log_group_title == "1 documents posted from a list view"
    assert [e.code for e in errors.errors] == ["period_closed"]
    assert errors.errors[0].message == (
        "SIN000001 is dated 2026-10-10, in period 2026-10, which is closed: date it in an open "
        "period, or ask for the period to be reopened."
    )
    assert errors.errors[0].field == "document_date"
    # and the list view finds it by that, and only it
    assert listed(True) == [broken.number]
    assert listed(False) == [fine.number]
    assert sorted(listed(None)) == sorted([broken.number, fine.number])
    # When the log group is deleted, the document still says why
    log_groups.delete_group(group.id)
    assert read(broken).last_background_errors == errors
    # When the document is amended, its errors go
    amended = document_service.amend_document(
        ADMIN, broken.id, DocumentPatch(document_date=date(2026, 11, 10))
    )
    assert amended.last_background_errors is None
    assert read(broken).last_background_errors is None
    assert listed(True) == []


def test_posting_clears_the_last_errors(aws: Settings) -> None:
    given_company()
    # Given an invoice given back by background posting because its period was closed
    broken = given_document(document_date="2026-10-10")
    assert returned_after_three_runs(broken).last_background_errors is not None
    # When the period is reopened and the invoice posted
    periods = [
        Period(name="2026-11", start=date(2026, 11, 1), end=date(2026, 11, 30)),
        Period(name="2026-10", start=date(2026, 10, 1), end=date(2026, 10, 31)),
    ]
    reference_data.amend_company(ADMIN, "ACME", CompanyPatch(periods=periods))
    posted = posting.post_with_follow_up(ADMIN, read_with_lines(broken))
    # Then it is Complete and carries no errors any more
    assert posted.status == COMPLETE and posted.last_background_errors is None
    assert read(broken).last_background_errors is None


def read_with_lines(document: Document) -> Document:
    return document_store.get_document(document.id).document
