"""The digest e-mail: what a run tells each submitter, rendered (no sockets)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from background_posting.domain.digest import (
    DocumentFacts,
    compose_digest,
    digest_timezone,
    document_amount,
)
from background_posting.domain.documents import Document
from background_posting.domain.run_results import RecipientResults, results_of_run
from background_posting.domain.work import LogEntry, LogGroup
from background_posting.services.digest_email import money, render_digest

RUN = "run-2"
BASE = "https://books.example.com/worker-log-groups"
_clock = itertools.count()


def entry(
    reference: str,
    outcome: str = "posted",
    errors: list[dict[str, Any]] | None = None,
    run_id: str = RUN,
    action: str = "post_document",
    document_type: str = "sales_invoice",
    attempt: int = 1,
    **extra: Any,
) -> LogEntry:
    """A log entry; entries are made in time order, as the worker writes them."""
    at = datetime(2026, 11, 24, 9, 0, next(_clock) % 60, next(_clock) * 1000 % 999_999, UTC)
    return LogEntry(
        at=at.isoformat(),
        document_id=f"id-{reference}",
        reference=reference,
        document_type=document_type,
        action=action,
        outcome=outcome,
        errors=errors or [],
        run_id=run_id,
        attempt=attempt,
        **extra,
    )


def group(entries: list[LogEntry], owner: str = "clerk", group_id: str = "g1") -> LogGroup:
    return LogGroup(
        id=group_id,
        owner=owner,
        email=f"{owner}@example.com",
        title="Documents posted from a list view",
        created_at="2026-11-24T08:00:00+00:00",
        entries=entries,
    )


def facts(currency: str = "GBP", amount: str = "1234.50", **extra: Any) -> DocumentFacts:
    return DocumentFacts("ACME", "CUST01", currency, Decimal(amount), **extra)


SUFFIX = "(Run Now, 24 Nov 2026 09:00 UTC)"


def rendered(
    recipient: RecipientResults,
    known: dict[str, DocumentFacts] | None = None,
    reminders: bool = False,
    timezone: str = "UTC",
    trigger: str = "run_now",
    started: str = "2026-11-24T09:00:00+00:00",
) -> Any:
    digest = compose_digest(
        RUN,
        trigger,
        started,
        recipient,
        known or {},
        lambda group_id: f"{BASE}/{group_id}",
        reminders,
        timezone,
    )
    return render_digest(digest)


def only(groups: list[LogGroup]) -> RecipientResults:
    (recipient,) = results_of_run(RUN, groups)
    return recipient


def test_a_run_that_posted_everything_says_so_with_amounts_and_transaction_numbers() -> None:
    # Given a run that posted three invoices of the clerk's list view
    recipient = only([group([entry("SIN000001"), entry("SIN000002"), entry("SIN000003")])])
    known = {
        "id-SIN000001": facts(amount="1234.5", transaction_number="TRN000011"),
        "id-SIN000002": facts(amount="0.99", transaction_number="TRN000012"),
        "id-SIN000003": facts(amount="10", transaction_number="TRN000013"),
    }
    # When the digest is rendered
    email = rendered(recipient, known)
    # Then it goes to the clerk, says what happened, and lists every document
    assert email.to == "clerk@example.com"
    assert email.subject == f"Background posting: 3 posted, 0 failed {SUFFIX}"
    assert email.text.splitlines()[0] == "Run Now on 24 Nov 2026 09:00 UTC: 3 posted, 0 failed."
    assert email.text.splitlines()[1] == "Nothing needs your attention."
    for part in (email.text, email.html):
        assert "Run Now on 24 Nov 2026 09:00 UTC: 3 posted, 0 failed." in part
        assert f"{BASE}/g1" in part
        for number, amount, transaction in (
            ("SIN000001", "£1,234.50", "TRN000011"),
            ("SIN000002", "£0.99", "TRN000012"),
            ("SIN000003", "£10.00", "TRN000013"),
        ):
            assert number in part and amount in part and f"Posted as {transaction}" in part
    assert "ACME / CUST01" in email.text


def test_a_failure_shows_every_error_in_full_and_comes_first() -> None:
    errors = [
        {"code": "period_closed", "message": "Period 2026-10 is closed.", "field": "document_date"},
        {"code": "currency_not_traded", "message": "CUST01 does not trade in <USD> & co."},
        {
            "code": "unexpected_error",
            "message": "KeyError: 'rate'",
            "trace": 'Traceback (most recent call last):\n  File "ledger.py", line 9\nKeyError',
        },
    ]
    recipient = only([group([entry("SIN000001"), entry("SIN000002", "failed", errors)])])

    email = rendered(recipient, {"id-SIN000002": facts()})

    assert email.subject == f"Background posting: 1 posted, 1 failed {SUFFIX}"
    text = email.text
    assert text.splitlines()[1] == (
        "1 document needs your attention: each is listed below with what went wrong and what to do."
    )
    assert text.index("SIN000002") < text.index("SIN000001")  # failures first
    assert (
        "Not posted: posting failed (attempt 1); it is tried again in the next run. If the "
        "document itself must change, open it in the console and press Cancel background "
        "posting (it is In Progress again, out of the background); correct it there and post "
        "it again." in text
    )
    # the submitter's own button, never setting it back, which its worker items refuse
    assert "set it back" not in text.lower() and "administrator" not in text
    assert " posted in" not in text.split("SIN000002")[1].split("SIN000001")[0]
    assert "Period 2026-10 is closed. [period_closed, field document_date]" in text
    assert "CUST01 does not trade in <USD> & co. [currency_not_traded]" in text
    assert 'File "ledger.py", line 9' in text
    # the HTML part escapes what users typed, and keeps the trace
    assert "CUST01 does not trade in &lt;USD&gt; &amp; co." in email.html
    assert "<USD>" not in email.html
    assert "KeyError: &#39;rate&#39;" in email.html
    assert "ledger.py" in email.html


def test_every_one_of_many_errors_is_listed() -> None:
    errors = [
        {"code": "line_value_too_large", "message": f"Line {n}: the value exceeds 10,000.00."}
        for n in range(1, 61)
    ]
    recipient = only([group([entry("JNL000007", "failed", errors, document_type="journal")])])

    email = rendered(recipient)

    assert email.subject == f"Background posting: 0 posted, 1 failed {SUFFIX}"
    for n in range(1, 61):
        assert f"Line {n}: the value exceeds 10,000.00." in email.text
        assert f"Line {n}: the value exceeds 10,000.00." in email.html
    assert "JNL000007 - Journal" in email.text


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [
        ("GBP", "1234.5", "£1,234.50"),
        ("EUR", "99.999", "€100.00"),
        ("USD", "-42", "-US$42.00"),
        ("JPY", "1234.5", "JP¥1,235"),
        ("KWD", "1.2345", "KWD1.235"),
    ],
)
def test_amounts_are_shown_in_their_currency(currency: str, amount: str, shown: str) -> None:
    assert money(Decimal(amount), currency) == shown


def test_documents_in_several_currencies_each_show_their_own() -> None:
    recipient = only([group([entry("SIN000001"), entry("SIN000002"), entry("SIN000003")])])
    known = {
        "id-SIN000001": facts("JPY", "150000"),
        "id-SIN000002": facts("KWD", "12.345"),
        "id-SIN000003": facts("EUR", "0.5"),
    }
    email = rendered(recipient, known)
    for part in (email.text, email.html):
        assert "JP¥150,000" in part and "KWD12.345" in part and "€0.50" in part


def test_a_document_failing_again_with_the_same_errors_is_named_not_repeated() -> None:
    same = [{"code": "period_closed", "message": "Period 2026-10 is closed."}]
    # Given SIN000002 failed in the previous run with the same error, SIN000003 with another
    earlier = [
        entry("SIN000002", "failed", same, run_id="run-1"),
        entry("SIN000003", "failed", [{"code": "x", "message": "Old"}], run_id="run-1"),
    ]
    now = [
        entry("SIN000001"),
        entry("SIN000002", "failed", same, attempt=2),
        entry("SIN000003", "failed", same, attempt=2),
    ]
    recipient = only([group(earlier + now)])
    # Then SIN000002 is a repeat, SIN000003 is news (its errors changed)
    assert {r.reference: r.repeat for r in recipient.results} == {
        "SIN000001": False,
        "SIN000002": True,
        "SIN000003": False,
    }
    email = rendered(recipient)
    assert email.subject == f"Background posting: 1 posted, 2 failed {SUFFIX}"
    assert email.text.count("Period 2026-10 is closed.") == 1  # SIN000003's, not SIN000002's
    assert "Still failing with the same errors as in the previous run" in email.text
    assert "the worker log has them): SIN000002" in email.text
    # With reminders, SIN000002 is reported in full again
    reminded = rendered(recipient, reminders=True)
    assert reminded.text.count("Period 2026-10 is closed.") == 2
    assert "Still failing" not in reminded.text


def test_unchanged_failures_alone_send_nothing_unless_reminders_are_on() -> None:
    same = [{"code": "period_closed", "message": "Period 2026-10 is closed."}]
    recipient = only(
        [
            group(
                [
                    entry("SIN000002", "failed", same, run_id="run-1"),
                    entry("SIN000002", "failed", same, attempt=2),
                ]
            )
        ]
    )
    assert not recipient.needs_email(reminders=False)
    assert recipient.needs_email(reminders=True)


def test_the_last_attempt_is_news_even_with_unchanged_errors() -> None:
    same = [{"code": "period_closed", "message": "Period 2026-10 is closed."}]
    back = [{"code": "max_attempts_reached", "message": "SIN000002 failed 3 times."}]
    recipient = only(
        [
            group(
                [
                    entry("SIN000002", "failed", same, run_id="run-1", attempt=2),
                    entry("SIN000002", "failed", same, attempt=3),
                    entry("SIN000002", "returned_to_in_progress", back, attempt=3),
                ]
            )
        ]
    )
    assert recipient.needs_email(reminders=False)
    email = rendered(recipient)
    assert email.subject == (
        f"Background posting: 0 posted, 1 failed (1 returned to In Progress) {SUFFIX}"
    )
    assert (
        "Not posted: returned to In Progress after 3 failed attempts. Open it in the console, "
        "correct what the errors below say, and post it again." in email.text
    )
    assert "Period 2026-10 is closed." in email.text and "SIN000002 failed 3 times." in email.text


def test_follow_up_work_on_a_posted_invoice_reads_as_such() -> None:
    journals_failed = [{"code": "period_closed", "message": "Period 2026-12 is closed."}]
    recipient = only(
        [
            group(
                [
                    entry("SIN000001"),
                    entry(
                        "SIN000001",
                        "completed",
                        action="income_schedule_journals",
                        documents=["JNL000004", "JNL000005"],
                    ),
                    entry("SIN000002"),
                    entry("SIN000002", "failed", journals_failed, action="adjustment_journal"),
                ]
            )
        ]
    )
    email = rendered(recipient, {"id-SIN000001": facts(transaction_number="TRN000001")})
    assert "Posted as TRN000001; created JNL000004, JNL000005" in email.text
    assert (
        "Posted; adjustment journal failed (attempt 1); it is tried again in the next run."
        in email.text
    )


def test_a_later_stage_of_an_avatax_document_is_reported_as_a_step_done() -> None:
    overdue = [{"code": "max_attempts_reached", "message": "The tax is still not committed."}]
    refused = [{"code": "avatax_error", "message": "AvaTax: the company is locked."}]
    recipient = only(
        [
            group(
                [
                    entry("SIN000001", "tax_committed", action="commit_tax"),
                    entry("SIN000002", "failed", refused, action="commit_tax", attempt=3),
                    entry("SIN000002", "tax_commit_overdue", overdue, action="commit_tax"),
                ]
            )
        ]
    )
    email = rendered(recipient)
    assert email.subject == (
        f"Background posting: 0 posted, 1 failed, 1 follow-up step done {SUFFIX}"
    )
    assert "Tax commit done" in email.text
    assert "Tax commit failed (attempt 3); it is tried again in the next run." in email.text
    assert "Not posted" not in email.text  # the invoice was posted in an earlier run
    assert "AvaTax: the company is locked." in email.text
    assert "The tax is still not committed." in email.text


def test_one_digest_per_person_whatever_the_number_of_their_log_groups() -> None:
    groups = [
        group([entry("SIN000001")], owner="clerk", group_id="g1"),
        group([entry("PIN000001", document_type="payable_invoice")], owner="clerk", group_id="g2"),
        group([entry("SIN000002")], owner="lister", group_id="g3"),
        group([entry("SIN000009", run_id="another-run")], owner="runner", group_id="g4"),
    ]
    recipients = results_of_run(RUN, groups)
    assert [(r.recipient, [g.group_id for g in r.groups]) for r in recipients] == [
        ("clerk", ["g1", "g2"]),
        ("lister", ["g3"]),
    ]
    email = rendered(recipients[0])
    assert f"{BASE}/g1" in email.text and f"{BASE}/g2" in email.text
    assert "Payable invoice" in email.text


def test_nothing_to_do_alone_sends_nothing() -> None:
    why = [{"code": "nothing_to_do", "message": "SIN000001 was already posted"}]
    recipient = only([group([entry("SIN000001", "skipped", why)])])
    assert not recipient.needs_email(reminders=True)


def test_the_amount_is_net_of_tax_and_a_journals_is_its_debits() -> None:
    common: dict[str, Any] = {
        "id": "d",
        "number": "X",
        "company": "ACME",
        "document_date": "2026-11-20",
        "tax_mode": "builtin",
        "created_at": "2026-11-20T00:00:00+00:00",
        "created_by": "clerk",
        "updated_at": "2026-11-20T00:00:00+00:00",
    }
    invoice = Document.model_validate(
        common
        | {
            "type": "sales_invoice",
            "account": "CUST01",
            "currency": "JPY",
            "lines": [
                {"quantity": "3", "unit_price": "100.4", "tax_code": "STD"},
                {"quantity": "1", "unit_price": "0.4"},
            ],
        }
    )
    journal = Document.model_validate(
        common
        | {
            "type": "journal",
            "account": None,
            "currency": "GBP",
            "lines": [
                {"gl_account": "6000", "value": "100.10"},
                {"gl_account": "6100", "value": "20"},
                {"gl_account": "2400", "value": "-120.10"},
            ],
        }
    )
    assert document_amount(invoice) == Decimal("302")  # 301.6 rounded to yen
    assert document_amount(journal) == Decimal("120.10")


def test_each_document_shows_net_tax_and_total() -> None:
    # Given a posted invoice of net 239.88 with 47.98 tax (total 287.86), in US dollars
    recipient = only([group([entry("SIN000001")])])
    known = {
        "id-SIN000001": facts(
            "USD", "239.88", tax=Decimal("47.98"), total=Decimal("287.86"), transaction_number="T1"
        )
    }
    # When the digest is rendered
    email = rendered(recipient, known)
    # Then the reader sees all three, named
    assert "Net US$239.88, tax US$47.98, total US$287.86" in email.text
    for header in ("<th", ">Net</th>", ">Tax</th>", ">Total</th>"):
        assert header in email.html
    assert "US$239.88" in email.html and "US$47.98" in email.html and "US$287.86" in email.html


def test_an_avatax_document_without_calculated_tax_says_so() -> None:
    recipient = only([group([entry("SIN000001", "failed", [{"code": "x", "message": "No."}])])])
    email = rendered(recipient, {"id-SIN000001": facts(amount="100")})
    assert "Net £100.00, tax not calculated yet" in email.text
    assert "not calculated yet" in email.html


def test_times_are_shown_in_the_company_time_zone_not_utc() -> None:
    # Given a run at 06:41 UTC on 1 December, and a company in Berlin
    recipient = only([group([entry("SIN000001")])])
    known = {"id-SIN000001": facts(timezone="Europe/Berlin")}
    zone = digest_timezone(None, known, "Europe/London")
    assert zone == "Europe/Berlin"
    # When the digest is rendered in that zone
    email = rendered(recipient, known, timezone=zone, started="2026-12-01T06:41:00+00:00")
    # Then the time is Berlin's, with its abbreviation, and the zone is named
    assert email.subject.endswith("(Run Now, 1 Dec 2026 07:41 CET)")
    assert email.text.startswith("Run Now on 1 Dec 2026 07:41 CET: 1 posted, 0 failed.")
    assert "UTC" not in email.text and "UTC" not in email.html
    assert "Times are in Europe/Berlin time." in email.text
    # and in London's summer time a morning run reads BST
    summer = rendered(recipient, known, timezone="Europe/London", started="2026-07-01T06:41:00Z")
    assert "1 Jul 2026 07:41 BST" in summer.subject


def test_the_time_zone_is_the_users_choice_else_the_one_company_else_the_organisations() -> None:
    london = {"a": facts(timezone="Europe/London")}
    mixed = london | {"b": facts(timezone="America/New_York")}
    assert digest_timezone("Asia/Tokyo", london, "UTC") == "Asia/Tokyo"
    assert digest_timezone(None, london, "UTC") == "Europe/London"
    assert digest_timezone(None, mixed, "Europe/Paris") == "Europe/Paris"
    assert digest_timezone(None, {}, "Europe/Paris") == "Europe/Paris"


def test_the_email_tells_people_what_to_do_in_the_console_not_which_api_to_call() -> None:
    recipient = only([group([entry("SIN000001", "failed", [{"code": "x", "message": "No."}])])])
    email = rendered(recipient)
    for part in (email.text, email.html):
        assert "Open the worker log in the console" in part
        assert "turn on Reminders in" in part and "notification settings in the console" in part
        assert "PUT /" not in part and "/me/notifications" not in part
        assert "DELETE /" not in part and "PATCH /" not in part


def test_the_heading_of_a_failed_documents_group_says_what_happened_not_posted() -> None:
    # Given a log group for one document sent to the background, which failed
    failed = group([entry("PIN000006", "failed", [{"code": "x", "message": "No."}])])
    failed = LogGroup(
        failed.id,
        failed.owner,
        failed.email,
        "PIN000006 sent to the background (more lines than the threshold)",
        failed.created_at,
        failed.entries,
    )
    email = rendered(only([failed]))
    # Then its heading gives the title and this run's outcome, and never says posted
    heading = (
        "== PIN000006 sent to the background (more lines than the threshold): 0 posted, 1 failed =="
    )
    assert heading in email.text
    assert "PIN000006 posted" not in email.text and "PIN000006 posted" not in email.html


def test_two_runs_of_one_morning_have_different_subjects_and_first_lines() -> None:
    recipient = only([group([entry("SIN000001")])])
    early = rendered(recipient, started="2026-12-01T06:41:00Z", timezone="Europe/London")
    later = rendered(
        recipient, started="2026-12-01T09:15:00Z", timezone="Europe/London", trigger="schedule"
    )
    assert early.subject != later.subject
    assert early.text.splitlines()[0] == "Run Now on 1 Dec 2026 06:41 GMT: 1 posted, 0 failed."
    assert later.text.splitlines()[0] == (
        "The scheduled run on 1 Dec 2026 09:15 GMT: 1 posted, 0 failed."
    )
    assert (
        later.subject
        == "Background posting: 1 posted, 0 failed (Scheduled run, 1 Dec 2026 09:15 GMT)"
    )


def test_payable_invoices_waiting_for_goods_are_counted_apart_from_failures() -> None:
    # Given a run in which one invoice posted, one failed and two wait for goods
    recipient = only(
        [
            group(
                [
                    entry("PIN000001", document_type="payable_invoice"),
                    entry("PIN000002", "failed", [{"code": "x", "message": "No."}]),
                    entry(
                        "PIN000003",
                        "waiting_for_goods",
                        [{"code": "verification_failed", "message": "Received 90 of 100."}],
                        action="verify_invoice",
                        document_type="payable_invoice",
                    ),
                    entry(
                        "PIN000004",
                        "waiting_for_goods",
                        action="verify_invoice",
                        document_type="payable_invoice",
                    ),
                ]
            )
        ]
    )
    email = rendered(recipient)
    # Then subject and first line count them, and they are news worth an e-mail
    assert email.subject.startswith("Background posting: 1 posted, 1 failed, 2 waiting for goods")
    assert email.text.splitlines()[0].endswith(": 1 posted, 1 failed, 2 waiting for goods.")
    assert "2 payable invoices wait for goods to be received" in email.text.splitlines()[1]
    assert "Waiting for goods: invoice verification found less received than invoiced" in (
        email.text
    )
    assert "Received 90 of 100." in email.text
    # and what to do names the buttons of the invoice's page in the console
    for part in (email.text, email.html):
        assert (
            "On its page in the console: Reschedule verification, Set back to In Progress (to "
            "change it) or Discard." in part
        )


def test_an_invoice_whose_verification_failed_short_of_goods_waits_and_is_said_once() -> None:
    # Given a run in which the worker's verification item failed short of goods (as logged),
    # and another whose verification failed for another reason
    short = [{"code": "invoice_verification_failed", "message": "Expected GBP 1,000.00."}]
    entries = [
        entry(
            "PIN000001", "failed", short, action="verify_invoice", document_type="payable_invoice"
        ),
        entry(
            "PIN000002",
            "failed",
            [{"code": "period_closed", "message": "Closed."}],
            action="verify_invoice",
            document_type="payable_invoice",
        ),
    ]
    recipient = only([group(entries)])
    email = rendered(recipient)
    # Then the first waits for goods, the second is a failure
    assert email.subject.startswith("Background posting: 0 posted, 1 failed, 1 waiting for goods")
    assert "Waiting for goods receipts: verified again in every run" in email.text
    # And the next run, finding it short the same way, repeats it: no e-mail without reminders
    again = [
        entry(
            "PIN000001",
            "failed",
            short,
            action="verify_invoice",
            document_type="payable_invoice",
            run_id="run-3",
        )
    ]
    (later,) = results_of_run("run-3", [group(entries + again)])
    assert not later.needs_email(reminders=False) and later.needs_email(reminders=True)
