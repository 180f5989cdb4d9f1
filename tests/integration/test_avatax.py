"""AvaTax documents through the API and the functions, against AvaTax's REST API stood in on
127.0.0.1 (infra/avatax_standin.py): the three stages, every kind of AvaTax failure, retries,
and workers that die between the stages."""

from __future__ import annotations

import itertools
from typing import Any

import boto3
import pytest

from background_posting.config import Settings
from background_posting.services import tax_service
from background_posting.store import ledger_store
from infra.avatax_local import put_avatax_secret
from infra.avatax_standin import AvaTaxStandIn
from tests.support.api import Answer, invoke_api
from tests.support.clock import Clock
from tests.support.data import company_body
from tests.support.queues import Drain, worker_handlers
from tests.support.tax import ACME_OFFICE, CUSTOMER_NOWHERE, avatax_customer, avatax_invoice

CODE = "ACME-SIN000001"  # the first sales invoice of ACME, as AvaTax knows it


class Died(BaseException):
    """A function instance killed at this point: no `except Exception` of ours sees it."""


@pytest.fixture
def books(api: Any, avatax: AvaTaxStandIn) -> None:
    """ACME with its London office, and a customer in Manchester."""
    assert (
        invoke_api(api, "POST", "/companies", "admin", company_body(address=ACME_OFFICE)).status
        == 201
    )
    assert invoke_api(api, "POST", "/accounts", "clerk", avatax_customer()).status == 201


@pytest.fixture
def drain(aws: Settings) -> Drain:
    return Drain(aws)


def create(api: Any, **overrides: Any) -> dict[str, Any]:
    answer = invoke_api(api, "POST", "/documents", "clerk", avatax_invoice(**overrides))
    assert answer.status == 201, answer.body
    return dict(answer.body)


def post(api: Any, document: dict[str, Any], mode: str = "auto") -> Answer:
    return invoke_api(api, "POST", f"/documents/{document['id']}/post", "clerk", {"mode": mode})


def queued(api: Any, **overrides: Any) -> dict[str, Any]:
    """An AvaTax invoice the Post button sent to the background."""
    document = create(api, **overrides)
    answer = post(api, document)
    assert (answer.status, answer.body["status"]) == (202, "Ready to Post"), answer.body
    return document


def run(api: Any, drain: Drain) -> dict[str, Any]:
    """Run Now, then every function the run reaches; the run as its user sees it."""
    run_id = invoke_api(api, "POST", "/scheduler/run", "runner").body["run_id"]
    drain.once("RunQueue")
    while drain.once("PostingQueue"):
        pass
    while drain.once("TaxCommitQueue"):
        pass
    return dict(invoke_api(api, "GET", f"/runs/{run_id}", "runner").body)


def read(api: Any, document: dict[str, Any]) -> dict[str, Any]:
    return dict(invoke_api(api, "GET", f"/documents/{document['id']}", "clerk").body)


def items(api: Any, document: dict[str, Any]) -> list[dict[str, Any]]:
    number = read(api, document)["number"]
    answer = invoke_api(api, "GET", f"/worker-items?reference={number}", "clerk")
    return list(answer.body["worker_items"])


def log_of(api: Any, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's entries in the clerk's worker log groups, oldest first."""
    groups = invoke_api(api, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    entries = [
        entry
        for group in groups
        for entry in invoke_api(api, "GET", f"/worker-log-groups/{group['id']}", "clerk").body[
            "entries"
        ]
        if entry["document_id"] == document["id"]
    ]
    return sorted(entries, key=lambda e: e["at"])


def outcomes(api: Any, document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action"], e["outcome"]) for e in log_of(api, document)]


def avatax_status(standin: AvaTaxStandIn, code: str = CODE) -> str | None:
    transaction = standin.transaction("ACME", code)
    return None if transaction is None else str(transaction["status"])


# -- the three stages ----------------------------------------------------------------------------


def test_an_avatax_invoice_is_calculated_and_posted_in_one_run_and_committed_in_the_next(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    # Given an AvaTax invoice the Post button sent to the background
    document = queued(api)
    assert [i["action"] for i in items(api, document)] == [
        "calculate_tax",
        "post_document",
        "commit_tax",
    ]

    # When a run processes it
    first = run(api, drain)

    # Then it is Complete, each line with the tax AvaTax calculated, posted with that tax
    posted = read(api, document)
    assert posted["status"] == "Complete"
    assert [line["tax"] for line in posted["lines"]] == ["7.50", "1.60"]
    assert posted["tax"]["status"] == "calculated" and posted["tax"]["total"] == "9.10"
    assert posted["tax"]["code"] == CODE
    transaction = invoke_api(api, "GET", f"/documents/{document['id']}/transaction", "clerk").body
    assert transaction["totals"] == {"net": "45.49", "tax": "9.10", "gross": "54.59"}
    # ...and its tax is calculated but not committed in AvaTax: that is a later run's work
    assert avatax_status(avatax) == "Saved"
    assert [i["action"] for i in items(api, document)] == ["commit_tax"]
    assert first["counts"]["posted"] == 1

    # When the next run comes
    second = run(api, drain)

    # Then the tax is committed in AvaTax, and the document stays Complete
    assert avatax_status(avatax) == "Committed"
    committed = read(api, document)
    assert (committed["status"], committed["tax"]["status"]) == ("Complete", "committed")
    assert items(api, document) == []
    assert second["counts"]["completed"] == 1
    assert outcomes(api, document) == [
        ("calculate_tax", "tax_calculated"),
        ("post_document", "posted"),
        ("commit_tax", "tax_committed"),
    ]
    assert len(avatax.transactions) == 1


def test_the_run_that_posted_a_document_never_commits_its_tax(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain, aws: Settings
) -> None:
    # Given an AvaTax invoice posted by a run
    document = queued(api)
    first = run(api, drain)
    assert read(api, document)["status"] == "Complete"
    # When that run's message for it reaches the tax commit function (say a continuation of
    # the run found the commit item due)
    drain.sqs.send_message(
        QueueUrl=aws.tax_commit_queue_url,
        MessageBody=f'{{"run_id": "{first["id"]}", "document_id": "{document["id"]}"}}',
    )
    drain.once("TaxCommitQueue")
    # Then nothing is committed: a later run will
    assert avatax_status(avatax) == "Saved"
    assert [i["action"] for i in items(api, document)] == ["commit_tax"]
    assert run(api, drain)["counts"]["completed"] == 1
    assert avatax_status(avatax) == "Committed"


def test_posting_at_once_calculates_the_tax_now_and_a_later_run_commits_it(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    # Given an AvaTax invoice posted through the integration API
    answer = post(api, create(api), mode="immediate")
    # Then it is Complete at once, with AvaTax's tax, uncommitted
    assert (answer.status, answer.body["status"]) == (200, "Complete")
    assert answer.body["tax"]["status"] == "calculated"
    assert avatax_status(avatax) == "Saved"
    # And the next run commits it
    run(api, drain)
    assert avatax_status(avatax) == "Committed"
    assert read(api, answer.body)["tax"]["status"] == "committed"


def test_a_document_refused_after_its_tax_was_calculated_is_recalculated_under_the_same_code(
    api: Any, books: None, avatax: AvaTaxStandIn
) -> None:
    # Given an AvaTax invoice dated in a closed period, posted at once: AvaTax calculated its
    # tax, then the posting was refused
    document = create(api, document_date="2026-10-10")
    refused = post(api, document, mode="immediate")
    assert (refused.status, refused.error_code) == (422, "posting_validation_failed")
    assert read(api, document)["status"] == "In Progress"
    assert avatax_status(avatax) == "Saved"
    # When it is corrected (its line taxes go: they are calculated again) and posted again
    amended = invoke_api(
        api, "PATCH", f"/documents/{document['id']}", "clerk", {"document_date": "2026-11-21"}
    )
    assert [line["tax"] for line in amended.body["lines"]] == [None, None]
    posted = post(api, document, mode="immediate")
    # Then AvaTax's uncommitted transaction was replaced, not duplicated
    assert posted.status == 200
    assert len(avatax.transactions) == 1 and len(avatax.calls_of("create")) == 2
    assert avatax.transaction("ACME", CODE)["date"] == "2026-11-21"  # type: ignore[index]


def test_discarding_a_document_whose_tax_was_calculated_voids_it_in_avatax(
    api: Any, books: None, avatax: AvaTaxStandIn
) -> None:
    document = create(api, document_date="2026-10-10")
    post(api, document, mode="immediate")  # calculated, then refused: the period is closed
    discarded = invoke_api(api, "POST", f"/documents/{document['id']}/discard", "clerk")
    assert discarded.status == 200 and discarded.body["tax"]["status"] == "voided"
    assert avatax_status(avatax) == "Cancelled"
    assert avatax.calls_of("void")[0].body == {"code": "DocDeleted"}


def test_a_discard_does_not_wait_for_avatax(api: Any, books: None, avatax: AvaTaxStandIn) -> None:
    # Given a document whose tax was calculated, and AvaTax unavailable
    document = create(api, document_date="2026-10-10")
    post(api, document, mode="immediate")
    avatax.fail_next("void", 503, 503, 503)
    # When it is discarded
    discarded = invoke_api(api, "POST", f"/documents/{document['id']}/discard", "clerk")
    # Then it is discarded; AvaTax keeps an uncommitted transaction, which it never reports
    assert (discarded.status, discarded.body["status"]) == (200, "Discarded")
    assert discarded.body["tax"]["status"] == "calculated"
    assert avatax_status(avatax) == "Saved"


# -- AvaTax's failures -------------------------------------------------------------------------


def unplaceable_customer(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    invoke_api(api, "PATCH", "/accounts/CUSTTAX", "clerk", {"address": CUSTOMER_NOWHERE})
    return {}


def unknown_tax_code(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    line = {"description": "Gizmo", "quantity": "1", "unit_price": "5", "tax_code": "XYZ123"}
    return {"lines": [line]}


def wrong_licence_key(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    put_avatax_secret(
        secrets, "background-posting/avatax", avatax.url, license_key="an-old-licence-key"
    )
    return {}


def always_slow(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    avatax.fail_next("create", "timeout", "timeout", "timeout")
    return {}


def rate_limited(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    avatax.fail_next("create", 429, 429, 429)
    return {}


def no_secret(api: Any, avatax: AvaTaxStandIn) -> dict[str, Any]:
    boto3.client("secretsmanager", region_name="us-east-1").delete_secret(
        SecretId="background-posting/avatax", ForceDeleteWithoutRecovery=True
    )
    return {}


FAILURES = {
    "a bad address": (
        unplaceable_customer,
        "avatax_rejected",
        ["JurisdictionNotFoundError", "1 Unknown Road", "could not be located"],
    ),
    "an invalid tax code": (
        unknown_tax_code,
        "avatax_rejected",
        ["InvalidTaxCode", "'XYZ123' is not a valid AvaTax tax code"],
    ),
    "authentication": (
        wrong_licence_key,
        "avatax_authentication_failed",
        ["HTTP 401 AuthenticationException", "background-posting/avatax"],
    ),
    "timeouts": (always_slow, "avatax_timeout", ["3 tries", "no answer within 2.0 s"]),
    "rate limiting": (rate_limited, "avatax_rate_limited", ["HTTP 429 TooManyRequests"]),
    "no settings": (no_secret, "avatax_not_configured", ["background-posting/avatax"]),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_each_avatax_failure_is_a_clear_error_in_the_worker_log_and_the_document_waits(
    failure: str, api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    arrange, code, words = FAILURES[failure]
    # Given an AvaTax invoice, and AvaTax failing in this way
    document = queued(api, **arrange(api, avatax))
    # When a run tries it
    counts = run(api, drain)["counts"]
    # Then the calculation failed once, with AvaTax's own words in the worker log
    assert counts["failed"] == 1 and counts["posted"] == 0
    (entry,) = log_of(api, document)
    assert (entry["action"], entry["outcome"], entry["attempt"]) == ("calculate_tax", "failed", 1)
    (error,) = entry["errors"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]
    # And the document waits, Ready to Post, for the next run
    assert read(api, document)["status"] == "Ready to Post"
    calculation = items(api, document)[0]
    assert (calculation["action"], calculation["attempts"]) == ("calculate_tax", 1)


def test_a_slow_avatax_that_did_the_work_leaves_one_transaction_when_the_call_is_repeated(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    # Given AvaTax that creates the transaction but answers too late, three times over
    document = queued(api)
    avatax.fail_next("create", "timeout", "timeout", "timeout")
    run(api, drain)
    # When the next run calculates the tax again
    run(api, drain)
    # Then AvaTax holds one transaction for the document, however many calls reached it
    assert read(api, document)["status"] == "Complete"
    assert len(avatax.calls_of("create")) == 4
    assert list(avatax.transactions) == [("ACME", CODE, "SalesInvoice")]


def test_transient_failures_are_retried_with_backoff_within_the_call(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    # Given AvaTax that is unavailable once and then rate limits once
    document = queued(api)
    avatax.fail_next("create", 503, 429)
    # When a run calculates the tax
    counts = run(api, drain)["counts"]
    # Then the third try succeeded: no attempt is lost and the document posts in this run
    assert counts["posted"] == 1 and counts["failed"] == 0
    assert [c.status for c in avatax.calls_of("create")] == [503, 429, 201]
    assert read(api, document)["status"] == "Complete"


def test_a_calculation_failing_the_avatax_maximum_returns_the_document_to_in_progress(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain
) -> None:
    # Given at most two attempts for AvaTax documents, and a customer AvaTax cannot place
    invoke_api(api, "PUT", "/settings/background-posting", "admin", {"max_attempts_avatax": 2})
    document = queued(api, **unplaceable_customer(api, avatax))
    # When two runs fail to calculate its tax
    run(api, drain)
    run(api, drain)
    # Then it is In Progress again without worker items, and every error stays in the log
    assert read(api, document)["status"] == "In Progress"
    assert items(api, document) == []
    assert outcomes(api, document) == [
        ("calculate_tax", "failed"),
        ("calculate_tax", "failed"),
        ("calculate_tax", "returned_to_in_progress"),
    ]
    # And once the address is corrected it posts under the same AvaTax code
    invoke_api(
        api, "PATCH", "/accounts/CUSTTAX", "clerk", {"address": avatax_customer()["address"]}
    )
    assert post(api, document).status == 202
    run(api, drain)
    assert read(api, document)["status"] == "Complete"


def test_a_commit_that_fails_twice_then_succeeds_leaves_the_document_complete_throughout(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain, aws: Settings, monkeypatch: Any
) -> None:
    # Given an AvaTax invoice posted by a run, and AvaTax failing the next two commits
    monkeypatch.setattr(aws, "avatax_tries", 1)
    document = queued(api)
    run(api, drain)
    avatax.fail_next("commit", 503, 500)
    # When the next runs try to commit it
    failed = [run(api, drain)["counts"]["failed"] for _ in range(2)]
    statuses = [read(api, document)["status"]]
    third = run(api, drain)
    # Then two runs failed, the document stayed Complete, and the third run committed it
    assert failed == [1, 1] and statuses == ["Complete"]
    assert third["counts"]["completed"] == 1
    assert avatax_status(avatax) == "Committed"
    assert read(api, document)["tax"]["status"] == "committed"
    assert [o for a, o in outcomes(api, document) if a == "commit_tax"] == [
        "failed",
        "failed",
        "tax_committed",
    ]


def test_a_commit_failing_its_maximum_attempts_is_retried_and_flagged_and_stays_complete(
    api: Any, books: None, avatax: AvaTaxStandIn, drain: Drain, aws: Settings, monkeypatch: Any
) -> None:
    # Given at most two attempts, and AvaTax refusing every commit
    monkeypatch.setattr(aws, "avatax_tries", 1)
    invoke_api(api, "PUT", "/settings/background-posting", "admin", {"max_attempts_avatax": 2})
    document = queued(api)
    run(api, drain)
    avatax.fail_next("commit", 500, 500, 500)
    # When three runs fail to commit it
    for _ in range(3):
        run(api, drain)
    # Then the document is still Complete, its commit still waits for the next run...
    assert read(api, document)["status"] == "Complete"
    (commit,) = items(api, document)
    assert (commit["action"], commit["attempts"]) == ("commit_tax", 3)
    # ...and from the maximum on, each failure says the commit is overdue
    overdue = [e for e in log_of(api, document) if e["outcome"] == "tax_commit_overdue"]
    assert [e["attempt"] for e in overdue] == [2, 3]
    assert "still not committed in AvaTax" in overdue[0]["errors"][0]["message"]
    # And when AvaTax accepts again, the next run commits it
    run(api, drain)
    assert avatax_status(avatax) == "Committed"


# -- workers that die ----------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    """The workers' clock, moved forward past a dead worker's lease."""
    return Clock()


@pytest.fixture
def drain_on_clock(aws: Settings, clock: Clock) -> Drain:
    """The functions, the posting worker and the tax commit function on the test's clock."""
    return Drain(aws, worker_handlers(clock))


def dies_once_after(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    original = getattr(module, name)
    calls = itertools.count()

    def dying(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if next(calls) == 0:
            raise Died(name)
        return result

    monkeypatch.setattr(module, name, dying)


def test_a_crash_between_posting_and_committing_loses_nothing(
    api: Any,
    books: None,
    avatax: AvaTaxStandIn,
    drain_on_clock: Drain,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    # Given a posting worker that dies just after the posting's commit
    document = queued(api)
    dies_once_after(monkeypatch, ledger_store, "commit_many")
    with pytest.raises(Died):
        run(api, drain_on_clock)
    # Then the document is posted once, its tax calculated, not committed
    assert read(api, document)["status"] == "Complete"
    assert avatax_status(avatax) == "Saved"
    # When the next run comes (after the dead worker's lease)
    clock.advance(3600)
    run(api, drain_on_clock)
    # Then the tax is committed, and the document has one transaction
    assert avatax_status(avatax) == "Committed"
    assert read(api, document)["transaction_number"] == "TRN000001"
    assert items(api, document) == []


def test_a_crash_after_avatax_committed_commits_again_harmlessly(
    api: Any,
    books: None,
    avatax: AvaTaxStandIn,
    drain_on_clock: Drain,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    # Given a posted AvaTax invoice, and a tax commit function that dies after AvaTax committed
    # but before the commit was recorded
    document = queued(api)
    run(api, drain_on_clock)
    dies_once_after(monkeypatch, tax_service, "commit")
    with pytest.raises(Died):
        run(api, drain_on_clock)
    assert avatax_status(avatax) == "Committed"
    assert read(api, document)["tax"]["status"] == "calculated"
    # When a later run (after the lease) commits again
    clock.advance(3600)
    run(api, drain_on_clock)
    # Then AvaTax answers the committed transaction as it is, and the commit is recorded
    assert len(avatax.calls_of("commit")) == 2 and len(avatax.transactions) == 1
    assert read(api, document)["tax"]["status"] == "committed"
    assert items(api, document) == []


def test_posting_at_once_while_avatax_is_down_answers_503_and_changes_nothing(
    api: Any, books: None, avatax: AvaTaxStandIn
) -> None:
    document = create(api)
    avatax.fail_next("create", 503, 503, 503)
    answer = post(api, document, mode="immediate")
    assert (answer.status, answer.error_code) == (503, "avatax_unavailable")
    after = read(api, document)
    assert (after["status"], after["version"], after["tax"]) == ("In Progress", 1, None)
