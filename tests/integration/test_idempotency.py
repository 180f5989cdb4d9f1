"""Requests that happen once: the Idempotency-Key header (API.md v1.1), on moto and, for two
requests at once, on DynamoDB Local."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from background_posting.config import Settings
from background_posting.services import document_service
from tests.support.api import Answer, invoke_api
from tests.support.concurrency import race
from tests.support.data import document_body
from tests.support.scenario import given_company


def create(api: Any, key: str | None, body: dict[str, Any], user: str = "clerk") -> Answer:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return invoke_api(api, "POST", "/documents", user, body, headers=headers)


def listed(api: Any) -> list[dict[str, Any]]:
    answer = invoke_api(api, "GET", "/documents?company=ACME", "clerk")
    assert answer.status == 200, answer.body
    return list(answer.body["documents"])


def test_the_same_key_twice_creates_one_document_and_answers_the_first_answer(api: Any) -> None:
    # Given a company, and a clerk who sends a new invoice with a key
    given_company()
    body = document_body("sales_invoice")
    first = create(api, "invoice-2026-12-01-a", body)
    assert first.status == 201, first.body

    # When the network drops the answer and the clerk's client sends the same request again
    again = create(api, "invoice-2026-12-01-a", body)

    # Then the answer is the first answer (same number, same id) and there is one document
    assert (again.status, again.body) == (first.status, first.body)
    assert [d["id"] for d in listed(api)] == [first.body["id"]]


def test_spacing_and_key_order_of_the_body_do_not_make_another_request(api: Any) -> None:
    given_company()
    body = document_body("sales_invoice")
    first = create(api, "k1", body)
    reordered = dict(reversed(list(body.items())))
    again = create(api, "k1", reordered)
    assert again.body == first.body
    assert len(listed(api)) == 1


def test_another_body_under_the_same_key_is_refused_and_changes_nothing(api: Any) -> None:
    given_company()
    first = create(api, "k-reused", document_body("sales_invoice"))
    assert first.status == 201

    # When the same key comes with another invoice
    other = create(api, "k-reused", document_body("sales_invoice", reference="OTHER"))

    # Then it is refused with 422 idempotency_key_reused, and no second document exists
    assert other.status == 422
    assert other.error_code == "idempotency_key_reused"
    assert "Idempotency-Key" in other.body["error"]["message"]
    assert len(listed(api)) == 1


def test_the_same_key_on_another_route_is_another_request(api: Any) -> None:
    given_company()
    created = create(api, "k-route", document_body("sales_invoice"))
    document_id = created.body["id"]
    answer = invoke_api(
        api,
        "PATCH",
        f"/documents/{document_id}",
        "clerk",
        {"reference": "PO-9"},
        headers={"Idempotency-Key": "k-route"},
    )
    assert answer.status == 422
    assert answer.error_code == "idempotency_key_reused"
    assert invoke_api(api, "GET", f"/documents/{document_id}", "clerk").body.get("reference") != (
        "PO-9"
    )


def test_keys_are_per_user(api: Any) -> None:
    # Given two users who happen to choose the same key for the same invoice
    given_company()
    body = document_body("sales_invoice")
    mine = create(api, "shared-key", body, user="clerk")
    theirs = create(api, "shared-key", body, user="admin")

    # Then each gets their own document
    assert mine.status == theirs.status == 201
    assert mine.body["id"] != theirs.body["id"]
    assert len(listed(api)) == 2


def test_a_refused_request_is_not_kept_so_the_same_key_works_once_it_is_fixed(api: Any) -> None:
    # Given an invoice for an account that does not exist yet, sent with a key
    given_company()
    body = document_body("sales_invoice", account="NEWCUST")
    refused = create(api, "k-retry", body)
    assert 400 <= refused.status < 500, refused.body

    # When the account is created and the very same request is sent again with the same key
    account = invoke_api(api, "GET", "/accounts/CUST01", "clerk").body
    account |= {"id": "NEWCUST", "name": "New customer"}
    assert invoke_api(api, "POST", "/accounts", "clerk", account).status == 201
    accepted = create(api, "k-retry", body)

    # Then the request runs this time (the failed answer was not stored)
    assert accepted.status == 201, accepted.body
    assert len(listed(api)) == 1


def test_requests_without_a_key_behave_as_before(api: Any) -> None:
    given_company()
    body = document_body("sales_invoice")
    assert create(api, None, body).status == 201
    assert create(api, None, body).status == 201
    assert len(listed(api)) == 2


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_a_key_that_is_empty_or_longer_than_128_characters_is_a_400(api: Any, key: str) -> None:
    given_company()
    answer = create(api, key, document_body("sales_invoice"))
    assert answer.status == 400
    assert answer.error_code == "invalid_request"
    assert answer.body["error"]["details"]["errors"][0]["field"] == "Idempotency-Key"
    assert listed(api) == []


def test_a_key_of_128_characters_is_accepted(api: Any) -> None:
    given_company()
    assert create(api, "k" * 128, document_body("sales_invoice")).status == 201


def test_a_request_still_in_flight_under_the_key_is_a_409(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a request whose work is under way when the same request arrives again
    given_company()
    body = document_body("sales_invoice")
    seen: list[Answer] = []
    real_create = document_service.create_document

    def create_while_a_retry_arrives(caller: Any, document: Any) -> Any:
        if not seen:
            seen.append(create(api, "k-flight", body))  # the retry, while this one runs
        return real_create(caller, document)

    monkeypatch.setattr(document_service, "create_document", create_while_a_retry_arrives)
    first = create(api, "k-flight", body)

    # Then the retry was told to wait, and the first made the one document
    assert first.status == 201
    assert seen[0].status == 409
    assert seen[0].error_code == "request_in_progress"
    assert len(listed(api)) == 1
    # and afterwards the same request gets the first answer
    assert create(api, "k-flight", body).body == first.body


def test_two_requests_at_once_with_one_key_make_one_document(
    local_store: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API on DynamoDB Local, where creating a document takes a moment
    from functions.api import handler

    given_company()
    real_create = document_service.create_document
    inside = threading.Event()

    def slow_create(caller: Any, document: Any) -> Any:
        inside.set()
        time.sleep(0.5)
        return real_create(caller, document)

    monkeypatch.setattr(document_service, "create_document", slow_create)
    body = document_body("sales_invoice")

    # When four clients send the same request with the same key at the same moment
    answers = race(*(lambda: create(handler.lambda_handler, "k-race", body) for _ in range(4)))

    # Then one created the document; each other got the same answer or 409 request_in_progress
    assert inside.is_set()
    created = [a for a in answers if a.status == 201]
    assert len(created) >= 1
    assert all(a.body == created[0].body for a in created)
    others = [a for a in answers if a.status != 201]
    assert all(a.status == 409 and a.error_code == "request_in_progress" for a in others), [
        (a.status, a.body) for a in others
    ]
    assert [d["id"] for d in listed(handler.lambda_handler)] == [created[0].body["id"]]


def test_the_openapi_offers_the_header_on_every_write_and_describes_its_answers(api: Any) -> None:
    document = invoke_api(api, "GET", "/openapi.json", user=None).body
    writes = [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch"}
    ]
    assert writes
    for method, path, operation in writes:
        names = [p["name"] for p in operation.get("parameters", [])]
        assert "Idempotency-Key" in names, f"{method.upper()} {path}"
        assert {"409", "422"} <= set(operation["responses"]), f"{method.upper()} {path}"
    header = next(
        p for p in document["paths"]["/documents"]["post"]["parameters"] if p["in"] == "header"
    )
    assert header["schema"]["maxLength"] == 128


def test_the_same_key_with_another_query_is_refused_as_reused(api: Any) -> None:
    # Given a document created under a key, and a preview of it under another
    given_company()
    first = create(api, "k-query", document_body("sales_invoice"))
    assert first.status == 201
    document_id = first.body["id"]
    preview = f"/documents/{document_id}/preview"
    kept = invoke_api(
        api, "POST", f"{preview}?lines_limit=1", "clerk", headers={"Idempotency-Key": "k-pre"}
    )
    assert kept.status == 200, kept.body

    # When each key comes again with another query (one the route does not take, one it does)
    unknown = invoke_api(
        api,
        "POST",
        "/documents?x=1",
        "clerk",
        document_body(),
        headers={"Idempotency-Key": "k-query"},
    )
    other = invoke_api(
        api, "POST", f"{preview}?lines_limit=2", "clerk", headers={"Idempotency-Key": "k-pre"}
    )

    # Then both are 422 idempotency_key_reused (the contract's answer), and nothing more exists
    assert unknown.status == 422 and unknown.error_code == "idempotency_key_reused", unknown.body
    assert other.status == 422 and other.error_code == "idempotency_key_reused", other.body
    assert len(listed(api)) == 1
    # A new key with a query the route does not take is still a 400 naming it, and not kept
    fresh = invoke_api(
        api, "POST", "/documents?x=1", "clerk", document_body(), headers={"Idempotency-Key": "k-x"}
    )
    assert fresh.status == 400 and fresh.body["error"]["details"]["errors"][0]["field"] == "x"
    again = create(api, "k-x", document_body("sales_invoice"))
    assert again.status == 201 and len(listed(api)) == 2
