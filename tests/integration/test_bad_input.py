"""Bad input through the API function (moto): each is a 400 in the error shape naming the field,
and nothing changes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from background_posting.domain.types import DECIMAL_PATTERN
from tests.conftest import PAGE_TOKEN_KEY
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
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity="\u0663")),  # Arabic-Indic 3
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price="\uff11\uff12.50")),
    ("lines[1].unit_price", lambda b: b["lines"][1].update(unit_price="7.\u0669\u0669")),
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
    assert answer.error_code == "invalid_page_token"


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


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/documents", {"Content-Type": "text/plain"}),
        ("POST", "/companies", {"Content-Type": "text/plain; charset=utf-8"}),
        ("PATCH", "/companies/ACME", {"Content-Type": "application/octet-stream"}),
        ("POST", "/documents", {"Content-Type": "multipart/form-data; boundary=x"}),
    ],
)
def test_a_write_without_a_body_that_says_it_is_not_json_is_a_415(
    acme: Any, method: str, path: str, headers: dict[str, str]
) -> None:
    # Given a write with no body and a Content-Type that is not JSON (found by a tryout: a 500)
    answer = invoke_api(acme, method, path, "admin", None, headers=headers)
    # Then it is refused as not JSON, in the error shape, and nothing is made
    assert answer.status == 415, answer.body
    assert _is_error_shape(answer) and answer.error_code == "unsupported_media_type"
    assert _no_documents(acme)
    # A write without a body and without a Content-Type is still a 400 naming the body
    bare = invoke_api(acme, "POST", "/documents", "clerk", None)
    assert bare.status == 400 and _fields(bare) == ["body"]


@pytest.mark.parametrize(
    "path",
    [
        "/documents/../companies/ACME",
        "/documents/%2E%2E/companies/ACME",
        "/documents/./../companies/ACME",
        "/accounts/../companies/ACME",
    ],
)
def test_paths_are_routed_as_sent_never_normalised_into_another_route(acme: Any, path: str) -> None:
    answer = invoke_api(acme, "GET", path, "clerk")
    assert answer.status == 404, answer.body
    assert "ACME" not in json.dumps(answer.body.get("id", ""))
    assert answer.error_code == "route_not_found"


@pytest.mark.parametrize("code", ["XTS", "XXX", "xts"])
def test_iso_codes_that_are_no_money_are_refused_naming_the_field(acme: Any, code: str) -> None:
    document = invoke_api(acme, "POST", "/documents", "clerk", document_body(currency=code))
    company = invoke_api(
        acme, "POST", "/companies", "admin", company_body("GAMMA", dual_currency=code)
    )
    account = invoke_api(
        acme,
        "PATCH",
        "/accounts/CUST01",
        "clerk",
        {"trading_currencies": ["GBP", code]},
    )
    assert document.status == 400 and _fields(document) == ["currency"], document.body
    assert "no currency" in document.body["error"]["message"]
    assert company.status == 400 and _fields(company) == ["dual_currency"], company.body
    assert account.status == 400 and _fields(account) == ["trading_currencies[1]"], account.body
    assert _no_documents(acme)
    assert invoke_api(acme, "GET", "/companies/GAMMA", "admin").status == 404


OUT_OF_RANGE_DATES = ["9999-12-31", "3000-01-01", "1899-12-31", "0001-01-01"]


@pytest.mark.parametrize("day", OUT_OF_RANGE_DATES)
def test_a_date_outside_1900_to_2999_is_refused_where_it_is_entered(acme: Any, day: str) -> None:
    # Given dates the books cannot take (found by a tryout: 9999-12-31 was created, then its
    # preview, print and post answered 500)
    invoice = invoke_api(acme, "POST", "/documents", "clerk", document_body(document_date=day))
    journal = invoke_api(
        acme, "POST", "/documents", "clerk", document_body("journal", auto_reverse_on=day)
    )
    rate = {"from_currency": "USD", "to_currency": "GBP", "date": day, "rate": "0.8"}
    period = {"name": "far", "start": "2026-12-01", "end": day, "status": "open"}
    company = invoke_api(
        acme, "POST", "/companies", "admin", company_body("GAMMA", exchange_rates=[rate])
    )
    amended = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"periods": [period]})
    template = document_body()
    template.pop("document_date")
    recurring = invoke_api(
        acme,
        "POST",
        "/recurring-invoices",
        "clerk",
        {"template": template, "frequency": "monthly", "start": day},
    )
    # Then each is a 400 naming the field and saying the range, and nothing is made
    for answer, field in [
        (invoice, "document_date"),
        (journal, "auto_reverse_on"),
        (company, "exchange_rates[0].date"),
        (amended, "periods[0].end"),
        (recurring, "start"),
    ]:
        assert answer.status == 400, (field, answer.body)
        assert field in _fields(answer), (field, answer.body)
        assert "1900-01-01 to 2999-12-31" in answer.body["error"]["message"], answer.body
    assert _no_documents(acme)
    assert invoke_api(acme, "GET", "/companies/GAMMA", "admin").status == 404
    periods = invoke_api(acme, "GET", "/companies/ACME", "admin").body["periods"]
    assert [p["name"] for p in periods] == ["2026-11", "2026-10"]


def test_a_document_amended_or_reversed_to_a_date_out_of_range_is_refused(acme: Any) -> None:
    created = invoke_api(acme, "POST", "/documents", "clerk", document_body()).body
    amended = invoke_api(
        acme, "PATCH", f"/documents/{created['id']}", "clerk", {"document_date": "9999-12-31"}
    )
    assert amended.status == 400 and _fields(amended) == ["document_date"], amended.body
    after = invoke_api(acme, "GET", f"/documents/{created['id']}", "clerk").body
    assert after["document_date"] == created["document_date"] and after["version"] == 1
    reverse = invoke_api(
        acme, "POST", f"/documents/{created['id']}/reverse", "clerk", {"date": "9999-12-31"}
    )
    assert reverse.status == 400 and _fields(reverse) == ["date"], reverse.body


def test_the_last_date_the_books_take_previews_prints_and_posts(acme: Any) -> None:
    # Given a company with a period holding 2999-12-31, and an invoice dated that day
    period = {"name": "2999-12", "start": "2999-12-01", "end": "2999-12-31", "status": "open"}
    assert (
        invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"periods": [period]}).status == 200
    )
    created = invoke_api(
        acme, "POST", "/documents", "clerk", document_body(document_date="2999-12-31")
    )
    assert created.status == 201, created.body
    doc = created.body["id"]
    # Then its preview, print and post answer (its due date is in 3000), never a 500
    preview = invoke_api(acme, "POST", f"/documents/{doc}/preview", "clerk")
    printed = invoke_api(acme, "GET", f"/documents/{doc}/print", "clerk")
    posted = invoke_api(acme, "POST", f"/documents/{doc}/post", "admin")
    assert preview.status == 200, preview.body
    assert printed.status == 200
    assert posted.status == 200, posted.body
    assert posted.body["status"] == "Complete"


BIG = "1" + "0" * 15  # 16 digits before the point
TOO_BIG = [
    ("lines[0].unit_price", lambda b: b["lines"][0].update(unit_price=BIG)),
    ("lines[0].quantity", lambda b: b["lines"][0].update(quantity="-" + BIG + ".5")),
    ("lines[1].unit_price", lambda b: b["lines"][1].update(unit_price="9" * 27)),
    ("lines[0]", lambda b: b["lines"][0].update(quantity="99999999", unit_price="99999999.99")),
]


@pytest.mark.parametrize(("field", "spoil"), TOO_BIG)
def test_amounts_over_15_whole_digits_are_refused_where_they_enter(
    acme: Any, field: str, spoil: Any
) -> None:
    # Given amounts near Decimal's 28 digits (found by a tryout: created, then its preview,
    # print and post answered 500, and in the background it failed with InvalidOperation)
    body = document_body()
    spoil(body)
    answer = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert answer.status == 400, answer.body
    assert _fields(answer) == [field]
    assert "15 digits before the decimal point" in answer.body["error"]["message"]
    assert _no_documents(acme)


def test_journal_values_rates_and_order_prices_over_15_whole_digits_are_refused(acme: Any) -> None:
    journal = document_body("journal")
    journal["lines"][0]["value"], journal["lines"][1]["value"] = "9" * 27, "-" + "9" * 27
    refused = invoke_api(acme, "POST", "/documents", "clerk", journal)
    assert refused.status == 400, refused.body
    assert _fields(refused) == ["lines[0].value", "lines[1].value"]
    rate = {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": BIG}
    company = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"exchange_rates": [rate]})
    assert company.status == 400 and _fields(company) == ["exchange_rates[0].rate"]
    order = {
        "company": "ACME",
        "vendor": "VEND01",
        "currency": "GBP",
        "lines": [{"line": 1, "quantity": "1", "unit_price": BIG}],
    }
    ordered = invoke_api(acme, "POST", "/purchase-orders", "clerk", order)
    assert ordered.status == 400 and _fields(ordered) == ["lines[0].unit_price"], ordered.body
    assert _no_documents(acme)
    rates = invoke_api(acme, "GET", "/companies/ACME", "admin").body["exchange_rates"]
    assert [r["rate"] for r in rates] == ["1.15", "0.79"]


def test_the_largest_amounts_the_books_take_preview_print_and_post(acme: Any) -> None:
    # Given an invoice in USD at the largest rate, with the largest line net and price
    rate = "9" * 15
    rates = [
        {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": rate},
        {"from_currency": "GBP", "to_currency": "EUR", "date": "2026-01-01", "rate": rate},
    ]
    assert (
        invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"exchange_rates": rates}).status
        == 200
    )
    body = document_body(currency="USD")
    body["lines"][0].update(quantity="1", unit_price="9" * 15 + ".99")
    body["lines"][1].update(quantity="0.000001", unit_price="9" * 15)
    created = invoke_api(acme, "POST", "/documents", "clerk", body)
    assert created.status == 201, created.body
    doc = created.body["id"]
    # Then its preview, print and post answer, never a 500
    preview = invoke_api(acme, "POST", f"/documents/{doc}/preview", "clerk")
    printed = invoke_api(acme, "GET", f"/documents/{doc}/print", "clerk")
    posted = invoke_api(acme, "POST", f"/documents/{doc}/post", "admin")
    assert preview.status == 200, preview.body
    assert printed.status == 200
    assert posted.status == 200, posted.body


def _with_key(token: str, signed: bool, **values: str) -> str:
    """The token with its start key changed; `signed`: signed again with the tests' key, as one
    who had the key would (what a token decodes to is still checked), else left as it was."""
    decoded = json.loads(base64.urlsafe_b64decode(token))
    for name, value in values.items():
        decoded["key"][name] = {"S": value}
    if signed:
        decoded.pop("mac")
        position = json.dumps(["position", decoded], sort_keys=True, separators=(",", ":"))
        decoded["mac"] = hmac.new(
            PAGE_TOKEN_KEY.encode(), position.encode(), hashlib.sha256
        ).hexdigest()
    return base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode()


FORGED_KEYS = [
    {"pk": ""},  # an empty partition key
    {"pk": "junk"},  # a partition key no header has
    {"list_pk": ""},
    {"list_sk": ""},  # an empty sort key of the index
    {"list_sk": "journal#Complete#JNL000001"},  # outside the list's prefix (sales_invoice#)
    {"sk": "LINES#000001#0000"},  # a lines item, not a header
    {"list_sk": "sales_invoice#"},  # the prefix itself, no document under it
]


@pytest.mark.parametrize("signed", [True, False], ids=["signed again", "signature kept"])
@pytest.mark.parametrize("listed", ["", OPEN_ITEMS])
@pytest.mark.parametrize("forged", FORGED_KEYS)
def test_a_page_token_with_a_forged_start_key_is_a_400_on_dynamodb(
    local_store: Any, page_token_secret: None, listed: str, forged: dict[str, str], signed: bool
) -> None:
    # Given the API on DynamoDB Local (which refuses such start keys: the tryout's 500s), and a
    # genuine token of a list of sales invoices
    from functions.api import handler

    api = handler.lambda_handler
    assert invoke_api(api, "POST", "/companies", "admin", company_body("ACME")).status == 201
    assert invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01")).status == 201
    for _ in range(3):
        assert invoke_api(api, "POST", "/documents", "clerk", document_body()).status == 201
    query = f"/documents?company=ACME&type=sales_invoice{listed}&limit=1"
    token = invoke_api(api, "GET", query, "clerk").body["next"]
    assert token and invoke_api(api, "GET", f"{query}&next={token}", "clerk").status == 200
    unchanged = _with_key(token, signed)  # signed again as the API signs: it pages on
    assert invoke_api(api, "GET", f"{query}&next={unchanged}", "clerk").status == 200
    # When its start key is forged
    answer = invoke_api(api, "GET", f"{query}&next={_with_key(token, signed, **forged)}", "clerk")
    # Then it is refused naming the token, never a 500
    assert answer.status == 400, (forged, answer.body)
    assert _fields(answer) == ["next"] and _is_error_shape(answer)
    assert answer.error_code == "invalid_page_token"


def test_a_journal_line_naming_another_company_s_account_is_refused_when_entered(
    acme: Any,
) -> None:
    # Given an account of BETA, and a journal of ACME whose second line names it
    assert (
        invoke_api(acme, "POST", "/accounts", "admin", account_body("BCUST", "BETA")).status == 201
    )
    body = document_body("journal")
    body["lines"][0]["account"] = "CUST01"
    body["lines"][1]["account"] = "BCUST"
    # When it is created, or a journal is amended or given lines naming it, or an unknown one
    created = invoke_api(acme, "POST", "/documents", "clerk", body)
    journal = invoke_api(acme, "POST", "/documents", "clerk", document_body("journal")).body
    line = {"gl_account": "6000", "value": "1.00", "account": "NOSUCH"}
    amended = invoke_api(
        acme, "PATCH", f"/documents/{journal['id']}", "clerk", {"lines": [body["lines"][1]]}
    )
    appended = invoke_api(
        acme, "POST", f"/documents/{journal['id']}/lines", "clerk", {"lines": [line]}
    )
    # Then each is refused naming the line's account (as the document's own account is)
    assert created.status == 422 and created.error_code == "account_not_found", created.body
    assert _fields(created) == ["lines[1].account"]
    assert "BCUST does not exist in company ACME" in created.body["error"]["message"]
    assert amended.status == 422 and _fields(amended) == ["lines[0].account"], amended.body
    assert appended.status == 422 and _fields(appended) == ["lines[2].account"], appended.body
    after = invoke_api(acme, "GET", f"/documents/{journal['id']}", "clerk").body
    assert after["version"] == 1 and after["line_count"] == 2
    listed = invoke_api(acme, "GET", "/documents?company=ACME", "clerk").body["documents"]
    assert [d["id"] for d in listed] == [journal["id"]]
    # A line naming ACME's own account is taken
    body["lines"][1]["account"] = "CUST01"
    assert invoke_api(acme, "POST", "/documents", "clerk", body).status == 201


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


def test_silent_nonsense_in_rates_terms_and_templates_is_refused(acme: Any) -> None:
    # Two rates for one pair and date
    rate = {"from_currency": "USD", "to_currency": "GBP", "date": "2026-01-01", "rate": "0.8"}
    twice = invoke_api(
        acme,
        "PATCH",
        "/companies/ACME",
        "admin",
        {"exchange_rates": [rate, rate | {"rate": "0.9"}]},
    )
    assert twice.status == 400 and _fields(twice) == ["exchange_rates"], twice.body
    assert (
        "exchange_rates[1] repeats the rate of USD to GBP on 2026-01-01"
        in (twice.body["error"]["message"])
    )
    # A discount for paying after the due date
    late = {"days_due": 10, "discounts": [{"days": 14, "percent": "2"}]}
    company = invoke_api(acme, "PATCH", "/companies/ACME", "admin", {"credit_terms": late})
    account = invoke_api(acme, "PATCH", "/accounts/CUST01", "clerk", {"credit_terms": late})
    for answer in (company, account):
        assert answer.status == 400 and _fields(answer) == ["credit_terms"], answer.body
        assert "ends after the due date" in answer.body["error"]["message"]
    # A recurring invoice with no lines
    template = document_body(lines=[])
    template.pop("document_date")
    empty = invoke_api(
        acme,
        "POST",
        "/recurring-invoices",
        "clerk",
        {"template": template, "frequency": "monthly", "start": "2026-11-01"},
    )
    assert empty.status == 400 and _fields(empty) == ["template"], empty.body
    # Nothing changed
    after = invoke_api(acme, "GET", "/companies/ACME", "admin").body
    assert [r["rate"] for r in after["exchange_rates"]] == ["1.15", "0.79"]
    assert after["credit_terms"]["days_due"] == 30
