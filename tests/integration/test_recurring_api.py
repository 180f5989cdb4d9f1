"""Recurring invoices and Save & Post through the API and a run (moto)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.services import background_service, recurring_service
from infra.emails import sent_emails
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.iam import acting_as
from tests.support.queues import Drain

TODAY = date(2026, 11, 20)
PERIODS = [
    {"name": f"2026-{m:02d}", "start": f"2026-{m:02d}-01", "end": end, "status": "open"}
    for m, end in ((8, "2026-08-31"), (9, "2026-09-30"), (10, "2026-10-31"), (11, "2026-11-30"))
]


@pytest.fixture
def acme(api: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(recurring_service, "_today", lambda: TODAY)
    body = company_body("ACME", periods=PERIODS)
    assert invoke_api(api, "POST", "/companies", "admin", body).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    return api


def template(**fields: Any) -> dict[str, Any]:
    invoice = document_body("sales_invoice")
    del invoice["document_date"]
    return {"template": invoice, "frequency": "monthly", "start": "2026-08-21"} | fields


def run_now(api: Any, settings: Settings) -> dict[str, Any]:
    run = invoke_api(api, "POST", "/scheduler/run", "runner")
    assert run.status == 202, run.body
    drain = Drain(settings)
    with acting_as("ScheduledPostingFunction"):
        drain.once("RunQueue")
    with acting_as("PostingWorkerFunction"):
        while drain.once("PostingQueue"):
            pass
    return dict(invoke_api(api, "GET", f"/runs/{run.body['run_id']}", "runner").body)


def invoices(api: Any) -> list[dict[str, Any]]:
    listed = invoke_api(api, "GET", "/documents?company=ACME&type=sales_invoice", "clerk")
    return sorted(listed.body["documents"], key=lambda d: d["document_date"])


def test_a_run_creates_each_due_invoice_once_and_posts_them_with_save_and_post(
    acme: Any, aws: Settings
) -> None:
    # Given a monthly recurring invoice started three months ago, with Save & Post
    created = invoke_api(acme, "POST", "/recurring-invoices", "clerk", template(save_and_post=True))
    assert created.status == 201, created.body
    assert created.body["next_date"] == "2026-08-21"
    # When a run runs
    run = run_now(acme, aws)
    # Then it created the three invoices that fell due and posted them in the same run
    made = invoices(acme)
    assert [d["document_date"] for d in made] == ["2026-08-21", "2026-09-21", "2026-10-21"]
    assert [d["status"] for d in made] == ["Complete"] * 3
    assert all(d["recurring"] for d in made)
    assert run["counts"]["posted"] == 3, run["counts"]
    shown = invoke_api(acme, "GET", f"/recurring-invoices/{created.body['id']}", "clerk").body
    assert shown["created_through"] == "2026-10-21" and shown["next_date"] == "2026-11-21"
    assert shown["invoices"] == [d["id"] for d in made]
    # And the template's creator gets the results in their digest
    with acting_as("NotificationFunction"):
        Drain(aws).once("NotificationQueue")
    (digest,) = [e for e in sent_emails() if "clerk@example.com" in e["to"]]
    assert "3 posted" in digest["subject"]
    assert all(d["number"] in digest["text"] for d in made)
    # When another run runs the same day
    run_now(acme, aws)
    # Then nothing more is created
    assert len(invoices(acme)) == 3


def test_without_save_and_post_the_invoices_wait_in_progress(acme: Any, aws: Settings) -> None:
    invoke_api(acme, "POST", "/recurring-invoices", "clerk", template(until="2026-09-30"))
    run_now(acme, aws)
    made = invoices(acme)
    assert [(d["document_date"], d["status"]) for d in made] == [
        ("2026-08-21", "In Progress"),
        ("2026-09-21", "In Progress"),
    ]


def test_a_run_that_dies_between_creating_and_queuing_is_finished_by_the_next(
    acme: Any, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke_api(acme, "POST", "/recurring-invoices", "clerk", template(save_and_post=True))
    calls = {"n": 0}
    original = background_service.post_with_button

    def dies_on_the_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the function died")
        return original(*args, **kwargs)

    monkeypatch.setattr(background_service, "post_with_button", dies_on_the_second)
    with pytest.raises(RuntimeError):
        recurring_service.create_due(None, lambda: 900.0)
    assert [d["status"] for d in invoices(acme)] == ["Ready to Post", "In Progress"]
    # The retried delivery creates nothing twice and queues what is missing
    assert recurring_service.create_due(None, lambda: 900.0) == 1
    assert [d["status"] for d in invoices(acme)] == ["Ready to Post"] * 3
    items = [
        invoke_api(acme, "GET", f"/worker-items?reference={d['number']}", "clerk").body
        for d in invoices(acme)
    ]
    assert [len(i) for i in items] == [1, 1, 1]


def test_a_deleted_recurring_invoice_creates_no_more(acme: Any, aws: Settings) -> None:
    created = invoke_api(acme, "POST", "/recurring-invoices", "clerk", template()).body
    deleted = invoke_api(acme, "DELETE", f"/recurring-invoices/{created['id']}", "clerk")
    assert deleted.status == 200 and deleted.body["status"] == "deleted"
    run_now(acme, aws)
    assert invoices(acme) == []


def test_a_recurring_invoice_must_be_a_sales_invoice_of_a_known_account(acme: Any) -> None:
    payable = template()
    payable["template"]["type"] = "payable_invoice"
    answer = invoke_api(acme, "POST", "/recurring-invoices", "clerk", payable)
    assert answer.status == 400 and "sales_invoice" in answer.body["error"]["message"]
    unknown = template()
    unknown["template"]["account"] = "NOBODY"
    answer = invoke_api(acme, "POST", "/recurring-invoices", "clerk", unknown)
    assert answer.status == 404 and answer.error_code == "account_not_found"
    answer = invoke_api(acme, "POST", "/recurring-invoices", "clerk", template(frequency="weekly"))
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "frequency"


def test_recurring_invoices_of_another_company_are_not_found(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/recurring-invoices", "clerk", template()).body
    claims = {"sub": "beta", "email": "b@example.com", "custom:companies": "BETA"}
    answer = invoke_api(acme, "GET", f"/recurring-invoices/{created['id']}", None, claims=claims)
    assert answer.status == 404 and answer.error_code == "recurring_invoice_not_found"
    answer = invoke_api(acme, "POST", "/recurring-invoices", None, template(), claims=claims)
    assert answer.status == 403


def test_save_and_post_creates_and_posts_in_one_request(acme: Any) -> None:
    answer = invoke_api(
        acme, "POST", "/documents/save-and-post", "clerk", document_body(document_date="2026-11-20")
    )
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "Complete" and answer.body["transaction_number"] == "TRN000001"


def test_save_and_post_of_a_document_for_the_background_answers_202(acme: Any) -> None:
    body = document_body(tax_mode="builtin")
    body["lines"][0]["income_schedule"] = {"periods": 2, "frequency": "monthly"}
    answer = invoke_api(acme, "POST", "/documents/save-and-post", "clerk", body)
    assert answer.status == 202 and answer.body["status"] == "Ready to Post"


def test_a_refused_save_and_post_leaves_the_document_saved_in_progress(acme: Any) -> None:
    answer = invoke_api(
        acme, "POST", "/documents/save-and-post", "clerk", document_body(document_date="2026-12-20")
    )
    assert answer.status == 422 and answer.error_code == "posting_validation_failed"
    saved = answer.body["error"]["details"]["document"]
    assert saved["status"] == "In Progress" and saved["number"] == "SIN000001"
    assert "was saved (In Progress) but not posted" in answer.body["error"]["message"]
    shown = invoke_api(acme, "GET", f"/documents/{saved['id']}", "clerk").body
    assert shown["status"] == "In Progress"


def test_save_and_post_refuses_bad_input_and_saves_nothing(acme: Any) -> None:
    body = document_body()
    body["lines"][0]["quantity"] = 3.5
    answer = invoke_api(acme, "POST", "/documents/save-and-post", "clerk", body)
    assert answer.status == 400
    assert answer.body["error"]["details"]["errors"][0]["field"] == "lines[0].quantity"
    assert invoices(acme) == []
