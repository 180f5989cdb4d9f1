"""A whole working day through the API and the background functions, for tests that need one."""

from __future__ import annotations

import json
from typing import Any

import boto3

from background_posting.config import Settings
from infra.avatax_local import put_avatax_secret
from infra.avatax_standin import AvaTaxStandIn
from infra.emails import sent_emails
from infra.lambda_runtime import LocalContext
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.events import load_event
from tests.support.iam import acting_as
from tests.support.purchasing import ORDER_ID, invoice_body, order_body, receipt_body
from tests.support.queues import Drain, load_handler
from tests.support.tax import ACME_OFFICE, avatax_customer, avatax_invoice


def working_day(api: Any, settings: Settings) -> dict[str, Any]:
    """Every route once, a backlog posted by Run Now and a list view's Background Post."""
    seen: dict[str, Any] = {}
    once = {"Idempotency-Key": "working-day-acme"}
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"), headers=once)
    seen["company_again"] = invoke_api(
        api, "POST", "/companies", "admin", company_body("ACME"), headers=once
    )
    seen["refused_once"] = invoke_api(  # refused: its key is not kept
        api, "PATCH", "/companies/NOPE", "admin", {"name": "x"}, headers={"Idempotency-Key": "n"}
    )
    invoke_api(api, "PATCH", "/companies/ACME", "admin", {"name": "Acme Group"})
    invoke_api(api, "GET", "/companies/ACME", "clerk")
    invoke_api(api, "GET", "/companies", "clerk")
    invoke_api(api, "GET", "/accounts?company=ACME&kind=customer", "clerk")
    invoke_api(api, "PUT", "/me/companies", "lister", {"companies": ["ACME"]})
    invoke_api(api, "PUT", "/me/notifications", "clerk", {"reminders": False})
    seen["notification_settings"] = invoke_api(api, "GET", "/me/notifications", "clerk")
    invoke_api(api, "PUT", "/companies/ACME/settings", "admin", {"journal_line_limit": 1})
    invoke_api(api, "GET", "/companies/ACME/settings", "clerk")
    invoke_api(api, "PUT", "/settings/background-posting", "admin", {"max_attempts": 2})
    invoke_api(api, "GET", "/settings/background-posting", "runner")
    invoke_api(api, "POST", "/accounts", "clerk", account_body("CUST01"))
    invoke_api(
        api,
        "POST",
        "/accounts",
        "clerk",
        account_body("VEND01", kind="vendor", trading_currencies=["GBP"]),
    )
    invoke_api(api, "PATCH", "/accounts/CUST01", "clerk", {"name": "Customer One"})
    invoke_api(api, "GET", "/accounts/CUST01", "clerk")

    def create(doc_type: str, **overrides: Any) -> dict[str, Any]:
        body = document_body(doc_type, **overrides)
        answer = invoke_api(api, "POST", "/documents", "clerk", body)
        assert answer.status == 201, answer.body
        return dict(answer.body)

    many_lines = [
        {"description": f"Item {n}", "quantity": "1", "unit_price": "1.10", "tax_code": "STD"}
        for n in range(120)
    ]
    big = create("sales_invoice", lines=many_lines)
    invoke_api(api, "PATCH", f"/documents/{big['id']}", "clerk", {"lines": many_lines[:110]})
    invoke_api(api, "POST", f"/documents/{big['id']}/lines", "clerk", {"lines": many_lines[:5]})
    seen["big_immediate"] = invoke_api(
        api, "POST", f"/documents/{big['id']}/post", "clerk", {"mode": "immediate"}
    )

    immediate = create("sales_invoice")
    invoke_api(api, "PATCH", f"/documents/{immediate['id']}", "clerk", {"reference": "PO-1"})
    invoke_api(api, "GET", "/documents?company=ACME&type=sales_invoice", "clerk")
    # a list a page at a time: its page token is signed with the key (PageTokenSecret)
    first = invoke_api(api, "GET", "/documents?company=ACME&limit=1", "clerk").body
    seen["second_page"] = invoke_api(
        api, "GET", f"/documents?company=ACME&limit=1&next={first['next']}", "clerk"
    )
    assert seen["second_page"].status == 200, seen["second_page"].body
    posted = invoke_api(
        api, "POST", f"/documents/{immediate['id']}/post", "clerk", {"mode": "auto"}
    )
    seen["immediate"] = posted
    invoke_api(api, "GET", f"/documents/{immediate['id']}/transaction", "clerk")
    # Reference data posted to: refused changes read what was posted; allowed ones are guarded
    seen["period_refused"] = invoke_api(api, "PATCH", "/companies/ACME", "admin", {"periods": []})
    invoke_api(api, "PATCH", "/companies/ACME/periods/2026-10", "admin", {"status": "closed"})
    seen["kind_refused"] = invoke_api(api, "PATCH", "/accounts/CUST01", "admin", {"kind": "vendor"})
    invoke_api(api, "POST", "/accounts", "clerk", account_body("CUST09"))
    seen["kind_changed"] = invoke_api(api, "PATCH", "/accounts/CUST09", "admin", {"kind": "vendor"})
    invoke_api(api, "GET", f"/documents/{immediate['id']}/print", "clerk")
    discarded = create("sales_invoice")
    invoke_api(api, "POST", f"/documents/{discarded['id']}/discard", "clerk")

    # A backlog of every type, queued from a list view; a journal over its line limit
    backlog = [
        create(t)
        for t in (
            "sales_invoice",
            "sales_credit_note",
            "payable_invoice",
            "payable_credit_note",
            "journal",
        )
    ]
    backlog.append(create("sales_invoice", lines=many_lines))
    deferred = document_body("sales_invoice")["lines"]
    deferred[0]["income_schedule"] = {"periods": 3, "frequency": "monthly"}
    backlog.append(create("sales_invoice", lines=deferred))
    seen["list_view"] = invoke_api(
        api, "POST", "/documents/post", "clerk", {"ids": [d["id"] for d in backlog]}
    )
    journal = create("journal")
    seen["journal_button"] = invoke_api(
        api, "POST", f"/documents/{journal['id']}/post", "clerk", {"mode": "auto"}
    )
    withdrawn = create("sales_invoice")
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [withdrawn["id"]]})
    invoke_api(api, "GET", f"/worker-items?reference={withdrawn['number']}", "clerk")
    seen["job_queue"] = invoke_api(api, "GET", "/worker-items?submitted_by=me", "clerk")
    seen["withdraw_refused"] = invoke_api(
        api, "PUT", f"/documents/{withdrawn['id']}/status", "admin", {"status": "In Progress"}
    )
    invoke_api(api, "DELETE", f"/documents/{withdrawn['id']}/worker-items", "admin")
    seen["withdrawn"] = invoke_api(
        api, "PUT", f"/documents/{withdrawn['id']}/status", "admin", {"status": "In Progress"}
    )
    # The clerk takes one queued invoice back, and has another posted now in a run of its own
    cancelled = create("sales_invoice")
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [cancelled["id"]]})
    seen["cancelled"] = invoke_api(
        api, "POST", f"/documents/{cancelled['id']}/cancel-background", "clerk"
    )
    retried = create("sales_invoice")
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [retried["id"]]})
    seen["retry_now"] = invoke_api(api, "POST", f"/documents/{retried['id']}/retry-now", "clerk")
    steering = Drain(settings)
    with acting_as("ScheduledPostingFunction"):
        steering.once("RunQueue")
    with acting_as("PostingWorkerFunction"):
        steering.once("PostingQueue")
    with acting_as("NotificationFunction"):
        steering.once("NotificationQueue")
    seen["retried"] = invoke_api(api, "GET", f"/documents/{retried['id']}", "clerk").body

    seen["schedule_job"] = invoke_api(
        api, "PUT", "/scheduler", "admin", {"frequency": "daily", "time": "02:00"}
    )
    invoke_api(
        api, "PUT", "/scheduler", "admin", {"frequency": "monthly", "day": 31, "time": "23:30"}
    )
    seen["scheduler"] = invoke_api(api, "GET", "/scheduler", "runner")
    seen["unscheduled"] = invoke_api(api, "DELETE", "/scheduler", "admin")

    run = invoke_api(api, "POST", "/scheduler/run", "runner")
    seen["run_now"] = run
    drain = Drain(settings)
    with acting_as("ScheduledPostingFunction"):
        drain.once("RunQueue", seconds=5)  # too little time: hands the run on
        drain.once("RunQueue")
    with acting_as("PostingWorkerFunction"):
        drain.once("PostingQueue", seconds=5)  # too little time: hands the documents on
        while drain.once("PostingQueue"):
            pass
    with acting_as("NotificationFunction"):
        drain.once("NotificationQueue")  # the finished run's digest to its submitter
    with acting_as("ScheduledPostingFunction"):  # a continuation of the run, redelivered...
        drain.sqs.send_message(QueueUrl=settings.run_queue_url, MessageBody=json.dumps(run.body))
        drain.once("RunQueue")
    with acting_as("NotificationFunction"):
        drain.once("NotificationQueue")  # ...asks for the digests again: none is sent twice
    seen["run"] = invoke_api(api, "GET", f"/runs/{run.body['run_id']}", "runner")
    # a submitter who did not start it reads it, and what it did with their work
    seen["run_by_submitter"] = invoke_api(api, "GET", f"/runs/{run.body['run_id']}", "clerk")
    seen["run_results"] = invoke_api(api, "GET", f"/runs/{run.body['run_id']}/results", "clerk")
    seen["runs_of_submitter"] = invoke_api(api, "GET", "/runs?limit=5", "clerk")
    seen["runs"] = invoke_api(api, "GET", "/runs?status=completed&limit=5", "admin")
    seen["backlog"] = [
        invoke_api(api, "GET", f"/documents/{d['id']}", "clerk").body for d in [*backlog, journal]
    ]
    seen["run_now_again"] = invoke_api(api, "POST", "/scheduler/run", "runner")

    late = create("sales_invoice")
    invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [late["id"]]})
    seen["background_post"] = invoke_api(
        api, "POST", "/documents/background-post", "lister", {"type": "sales_invoice"}
    )
    with acting_as("ScheduledPostingFunction"):
        drain.once("RunQueue")
    with acting_as("PostingWorkerFunction"):
        drain.once("PostingQueue")
    seen["late"] = invoke_api(api, "GET", f"/documents/{late['id']}", "clerk").body
    with acting_as("NotificationFunction"):
        drain.once("NotificationQueue")
    seen["emails"] = sent_emails()

    seen |= avatax_stages(api, settings, drain)
    seen |= invoice_verification(api, drain)

    # The schedule fires, and EventBridge delivers the same firing twice
    fired = load_event("scheduler_fired.json")
    with acting_as("ScheduledPostingFunction"):
        scheduled = load_handler("ScheduledPostingFunction")
        seen["scheduled"] = scheduled(fired, LocalContext("ScheduledPostingFunction", 90))
        seen["scheduled_again"] = scheduled(fired, LocalContext("ScheduledPostingFunction", 90))

    groups = invoke_api(api, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    seen["groups"] = groups
    seen["group"] = invoke_api(api, "GET", f"/worker-log-groups/{groups[-1]['id']}", "clerk")
    seen["group_deleted"] = invoke_api(
        api, "DELETE", f"/worker-log-groups/{groups[0]['id']}", "clerk"
    )
    return seen


def avatax_stages(api: Any, settings: Settings, drain: Drain) -> dict[str, Any]:
    """AvaTax documents: one posted with the button (its three stages over two runs), one
    posted at once by the integration API (committed by the next run), and one whose tax was
    calculated but which failed to post and was discarded (its AvaTax transaction voided)."""
    seen: dict[str, Any] = {}
    with AvaTaxStandIn() as standin:
        with acting_as("operator"):  # an operator keeps AvaTax's settings in the secret
            secrets = boto3.client("secretsmanager", region_name="us-east-1")
            put_avatax_secret(secrets, settings.avatax_secret_name, standin.url)
        invoke_api(api, "PATCH", "/companies/ACME", "admin", {"address": ACME_OFFICE})
        invoke_api(api, "POST", "/accounts", "clerk", avatax_customer())

        def create(**overrides: Any) -> dict[str, Any]:
            answer = invoke_api(api, "POST", "/documents", "clerk", avatax_invoice(**overrides))
            assert answer.status == 201, answer.body
            return dict(answer.body)

        def post(document: dict[str, Any], mode: str) -> Any:
            return invoke_api(
                api, "POST", f"/documents/{document['id']}/post", "clerk", {"mode": mode}
            )

        button, at_once, refused = create(), create(), create(document_date="2026-10-10")
        seen["avatax_button"] = post(button, "auto")
        seen["avatax_at_once"] = post(at_once, "immediate")
        seen["avatax_refused"] = post(refused, "immediate")  # calculated, then: period closed
        seen["avatax_discarded"] = invoke_api(
            api, "POST", f"/documents/{refused['id']}/discard", "clerk"
        )
        standin.fail_next("commit", 400)  # the first commit fails: an attempt is counted
        for run_number in (1, 2):
            run = invoke_api(api, "POST", "/scheduler/run", "runner").body
            with acting_as("ScheduledPostingFunction"):
                drain.once("RunQueue")
            with acting_as("PostingWorkerFunction"):
                while drain.once("PostingQueue"):
                    pass
            with acting_as("TaxCommitFunction"):
                drain.once("TaxCommitQueue", seconds=5)  # too little time: hands it on
                while drain.once("TaxCommitQueue"):
                    pass
            seen[f"avatax_run{run_number}"] = {
                "run": invoke_api(api, "GET", f"/runs/{run['run_id']}", "runner").body,
                "button": invoke_api(api, "GET", f"/documents/{button['id']}", "clerk").body,
                "at_once": invoke_api(api, "GET", f"/documents/{at_once['id']}", "clerk").body,
            }
        seen["avatax_transactions"] = {
            code: transaction["status"]
            for (_, code, _), transaction in standin.transactions.items()
        }
    # Every path the policies are checked against was taken
    assert seen["avatax_button"].status == 202 and seen["avatax_at_once"].status == 200
    assert seen["avatax_refused"].status == 422
    assert seen["avatax_discarded"].body["tax"]["status"] == "voided"
    assert seen["avatax_run1"]["at_once"]["tax"]["status"] == "calculated"  # failed once
    assert seen["avatax_run2"]["at_once"]["tax"]["status"] == "committed"
    assert seen["avatax_run2"]["button"]["tax"]["status"] == "committed"
    assert sorted(seen["avatax_transactions"].values()) == ["Cancelled", "Committed", "Committed"]
    return seen


def payables_day(api: Any, settings: Settings) -> dict[str, Any]:
    """After `working_day`: a credit note Post & Matched, a Match undone, the open-items list,
    Save & Post, and a recurring invoice that a Run Now creates and posts."""
    seen: dict[str, Any] = {}
    zero = {"description": "Goods", "quantity": "1", "tax_code": "ZERO"}
    body = document_body("payable_invoice", lines=[zero | {"unit_price": "500.00"}])
    invoice = invoke_api(api, "POST", "/documents", "clerk", body).body
    invoke_api(api, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
    notes = [
        invoke_api(
            api,
            "POST",
            f"/documents/{invoice['id']}/credit-note",
            "clerk",
            {"document_date": "2026-11-20", "lines": [zero | {"unit_price": amount}]},
        ).body
        for amount in ("100.00", "50.00")
    ]
    seen["post_and_match"] = invoke_api(
        api, "POST", f"/documents/{notes[0]['id']}/post-and-match", "clerk"
    )
    invoke_api(api, "POST", f"/documents/{notes[1]['id']}/post", "clerk", {"mode": "auto"})
    seen["match"] = invoke_api(
        api, "POST", f"/documents/{notes[1]['id']}/match", "clerk", {"with": invoice["id"]}
    )
    match_id = seen["match"].body["matches"][0]["id"]
    seen["unmatch"] = invoke_api(api, "DELETE", f"/matches/{match_id}", "clerk")
    seen["open_items"] = invoke_api(
        api, "GET", "/documents?company=ACME&account=VEND01&outstanding=true", "clerk"
    )
    seen["save_and_post"] = invoke_api(
        api, "POST", "/documents/save-and-post", "clerk", document_body("sales_invoice")
    )
    template = document_body("sales_invoice")
    del template["document_date"]
    recurring = invoke_api(
        api,
        "POST",
        "/recurring-invoices",
        "clerk",
        {
            "template": template,
            "frequency": "monthly",
            "start": "2026-11-15",
            "until": "2026-11-30",
            "save_and_post": True,
        },
    ).body
    run = invoke_api(api, "POST", "/scheduler/run", "runner")
    drain = Drain(settings)
    with acting_as("ScheduledPostingFunction"):
        drain.once("RunQueue")
    with acting_as("PostingWorkerFunction"):
        while drain.once("PostingQueue"):
            pass
    seen["recurring_run"] = invoke_api(api, "GET", f"/runs/{run.body['run_id']}", "runner")
    seen["recurring"] = invoke_api(api, "GET", f"/recurring-invoices/{recurring['id']}", "clerk")
    invoke_api(api, "DELETE", f"/recurring-invoices/{recurring['id']}", "clerk")
    return seen


def invoice_verification(api: Any, drain: Drain) -> dict[str, Any]:
    """The source's invoice verified in the background: with errors while goods are missing,
    rescheduled after the second goods receipt, then posted (the order lines invoiced)."""
    seen: dict[str, Any] = {}

    def run() -> None:
        invoke_api(api, "POST", "/scheduler/run", "runner")
        with acting_as("ScheduledPostingFunction"):
            drain.once("RunQueue")
        with acting_as("PostingWorkerFunction"):
            while drain.once("PostingQueue"):
                pass
        with acting_as("NotificationFunction"):
            drain.once("NotificationQueue")

    invoke_api(api, "POST", "/purchase-orders", "clerk", order_body())
    invoke_api(api, "POST", "/goods-receipts", "clerk", receipt_body(1, "100"))
    invoice = invoke_api(api, "POST", "/documents", "clerk", invoice_body()).body
    twice = invoke_api(api, "POST", "/documents", "clerk", invoice_body()).body
    for document in (invoice, twice):
        invoke_api(api, "POST", f"/documents/{document['id']}/post", "clerk", {"mode": "auto"})
    run()
    seen["verification_waiting"] = invoke_api(api, "GET", f"/documents/{invoice['id']}", "clerk")
    seen["verification_discarded"] = invoke_api(
        api, "POST", f"/documents/{twice['id']}/discard", "clerk"
    )
    invoke_api(api, "POST", "/goods-receipts", "clerk", receipt_body(2, "50"))
    seen["verification_rescheduled"] = invoke_api(
        api, "POST", f"/documents/{invoice['id']}/reschedule-verification", "clerk"
    )
    run()
    seen["verification_posted"] = invoke_api(api, "GET", f"/documents/{invoice['id']}", "clerk")
    seen["purchase_order"] = invoke_api(api, "GET", f"/purchase-orders/{ORDER_ID}", "clerk")
    assert seen["verification_waiting"].body["verification"]["status"] == "with_errors"
    assert seen["verification_discarded"].body["status"] == "Discarded"
    assert seen["verification_rescheduled"].status == 200
    assert seen["verification_posted"].body["status"] == "Complete"
    return seen


def upgrade_day() -> dict[str, Any]:
    """After the days above: their posted documents left as a version before matching stored
    them (no `outstanding`) and their runs as a version before participants stored them,
    then the migration function's run over them."""
    from background_posting.migrations import run_migrations
    from background_posting.store.document_store import DocumentRecord

    with acting_as("TestSetup"):
        for record in DocumentRecord.scan(DocumentRecord.sk == "HEADER"):
            body = json.loads(record.body or "{}")
            if body.get("outstanding") is not None:
                record.body = json.dumps({k: v for k, v in body.items() if k != "outstanding"})
                record.save()
        # ...and runs without participants, as runs were stored before they recorded them
        from background_posting.store.work_log import WorkLogRecord

        for record in WorkLogRecord.scan(WorkLogRecord.sk.startswith("PARTICIPANT#")):
            record.delete()
    with acting_as("MigrationFunction"):
        return {"migrations": [report.as_json() for report in run_migrations()]}
