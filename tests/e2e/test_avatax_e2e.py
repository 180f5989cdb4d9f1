"""End to end: an AvaTax invoice on the local stack, with AvaTax pointed at the stand-in.

The test starts the stand-in itself (so it can look inside AvaTax) and a local stack whose
AvaTax secret points at it (LOCAL_AVATAX_URL, see infra/avatax_local.py), as `make run` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from infra.avatax_standin import AvaTaxStandIn
from tests.support.api import http
from tests.support.data import company_body
from tests.support.http_steps import finished
from tests.support.stack import RunningStack, start_stack
from tests.support.tax import ACME_OFFICE, avatax_customer, avatax_invoice
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def avatax() -> Iterator[AvaTaxStandIn]:
    with AvaTaxStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def stack(
    avatax: AvaTaxStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LOCAL_AVATAX_URL", avatax.url)
        base = tmp_path_factory.mktemp("avatax-stack")
        running = start_stack(base / "dynamodb", base / "stack.log")
    yield running
    running.stop()


def document(url: str, document_id: str) -> dict[str, Any]:
    return dict(http(url, "GET", f"/documents/{document_id}", "clerk").body)


def run_now(url: str) -> dict[str, Any]:
    """Run Now, and the run once it has processed everything it queued."""
    answer = http(url, "POST", "/scheduler/run", "runner")
    assert answer.status == 202
    return dict(eventually(lambda: finished(url, answer.body["run_id"])))


def test_an_avatax_invoice_is_complete_after_one_run_and_committed_after_the_next(
    stack: RunningStack, avatax: AvaTaxStandIn
) -> None:
    # Given a company with an address, a customer with one, and an AvaTax invoice posted
    url = stack.url
    company = f"CO{uuid.uuid4().hex[:8].upper()}"
    assert (
        http(url, "POST", "/companies", "admin", company_body(company, address=ACME_OFFICE)).status
        == 201
    )
    customer = f"C-{company}"
    assert http(url, "POST", "/accounts", "admin", avatax_customer(customer, company)).status == 201
    created = http(url, "POST", "/documents", "clerk", avatax_invoice(customer, company=company))
    assert created.status == 201, created.body
    invoice = created.body
    posted = http(url, "POST", f"/documents/{invoice['id']}/post", "clerk", {"mode": "auto"})
    assert (posted.status, posted.body["status"]) == (202, "Ready to Post")

    # When a run processes it
    first = run_now(url)

    # Then it is Complete with AvaTax's tax on its lines, and uncommitted in AvaTax
    after_first = document(url, invoice["id"])
    assert after_first["status"] == "Complete"
    assert [line["tax"] for line in after_first["lines"]] == ["7.50", "1.60"]
    assert after_first["tax"]["status"] == "calculated"
    code = f"{company}-{invoice['number']}"
    assert avatax.transaction(company, code)["status"] == "Saved"  # type: ignore[index]
    assert first["counts"]["posted"] == 1

    # When the next run comes
    second = run_now(url)

    # Then the tax is committed in AvaTax, and the invoice is still Complete
    assert avatax.transaction(company, code)["status"] == "Committed"  # type: ignore[index]
    after_second = document(url, invoice["id"])
    assert (after_second["status"], after_second["tax"]["status"]) == ("Complete", "committed")
    assert second["counts"]["completed"] == 1
    assert len([key for key in avatax.transactions if key[1] == code]) == 1
