"""Bad input through the API function (moto): each is a 400 in the error shape naming the field,
and nothing changes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from background_posting.domain.types import DECIMAL_PATTERN
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


@pytest.fixture
def acme(api: Any) -> Any:
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/companies", "admin", company_body("BETA")).status == 201
    for body in (
        account_body("CUST01", "ACME"),
        account_body("VEND01", "ACME", kind="vendor", trading_currencies=["GBP"]),
    ):
        assert invoke_api(api, "POST", "/accounts", "admin", body).status == 201
    return api


def _fields(answer: Any) -> list[str]:
    return [e["field"] for e in answer.body["error"]["details"].get("errors", [])]


def _no_documents(api: Any, company: str = "ACME") -> bool:
    return invoke_api(api, "GET", f"/documents?company={company}", "clerk").body["documents"] == []


def _is_error_shape(answer: Any) -> bool:
    error = answer.body["error"]
    return set(error) == {"code", "message", "details"} and bool(error["message"])


@pytest.mark.parametrize("path", ["/documents", "/documents/post", "/companies"])
def test_json_nested_too_deeply_is_a_400(acme: Any, path: str) -> None:
    # Given a body nested 5,000 levels deep
    body = ("[" * 5000 + "]" * 5000).encode()
    # When it is posted
    answer = invoke_api(acme, "POST", path, "admin", body)
    # Then it is refused as invalid JSON, not a server error
    assert answer.status == 400, answer.body
    assert _is_error_shape(answer) and answer.error_code == "invalid_request"
    assert _fields(answer) == ["body"] and "nested too deeply" in answer.body["error"]["message"]
    assert _no_documents(acme)


def test_a_body_that_is_not_utf8_is_a_400(acme: Any) -> None:
    # Given bytes that are not UTF-8 (Latin-1 text), as the local gateway passes them: base64
    body = json.dumps(document_body(description="Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400, answer.body
    assert _is_error_shape(answer) and _fields(answer) == ["body"]
    assert "UTF-8" in answer.body["error"]["message"]
    assert _no_documents(acme)


def test_the_api_refuses_a_base64_body_that_is_not_utf8_from_api_gateway(api: Any) -> None:
    # Given the event API Gateway itself sends for binary bytes
    from functions.api import handler
    from infra.lambda_runtime import LocalContext
    from tests.support.events import load_event

    event = load_event("api_post_company.json")
    event |= {"body": base64.b64encode(b'{"id": "\xff"}').decode(), "isBase64Encoded": True}
    result = handler.lambda_handler(event, LocalContext("ApiFunction", 29))
    assert result["statusCode"] == 400
    assert json.loads(result["body"])["error"]["details"]["errors"][0]["field"] == "body"


NUMBERS = [
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity=3)),
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price=100)),
    ("lines[1].unit_price", lambda b: b["lines"][1].update(unit_price=7.99)),
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity="1e5")),
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity=" 1")),
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price="+12.50")),
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price="12.")),
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price="Infinity")),
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity=True)),
]


@pytest.mark.parametrize(("field", "spoil"), NUMBERS)
def test_amounts_must_be_decimal_strings_in_plain_notation(
    acme: Any, field: str, spoil: Any
) -> None:
    body = document_body()
    spoil(body)
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400, answer.body
    assert _fields(answer) == [field]
    assert "must be a decimal" in answer.body["error"]["message"]  # named by its label
    assert _no_documents(acme)


def test_a_journal_value_as_a_number_is_refused(acme: Any) -> None:
    body = document_body("journal")
    body["lines"][0]["value"], body["lines"][1]["value"] = 5, -5
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400 and _fields(answer) == ["lines[0].value", "lines[1].value"]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("tax_codes[0].rate", {"tax_codes": [{"code": "STD", "rate": 20}]}),
        ("tax_codes[0].rate", {"tax_codes": [{"code": "STD", "rate": "2e1"}]}),
        (
            "credit_terms.discounts[0].percent",
            {"credit_terms": {"days_due": 30, "discounts": [{"days": 10, "percent": 2}]}},
        ),
        (
            "exchange_rates[0].rate",
            {
                "exchange_rates": [
                    {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": 1}
                ]
            },
        ),
    ],
)
def test_rates_and_percents_must_be_decimal_strings(
    acme: Any, field: str, changes: dict[str, Any]
) -> None:
    created = invoke_api(acme, "POST", "/companies", "admin", company_body("GAMMA", **changes))
    amended = invoke_api(acme, "PATCH", "/companies/ACME", "admin", changes)
    assert created.status == 400 and _fields(created) == [field]
    assert amended.status == 400 and _fields(amended) == [field]
    assert invoke_api(acme, "GET", "/companies/GAMMA", "admin").status == 404
    assert invoke_api(acme, "GET", "/companies/ACME", "admin").body["tax_codes"][0]["rate"] == "20"


@pytest.mark.parametrize("percent", [2, 1.5, "1e1", " 2"])
def test_account_credit_terms_percent_must_be_a_string(acme: Any, percent: Any) -> None:
    terms = {"days_due": 14, "discounts": [{"days": 7, "percent": percent}]}
    answer = invoke_api(acme, "PATCH", "/accounts/CUST01", "clerk", {"credit_terms": terms})
    assert answer.status == 400 and _fields(answer) == ["credit_terms.discounts[0].percent"]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def test_the_openapi_says_amounts_are_strings_with_a_pattern(api: Any) -> None:
    document = invoke_api(api, "GET", "/openapi.json", None).body
    schemas = document["components"]["schemas"]
    for model, field in [
        ("DocumentLine", "quantity"),
        ("DocumentLine", "unit_price"),
        ("JournalLine", "value"),
        ("TaxCode", "rate"),
        ("DiscountTier", "percent"),
        ("ExchangeRate", "rate"),
    ]:
        prop = schemas[model]["properties"][field]
        assert prop["type"] == "string" and prop["pattern"] == DECIMAL_PATTERN, (model, field)
        assert "anyOf" not in prop


def _request_objects(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema (with properties) reachable from any route's request body."""
    found: list[tuple[str, dict[str, Any]]] = []
    seen: set[int] = set()

    def walk(where: str, schema: Any) -> None:
        if not isinstance(schema, dict):
            return
        schema = _resolve(document, schema)
        if id(schema) in seen:
            return
        seen.add(id(schema))
        if "properties" in schema:
            found.append((where, schema))
        for key in ("properties",):
            for name, sub in schema.get(key, {}).items():
                walk(f"{where}.{name}", sub)
        for key in ("items", "additionalProperties"):
            walk(where, schema.get(key))
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                walk(where, sub)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                walk(f"{method.upper()} {path}", media.get("schema", {}))
    return found


def test_every_request_body_refuses_unknown_fields(api: Any) -> None:
    document = invoke_api(api, "GET", "/openapi.json", None).body
    objects = _request_objects(document)
    assert len(objects) > 20  # the walk reaches the nested models, not only the top ones
    lax = [
        (where, s.get("title"))
        for where, s in objects
        if s.get("additionalProperties") is not False
    ]
    assert lax == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/documents/{id}/post", {"mode": "auto", "x": 1}),
        ("/documents/post", {"ids": ["{id}"], "x": 1}),
        ("/documents/background-post", {"type": "sales_invoice", "x": 1}),
        ("/documents/{id}/lines", {"lines": [{"quantity": "1", "unit_price": "1"}], "x": 1}),
    ],
)
def test_unknown_fields_are_refused_and_nothing_happens(
    acme: Any, path: str, body: dict[str, Any]
) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    text = json.dumps(body).replace("{id}", created["id"])
    answer = invoke_api(
        acme, "POST", path.replace("{id}", created["id"]), "admin", json.loads(text)
    )
    assert answer.status == 400, answer.body
    assert _fields(answer) == ["x"] and "is not a field here" in answer.body["error"]["message"]
    after = invoke_api(acme, "GET", f"/documents/{created['id']}", "clerk").body
    assert (after["status"], after["version"], after["line_count"]) == ("In Progress", 1, 2)


def test_me_companies_refuses_unknown_and_disallowed_companies(acme: Any) -> None:
    # Given a clerk allowed every company, and a user allowed BETA only
    beta_only = {"sub": "b", "email": "b@example.com", "custom:companies": "BETA"}
    # When they log into a company that does not exist, or one they are not allowed
    unknown = invoke_api(acme, "PUT", "/me/companies", "clerk", {"companies": ["ACME", "NOPE"]})
    refused = invoke_api(
        acme, "PUT", "/me/companies", claims=beta_only, body={"companies": ["ACME"]}
    )
    # Then both are 400 naming the company, and the clerk still sees every company
    assert unknown.status == 400 and _fields(unknown) == ["companies[1]"]
    assert "'NOPE'" in unknown.body["error"]["message"]
    assert refused.status == 400 and _fields(refused) == ["companies[0]"]
    assert refused.body["error"]["details"]["refused"] == ["ACME"]
    assert invoke_api(acme, "GET", "/companies/ACME", "clerk").status == 200
    assert invoke_api(acme, "GET", "/companies/BETA", "clerk").status == 200


def test_me_companies_star_logs_back_into_every_allowed_company(acme: Any) -> None:
    # Given a clerk who narrowed their session to BETA
    narrowed = invoke_api(acme, "PUT", "/me/companies", "clerk", {"companies": ["BETA"]})
    assert narrowed.status == 200 and narrowed.body == {"companies": ["BETA"]}
    assert invoke_api(acme, "GET", "/companies/ACME", "clerk").status == 403
    # When they log into "*"
    back = invoke_api(acme, "PUT", "/me/companies", "clerk", {"companies": ["*"]})
    # Then they see every company they are allowed again
    assert back.status == 200 and back.body == {"companies": ["*"]}
    assert invoke_api(acme, "GET", "/companies/ACME", "clerk").status == 200
    mixed = invoke_api(acme, "PUT", "/me/companies", "clerk", {"companies": ["*", "ACME"]})
    assert mixed.status == 400 and _fields(mixed) == ["companies"]


def _forged(token: str, case: str) -> str:
    decoded = json.loads(base64.urlsafe_b64decode(token))
    forged = {
        "shape": {"company": 0},
        "key": dict(decoded, key={"pk": {"S": "x"}, "sk": {"S": "HEADER"}}),
    }
    if case in forged:
        return base64.urlsafe_b64encode(json.dumps(forged[case]).encode()).decode()
    if case == "not base64":
        return "not-base64!"
    if case == "a list":
        return base64.urlsafe_b64encode(b"[1, 2]").decode()
    return token  # the genuine token, sent with another query


PAGE_TOKEN_CASES = [
    ("company=BETA", "genuine"),  # another company
    ("company=ACME&type=journal", "genuine"),  # another filter
    ("company=ACME", "shape"),
    ("company=ACME", "key"),
    ("company=ACME", "not base64"),
    ("company=ACME", "a list"),
]
OPEN_ITEMS = "&account=CUST01"  # the open-items list (by account), paged the same way


@pytest.mark.parametrize(
    ("query", "case"),
    [
        *PAGE_TOKEN_CASES,
        *((f"{query}{OPEN_ITEMS}", case) for query, case in PAGE_TOKEN_CASES),
        ("company=ACME", "open items"),  # a token of the open-items list, sent to the plain one
    ],
)
def test_a_page_token_of_another_query_or_forged_is_a_400(acme: Any, query: str, case: str) -> None:
    for _ in range(3):
        invoke_api(acme, "POST", "/documents", "clerk", document_body())
    listed = OPEN_ITEMS if OPEN_ITEMS in query or case == "open items" else ""
    first = invoke_api(acme, "GET", f"/documents?company=ACME{listed}&limit=1", "clerk").body
    token = first["next"]
    assert token
    good = invoke_api(acme, "GET", f"/documents?company=ACME{listed}&limit=1&next={token}", "clerk")
    assert good.status == 200 and good.body["documents"][0]["number"] == "SIN000002"
    bad = _forged(token, case)
    answer = invoke_api(acme, "GET", f"/documents?{query}&limit=1&next={bad}", "clerk")
    assert answer.status == 400, (query, bad, answer.body)
    assert _fields(answer) == ["next"] and _is_error_shape(answer)


@pytest.mark.parametrize(
    "doc_type", ["sales_credit_note", "payable_invoice", "payable_credit_note"]
)
def test_an_income_schedule_outside_a_sales_invoice_is_refused(acme: Any, doc_type: str) -> None:
    body = document_body(doc_type)
    body["lines"][1]["income_schedule"] = {"periods": 12, "frequency": "monthly"}
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400, answer.body
    assert _fields(answer) == ["lines[1].income_schedule"]
    assert _no_documents(acme)


def test_an_income_schedule_cannot_be_amended_or_appended_onto_a_credit_note(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body("sales_credit_note"))
    doc = created.body["id"]
    line = {"quantity": "1", "unit_price": "5", "income_schedule": {"periods": 3}}
    amended = invoke_api(acme, "PATCH", f"/documents/{doc}", "clerk", {"lines": [line]})
    appended = invoke_api(acme, "POST", f"/documents/{doc}/lines", "clerk", {"lines": [line]})
    journal = invoke_api(
        acme,
        "POST",
        "/documents",
        "clerk",
        document_body("journal", lines=[{"gl_account": "1", "value": "0", "income_schedule": {}}]),
    )
    assert amended.status == 400 and _fields(amended) == ["lines[0].income_schedule"]
    assert appended.status == 400 and _fields(appended) == ["lines[0].income_schedule"]
    assert journal.status == 400 and _fields(journal) == ["lines[0].income_schedule"]
    after = invoke_api(acme, "GET", f"/documents/{doc}", "clerk").body
    assert after["line_count"] == 2 and after["version"] == 1


def test_a_sales_invoice_keeps_its_income_schedule(acme: Any) -> None:
    body = document_body()
    body["lines"][0]["income_schedule"] = {"periods": 12}
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 201 and answer.body["lines"][0]["income_schedule"]["periods"] == 12


def test_an_empty_company_in_a_list_is_a_400_naming_it(acme: Any) -> None:
    # Given an administrator, who may use every company
    # When a list names an empty company (found by the fuzz: it was a 500)
    answer = invoke_api(acme, "GET", "/documents?company=", "admin")
    # Then it is refused, naming the field, as any invalid request is
    assert answer.status == 400, answer.body
    assert _fields(answer) == ["company"]


def test_a_query_parameter_the_route_does_not_take_is_a_400_naming_it(acme: Any) -> None:
    # A misspelt filter is refused, not ignored (the answer would look right and be wrong)
    answer = invoke_api(acme, "GET", "/documents?compnay=ACME&limit=1", "clerk")
    assert answer.status == 400 and _fields(answer) == ["compnay"] and _is_error_shape(answer)
    assert "compnay" in answer.body["error"]["message"]
    # Each one the route does not take is named
    answer = invoke_api(acme, "GET", "/scheduler?count=2&x=1&y=2", "admin")
    assert answer.status == 400 and _fields(answer) == ["x", "y"]
    # The parameters a route declares are taken as before
    assert invoke_api(acme, "GET", "/documents?company=ACME&limit=1", "clerk").status == 200


def test_an_amended_lines_problem_is_named_by_its_line(acme: Any) -> None:
    # Given an invoice and a journal In Progress
    invoice = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    journal = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal")).body
    good = {"description": "Widgets", "quantity": "1", "unit_price": "5.00"}
    # When their lines are amended with a bad quantity on the second line and a bad value
    amended = invoke_api(
        acme,
        "PATCH",
        f"/documents/{invoice['id']}",
        "clerk",
        {"lines": [good, good | {"quantity": "two"}]},
    )
    journal_amended = invoke_api(
        acme,
        "PATCH",
        f"/documents/{journal['id']}",
        "clerk",
        {"lines": [{"gl_account": "6000", "value": "x"}]},
    )
    # Then each problem is named by its place, as when the document was created
    assert amended.status == 400 and _fields(amended) == ["lines[1].quantity"]
    assert amended.body["error"]["message"].startswith("Quantity on line 2:")
    assert journal_amended.status == 400 and _fields(journal_amended) == ["lines[0].value"]
    # And nothing changed
    for document in (invoice, journal):
        after = invoke_api(acme, "GET", f"/documents/{document['id']}", "clerk").body
        assert after["version"] == 1 and after["line_count"] == 2
