"""E-mail digests: one per run and submitter, never twice, silenced by deleting a log group.

The functions run as Lambda runs them (moto for DynamoDB, SQS and SES); the race between two
overlapping deliveries runs on DynamoDB Local, whose conditional writes are the real ones.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.domain.notifications import DeliveryFailed, Email
from background_posting.domain.work import LogEntry
from background_posting.services import notification_service
from background_posting.store import base as store_base
from background_posting.store import digest_claims, log_groups, work_log
from infra.emails import sent_emails
from tests.support.concurrency import race
from tests.support.office import CLOSED_PERIOD, Office


def emails_to(address: str) -> list[dict[str, Any]]:
    return [email for email in sent_emails() if email["to"] == [address]]


@pytest.fixture
def office(api: Any, aws: Settings) -> Office:
    return Office(api, aws)


def test_after_run_now_each_submitter_has_one_email_listing_every_result(office: Office) -> None:
    # Given the clerk queued a good and a bad invoice, and the lister two good ones
    good, bad = office.queue("clerk")[0], office.queue("clerk", **CLOSED_PERIOD)[0]
    listed = office.queue("lister", count=2)
    # When Run Now has processed everything and the digests have gone
    run_id = office.run_now()
    office.process()
    office.send_digests()
    # Then each submitter has exactly one e-mail, listing every one of their results
    (clerks,) = emails_to("clerk@example.com")
    (listers,) = emails_to("lister@example.com")
    assert clerks["subject"].startswith("Background posting: 1 posted, 1 failed (Run Now, ")
    assert listers["subject"].startswith("Background posting: 2 posted, 0 failed (Run Now, ")
    # in the company's time zone (Europe/London: GMT in November), not UTC
    assert clerks["subject"].endswith(" GMT)") and "UTC" not in clerks["text"]
    for part in ("text", "html"):
        assert good["number"] in clerks[part] and bad["number"] in clerks[part]
        assert "period_closed" in clerks[part]
        assert all(d["number"] in listers[part] for d in listed)
        assert good["number"] not in listers[part]
    assert "Net £45.49, tax £7.50, total £52.99" in clerks["text"]  # 3 x 12.50 + 7.99
    groups = office.call("GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    assert all(f"/worker-log-groups/{g['id']}" in clerks["text"] for g in groups)
    run = office.call("GET", f"/runs/{run_id}", "runner").body
    assert run["status"] == "completed with failures" and run["counts"]["processed"] == 4
    # And when Lambda retries the notification, and SQS delivers the request once more,
    # nobody gets a second e-mail
    assert office.notify(run_id) == {"batchItemFailures": []}
    assert office.notify(run_id) == {"batchItemFailures": []}
    assert len(emails_to("clerk@example.com")) == len(emails_to("lister@example.com")) == 1


class Killed(BaseException):
    """The function's sandbox dies (a timeout): no `except Exception` sees it."""


def test_a_refused_or_cut_off_send_leaves_posting_untouched_and_is_sent_once_later(
    office: Office,
    aws: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given SES refuses the sender (not a verified identity)
    store_base.bind(aws.model_copy(update={"ses_from_address": "nobody@unverified.example"}))
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    documents = office.queue("clerk", count=2)
    run_id = office.run_now()
    office.process()
    capsys.readouterr()
    # When the digest is attempted
    answer = office.notify(run_id)
    # Then the request fails (to be retried), the failure is counted, nothing is sent ...
    assert len(answer["batchItemFailures"]) == 1
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [m["NotificationSendFailures"] for m in printed if "NotificationSendFailures" in m]
    assert emails_to("clerk@example.com") == []
    # ... and posting is untouched: the documents are Complete, the run finished
    assert {office.status(d) for d in documents} == {"Complete"}
    run = office.call("GET", f"/runs/{run_id}", "runner").body
    assert run["status"] == "completed" and run["counts"]["posted"] == 2

    # Given SES is back, but the next invocation dies after its claim, before calling SES
    store_base.bind(aws)

    def dies(self: Any, email: Email) -> str:
        raise Killed()

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr("background_posting.adapters.ses.Mailer.send", dies)
        notification_service.send_digests(run_id)
    # When the request is retried at once, the claim still holds: nothing is sent yet
    assert len(office.notify(run_id)["batchItemFailures"]) == 1
    assert emails_to("clerk@example.com") == []
    # And once the hold has passed, the retry sends it, once
    office.clock.advance(aws.notification_hold_seconds + 1)
    assert office.notify(run_id) == {"batchItemFailures": []}
    assert office.notify(run_id) == {"batchItemFailures": []}
    (email,) = emails_to("clerk@example.com")
    assert all(d["number"] in email["text"] for d in documents)


def test_two_overlapping_runs_send_each_submitter_one_email(office: Office) -> None:
    # Given two runs started before either was processed: both queue the same documents
    documents = office.queue("clerk", count=2)
    first, second = office.run_now(), office.run_now()
    office.process()
    office.send_digests()
    # Then every document is posted once, and the clerk has one e-mail naming each once
    assert {office.status(d) for d in documents} == {"Complete"}
    (email,) = emails_to("clerk@example.com")
    assert email["subject"].startswith("Background posting: 2 posted, 0 failed (")
    assert all(email["text"].count(d["number"]) == 1 for d in documents)
    runs = [office.call("GET", f"/runs/{r}", "runner").body for r in (first, second)]
    assert sorted(r["counts"]["posted"] for r in runs) == [0, 2]
    assert all(r["status"] == "completed" for r in runs)


def test_deleting_a_log_group_stops_every_further_email_about_it(office: Office) -> None:
    # Given a document that failed its first of two attempts, and the clerk got the digest
    office.call("PUT", "/settings/background-posting", "admin", {"max_attempts": 2})
    (bad,) = office.queue("clerk", **CLOSED_PERIOD)
    office.run_now()
    office.process()
    office.send_digests()
    assert len(emails_to("clerk@example.com")) == 1
    # When the clerk deletes its log group, then queues another document, and a run fails
    # the first again (its last attempt: it goes back to In Progress) and posts the second
    (group,) = office.call("GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    assert office.call("DELETE", f"/worker-log-groups/{group['id']}", "clerk").status == 204
    (good,) = office.queue("clerk")
    office.run_now()
    office.process()
    office.send_digests()
    # Then the new e-mail is about the new document only
    assert (office.status(bad), office.status(good)) == ("In Progress", "Complete")
    _, second = emails_to("clerk@example.com")
    assert good["number"] in second["text"] and bad["number"] not in second["text"]
    assert second["subject"].startswith("Background posting: 1 posted, 0 failed (")


def test_an_unchanged_failure_is_mailed_again_only_with_reminders(office: Office) -> None:
    office.call("PUT", "/settings/background-posting", "admin", {"max_attempts": 5})
    office.queue("clerk", **CLOSED_PERIOD)
    for _ in range(2):  # the first run's failure is news; the second's is the same again
        office.run_now()
        office.process()
        office.send_digests()
    assert len(emails_to("clerk@example.com")) == 1
    # When the clerk asks for reminders, the next run's unchanged failure is mailed in full
    answer = office.call("PUT", "/me/notifications", "clerk", {"reminders": True})
    assert answer.status == 200 and answer.body == {"reminders": True, "timezone": None}
    clerks = office.call("GET", "/me/notifications", "clerk").body
    assert clerks == {"reminders": True, "timezone": None}
    listers = office.call("GET", "/me/notifications", "lister").body
    assert listers == {"reminders": False, "timezone": None}
    office.run_now()
    office.process()
    office.send_digests()
    reminders = emails_to("clerk@example.com")
    assert len(reminders) == 2
    assert "attempt 3" in reminders[1]["text"] and "period_closed" in reminders[1]["text"]
    refused = office.call("PUT", "/me/notifications", "clerk", {"reminders": "often"})
    assert refused.status == 400 and refused.error_code == "invalid_request"


# -- two deliveries at the same moment, on DynamoDB Local -----------------------------------


class FakeMailer:
    """Records what would go to SES (thread-safe enough: list.append is atomic)."""

    def __init__(self, refuse: Callable[[Email], bool] = lambda email: False):
        self.sent: list[Email] = []
        self.refuse = refuse

    def send(self, email: Email) -> str:
        if self.refuse(email):
            raise DeliveryFailed(f"refused {email.to}")
        self.sent.append(email)
        return uuid.uuid4().hex


def finished_run(owners: list[str]) -> str:
    """A finished run that posted one document for each owner's log group."""
    run, _ = work_log.create_run("run_now", "runner", None, None)
    for n, owner in enumerate(owners):
        group = log_groups.create_group(owner, f"{owner}@example.com", "From a list view", ["ACME"])
        log_groups.add_entry(
            group,
            LogEntry(
                at=f"2026-11-24T09:00:0{n}+00:00",
                document_id=f"doc{n}",
                reference=f"SIN00000{n}",
                document_type="sales_invoice",
                action="post_document",
                outcome="posted",
                errors=[],
                run_id=run.id,
                attempt=1,
            ),
        )
    work_log.advance_run(run, None, len(owners), True)
    for _ in owners:
        work_log.count_done(run.id)
    assert work_log.get_run(run.id).finished
    return run.id


def test_overlapping_deliveries_of_one_request_send_each_digest_once(
    local_store: Settings,
) -> None:
    run_id = finished_run(["clerk", "lister"])
    mailer = FakeMailer()

    results = race(*(lambda: notification_service.send_digests(run_id, mailer) for _ in range(6)))

    assert sorted(e.to for e in mailer.sent) == ["clerk@example.com", "lister@example.com"]
    unexpected = [
        r
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, notification_service.DigestBeingSent)
    ]
    assert unexpected == []
    assert notification_service.send_digests(run_id, mailer).sent_before == ["clerk", "lister"]
    assert len(mailer.sent) == 2


def test_one_refused_digest_does_not_hold_back_the_others(local_store: Settings) -> None:
    run_id = finished_run(["clerk", "lister"])
    flaky = FakeMailer(refuse=lambda email: email.to == "lister@example.com")
    with pytest.raises(notification_service.DigestsNotSent) as refused:
        notification_service.send_digests(run_id, flaky)
    assert refused.value.details["recipients"] == ["lister"]
    assert [e.to for e in flaky.sent] == ["clerk@example.com"]
    assert digest_claims.digest_state(run_id, "lister") == "unsent"
    # The retry sends only the one that is missing
    healed = FakeMailer()
    report = notification_service.send_digests(run_id, healed)
    assert (report.sent, report.sent_before) == (["lister"], ["clerk"])
    assert [e.to for e in healed.sent] == ["lister@example.com"]


def test_the_email_shows_times_in_the_time_zone_the_reader_chose(office: Office) -> None:
    # Given the clerk chose Tokyo time for their e-mails (the company is in London)
    chosen = office.call(
        "PUT", "/me/notifications", "clerk", {"reminders": False, "timezone": "Asia/Tokyo"}
    )
    assert chosen.status == 200 and chosen.body["timezone"] == "Asia/Tokyo"
    bad = office.call("PUT", "/me/notifications", "clerk", {"timezone": "Mars/Base"})
    assert bad.status == 400 and bad.body["error"]["message"].startswith("Time zone: 'Mars/Base'")
    # When a run posts their invoice
    office.queue("clerk")
    office.run_now()
    office.process()
    office.send_digests()
    # Then the subject and first line read in Japan Standard Time
    (email,) = emails_to("clerk@example.com")
    assert email["subject"].endswith(" JST)")
    assert " JST: 1 posted, 0 failed." in email["text"].splitlines()[0]
    assert "Times are in Asia/Tokyo time." in email["text"]


def test_one_document_whose_amounts_cannot_be_read_never_silences_the_digest(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the clerk queued two invoices, one of which holds data its amounts cannot be worked
    # out from (as an invoice of more than 10^28 did before amounts were bounded at entry)
    good, bad = office.queue("clerk")[0], office.queue("clerk")[0]
    office.run_now()
    office.process()
    real_totals = notification_service.document_totals

    def totals(document: Any, company: Any) -> Any:
        if document.id == bad["id"]:
            raise ArithmeticError("[<class 'decimal.InvalidOperation'>]")
        return real_totals(document, company)

    monkeypatch.setattr(notification_service, "document_totals", totals)
    # When the digests go
    office.send_digests()
    # Then the clerk still has the one e-mail, with both results; the bad row says what failed
    (email,) = emails_to("clerk@example.com")
    assert email["subject"].startswith("Background posting: 2 posted, 0 failed")
    for part in ("text", "html"):
        assert good["number"] in email[part] and bad["number"] in email[part]
        assert "Amounts not shown: its amounts could not be read (ArithmeticError)" in email[part]
    assert "Net £45.49, tax £7.50, total £52.99" in email["text"]
