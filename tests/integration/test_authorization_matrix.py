"""Who may call what: every route of the OpenAPI x five users x own / foreign company.

MATRIX is the one table. Each row is a route as the OpenAPI names it (`METHOD /path`), the
request that exercises it (path and body, built for a given company), and the expected status
for each user in COLUMNS, as "own foreign": the status for company ACME, then for company
BETA. `acme` is a clerk whose `custom:companies` claim is "ACME" only, so BETA is foreign to
them; the other four are the local users, allowed every company. A status other than 2xx
that is not 401/403 (a 404, a 409) means the request passed authorization and was refused by
a rule after it; the row says which, so a change in either shows.

Adding a route: add one row. A route in the OpenAPI without a row fails
`test_every_route_in_the_openapi_has_a_row`, naming it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import mocked_aws
from tests.support.api import USERS, invoke_api
from tests.support.data import account_body, company_body, document_body
from tests.support.scenario import given_company

COLUMNS = ("admin", "runner", "lister", "clerk", "acme")
COMPANIES = ("ACME", "BETA")  # own, foreign (for `acme`; the others may use both)


def claims(user: str) -> dict[str, str]:
    if user == "acme":
        return {
            "sub": "acme-clerk",
            "email": "acme-clerk@example.com",
            "cognito:groups": "",
            "custom:companies": "ACME",
        }
    entry = USERS[user]
    return {
        "sub": user,
        "email": entry["email"],
        "cognito:groups": ",".join(entry.get("groups", [])),
        "custom:companies": entry.get("companies", "*"),
    }


@dataclass
class World:
    """Fresh data for each cell, created by the administrator through the API."""

    api: Any
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        answer = invoke_api(self.api, method, path, "admin", body)
        assert answer.status < 300, (method, path, answer.status, answer.body)
        return answer.body

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def account(self, company: str) -> str:
        return "CUST01" if company == "ACME" else f"CUST01-{company}"

    def document_body(self, company: str) -> dict[str, Any]:
        return document_body("sales_invoice", company=company, account=self.account(company))

    def document(self, company: str) -> dict[str, Any]:
        return dict(self.admin("POST", "/documents", self.document_body(company)))

    def queued(self, company: str) -> dict[str, Any]:
        document = self.document(company)
        self.admin("POST", "/documents/post", {"ids": [document["id"]]})
        return document

    def posted(self, company: str) -> dict[str, Any]:
        document = self.document(company)
        self.admin("POST", f"/documents/{document['id']}/post", {"mode": "immediate"})
        return document

    def group(self, company: str) -> str:
        self.queued(company)
        groups = self.admin("GET", "/worker-log-groups")["worker_log_groups"]
        return str(groups[-1]["id"])

    def run(self) -> str:
        return str(self.admin("POST", "/scheduler/run")["run_id"])


Request = Callable[[World, str], tuple[str, Any]]  # (world, company) -> (path, body)


def _for(value: Any, company: str) -> Any:
    if isinstance(value, str):
        return value.format(company=company)
    if isinstance(value, list):
        return [_for(v, company) for v in value]
    if isinstance(value, dict):
        return {k: _for(v, company) for k, v in value.items()}
    return value


def path(template: str, body: Any = None) -> Request:
    """A fixed route; `{company}` in the path or the body is the cell's company."""
    return lambda world, company: (_for(template, company), _for(body, company))


def with_document(kind: str, suffix: str = "", body: Any = None) -> Request:
    def build(world: World, company: str) -> tuple[str, Any]:
        document = getattr(world, kind)(company)
        return f"/documents/{document['id']}{suffix}", body

    return build


def new_company(world: World, company: str) -> tuple[str, Any]:
    return "/companies", company_body(world.fresh(company + "N"))


def new_account(world: World, company: str) -> tuple[str, Any]:
    return "/accounts", account_body(world.fresh("NEW"), company)


def new_document(world: World, company: str) -> tuple[str, Any]:
    return "/documents", world.document_body(company)


def list_view_post(world: World, company: str) -> tuple[str, Any]:
    return "/documents/post", {"ids": [world.document(company)["id"]]}


def worker_items(world: World, company: str) -> tuple[str, Any]:
    return f"/worker-items?reference={world.queued(company)['number']}", None


def account_path(suffix: str = "", body: Any = None) -> Request:
    return lambda world, company: (f"/accounts/{world.account(company)}{suffix}", body)


def group_path(world: World, company: str) -> tuple[str, Any]:
    return f"/worker-log-groups/{world.group(company)}", None


def run_path(world: World, company: str) -> tuple[str, Any]:
    return f"/runs/{world.run()}", None


def run_results_path(world: World, company: str) -> tuple[str, Any]:
    return f"/runs/{world.run()}/results", None


def vendor(company: str) -> str:
    return "VEND01" if company == "ACME" else f"VEND01-{company}"


def order_body(world: World, company: str) -> dict[str, Any]:
    return {
        "id": world.fresh(f"PO-{company}-"),
        "company": company,
        "vendor": vendor(company),
        "currency": "GBP",
        "lines": [{"line": 1, "description": "Widgets", "quantity": "10", "unit_price": "2.50"}],
    }


def new_order(world: World, company: str) -> tuple[str, Any]:
    return "/purchase-orders", order_body(world, company)


def order_path(world: World, company: str) -> tuple[str, Any]:
    order = world.admin("POST", "/purchase-orders", order_body(world, company))
    return f"/purchase-orders/{order['id']}", None


def new_receipt(world: World, company: str) -> tuple[str, Any]:
    order = world.admin("POST", "/purchase-orders", order_body(world, company))
    body = {
        "company": company,
        "purchase_order": order["id"],
        "date": "2026-11-20",
        "lines": [{"line": 1, "quantity": "4"}],
    }
    return "/goods-receipts", body


def recurring_body(world: World, company: str) -> dict[str, Any]:
    return {
        "template": world.document_body(company),
        "frequency": "monthly",
        "start": "2026-11-15",
        "save_and_post": False,
    }


def new_recurring(world: World, company: str) -> tuple[str, Any]:
    return "/recurring-invoices", recurring_body(world, company)


def recurring_path(world: World, company: str) -> tuple[str, Any]:
    template = world.admin("POST", "/recurring-invoices", recurring_body(world, company))
    return f"/recurring-invoices/{template['id']}", None


def credit_note_of(world: World, company: str) -> dict[str, Any]:
    """An In Progress credit note made from a posted invoice."""
    invoice = world.posted(company)
    dated = {"document_date": "2026-11-20"}  # in the companies' open period
    return dict(world.admin("POST", f"/documents/{invoice['id']}/credit-note", dated))


def post_and_match(world: World, company: str) -> tuple[str, Any]:
    return f"/documents/{credit_note_of(world, company)['id']}/post-and-match", None


def match_two(world: World, company: str) -> tuple[str, Any]:
    note = credit_note_of(world, company)
    world.admin("POST", f"/documents/{note['id']}/post", {"mode": "immediate"})
    return f"/documents/{note['source_document']}/match", {"with": note["id"]}


def match_path(world: World, company: str) -> tuple[str, Any]:
    note = credit_note_of(world, company)
    matched = world.admin("POST", f"/documents/{note['id']}/post-and-match")
    document = matched.get("credit_note", matched)
    return f"/matches/{document['matches'][0]['id']}", None


def save_and_post(world: World, company: str) -> tuple[str, Any]:
    return "/documents/save-and-post", world.document_body(company)


LINE = {"description": "More", "quantity": "1", "unit_price": "5.00", "tax_code": "STD"}


# fmt: off
# route: (expected, request). `expected` lists each column of COLUMNS as "own/foreign":
#                admin   runner  lister  clerk   acme
MATRIX: dict[str, tuple[str, Request]] = {
    "GET /health":
        ("200/200 200/200 200/200 200/200 200/200", path("/health")),
    "GET /openapi.json":
        ("200/200 200/200 200/200 200/200 200/200", path("/openapi.json")),
    "GET /companies":  # everyone may list: the companies they may use
        ("200/200 200/200 200/200 200/200 200/200", path("/companies")),
    "GET /companies/{company_id}":
        ("200/200 200/200 200/200 200/200 200/403", path("/companies/{company}")),
    "PATCH /companies/{company_id}":
        ("200/200 403/403 403/403 403/403 403/403", path("/companies/{company}", {"name": "Renamed"})),
    "GET /accounts":
        ("200/200 200/200 200/200 200/200 200/403", path("/accounts?company={company}")),
    "GET /accounts/{account_id}":
        ("200/200 200/200 200/200 200/200 200/404", account_path()),
    "PATCH /accounts/{account_id}":
        ("200/200 200/200 200/200 200/200 200/404", account_path(body={"name": "Renamed"})),
    "GET /companies/{company_id}/settings":
        ("200/200 200/200 200/200 200/200 200/403", path("/companies/{company}/settings")),
    "PUT /companies/{company_id}/settings":
        ("200/200 403/403 403/403 403/403 403/403", path("/companies/{company}/settings", {"journal_line_limit": 250})),
    "GET /documents/{document_id}":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document")),
    "PATCH /documents/{document_id}":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", body={"reference": "PO-1"})),
    "POST /documents/{document_id}/discard":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/discard")),
    "POST /documents/{document_id}/post":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/post", {"mode": "immediate"})),
    "GET /documents/{document_id}/transaction":
        ("200/200 200/200 200/200 200/200 200/404", with_document("posted", "/transaction")),
    "GET /documents/{document_id}/print":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/print")),
    "PUT /documents/{document_id}/status":
        ("409/409 403/403 403/403 403/403 403/404", with_document("queued", "/status", {"status": "In Progress"})),
    "POST /documents/{document_id}/cancel-background":
        ("200/200 403/403 403/403 403/403 403/404", with_document("queued", "/cancel-background")),
    "POST /documents/{document_id}/retry-now":
        ("202/202 202/202 403/403 403/403 403/404", with_document("queued", "/retry-now")),
    "DELETE /documents/{document_id}/worker-items":
        ("200/200 403/403 403/403 403/403 403/403", with_document("queued", "/worker-items")),
    "GET /runs":  # everyone may list: an administrator every run, anyone else their own
        ("200/200 200/200 200/200 200/200 200/200", path("/runs?trigger=run_now")),
    "GET /documents/{document_id}/history":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/history")),
    "GET /audit":
        ("200/200 403/403 403/403 403/403 403/403", path("/audit?company={company}")),
    "GET /runs/{run_id}":
        ("200/200 200/200 404/404 404/404 404/404", run_path),
    "GET /runs/{run_id}/results":
        ("200/200 200/200 404/404 404/404 404/404", run_results_path),
    "GET /worker-log-groups/{group_id}":
        ("200/200 404/404 404/404 404/404 404/404", group_path),
    "DELETE /worker-log-groups/{group_id}":
        ("204/204 404/404 404/404 404/404 404/404", group_path),
    "POST /companies":
        ("201/201 403/403 403/403 403/403 403/403", new_company),
    "POST /accounts":
        ("201/201 201/201 201/201 201/201 201/403", new_account),
    "PUT /me/companies":
        ("200/200 200/200 200/200 200/200 200/400", path("/me/companies", {"companies": ["{company}"]})),
    "GET /settings/background-posting":
        ("200/200 200/200 403/403 403/403 403/403", path("/settings/background-posting")),
    "PUT /settings/background-posting":
        ("200/200 403/403 403/403 403/403 403/403", path("/settings/background-posting", {"max_attempts": 3})),
    "GET /me/notifications":
        ("200/200 200/200 200/200 200/200 200/200", path("/me/notifications")),
    "PUT /me/notifications":
        ("200/200 200/200 200/200 200/200 200/200", path("/me/notifications", {"reminders": True})),
    "GET /documents":
        ("200/200 200/200 200/200 200/200 200/403", path("/documents?company={company}")),
    "POST /documents":
        ("201/201 201/201 201/201 201/201 201/403", new_document),
    "POST /documents/post":
        ("202/202 202/202 202/202 202/202 202/409", list_view_post),
    "POST /documents/background-post":
        ("202/202 403/403 202/202 403/403 403/403", path("/documents/background-post", {"type": "sales_invoice"})),
    "GET /worker-items":
        ("200/200 200/200 200/200 200/200 200/200", worker_items),
    "POST /scheduler/run":
        ("202/202 202/202 403/403 403/403 403/403", path("/scheduler/run")),
    "GET /worker-log-groups":
        ("200/200 200/200 200/200 200/200 200/200", path("/worker-log-groups")),
    "GET /scheduler":
        ("200/200 200/200 403/403 403/403 403/403", path("/scheduler")),
    "PUT /scheduler":
        ("200/200 403/403 403/403 403/403 403/403", path("/scheduler", {"frequency": "daily", "time": "02:00"})),
    "DELETE /scheduler":
        ("200/200 403/403 403/403 403/403 403/403", path("/scheduler")),
    "GET /me":
        ("200/200 200/200 200/200 200/200 200/200", path("/me")),
    "PATCH /companies/{company_id}/periods/{period_name}":
        ("200/200 403/403 403/403 403/403 403/403", path("/companies/{company}/periods/2026-11", {"status": "open"})),
    "POST /documents/{document_id}/lines":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/lines", {"lines": [LINE]})),
    "POST /documents/{document_id}/preview":
        ("200/200 200/200 200/200 200/200 200/404", with_document("document", "/preview")),
    "POST /documents/save-and-post":
        ("200/200 200/200 200/200 200/200 200/403", save_and_post),
    "POST /documents/{document_id}/credit-note":
        ("201/201 201/201 201/201 201/201 201/404", with_document("posted", "/credit-note", {"document_date": "2026-11-20"})),
    "POST /documents/{document_id}/post-and-match":
        ("200/200 200/200 200/200 200/200 200/404", post_and_match),
    "POST /documents/{document_id}/match":
        ("200/200 200/200 200/200 200/200 200/404", match_two),
    "DELETE /matches/{match_id}":
        ("200/200 200/200 200/200 200/200 200/404", match_path),
    "POST /recurring-invoices":
        ("201/201 201/201 201/201 201/201 201/403", new_recurring),
    "GET /recurring-invoices/{template_id}":
        ("200/200 200/200 200/200 200/200 200/404", recurring_path),
    "DELETE /recurring-invoices/{template_id}":
        ("200/200 200/200 200/200 200/200 200/404", recurring_path),
    "POST /purchase-orders":
        ("201/201 201/201 201/201 201/201 201/403", new_order),
    "GET /purchase-orders/{order_id}":
        ("200/200 200/200 200/200 200/200 200/404", order_path),
    "POST /goods-receipts":
        ("201/201 201/201 201/201 201/201 201/403", new_receipt),
    "POST /documents/{document_id}/reschedule-verification":
        ("409/409 409/409 409/409 409/409 409/404", with_document("queued", "/reschedule-verification")),
    "POST /documents/{document_id}/reverse":
        ("409/409 409/409 409/409 409/409 409/404", with_document("posted", "/reverse", {"date": "2026-11-28"})),
    "POST /documents/{document_id}/complete-verification":
        ("409/409 409/409 409/409 409/409 409/404", with_document("posted", "/complete-verification")),
}
# fmt: on


def routes_in_openapi(api: Any) -> set[str]:
    document = invoke_api(api, "GET", "/openapi.json", user=None).body
    return {
        f"{method.upper()} {route}"
        for route, operations in document["paths"].items()
        for method in operations
    }


def test_every_route_in_the_openapi_has_a_row(api: Any) -> None:
    routes = routes_in_openapi(api)
    missing = sorted(routes - set(MATRIX))
    assert not missing, "add a row to MATRIX for: " + ", ".join(missing)
    gone = sorted(set(MATRIX) - routes)
    assert not gone, "MATRIX has rows for routes the OpenAPI no longer lists: " + ", ".join(gone)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto world for the whole table (each cell makes its own documents): two companies,
    each with its customer (ACME's is CUST01, BETA's CUST01-BETA)."""
    with pytest.MonkeyPatch.context() as monkeypatch, mocked_aws(monkeypatch):
        from functions.api import handler

        given_company("ACME")
        given_company("BETA")
        yield World(handler.lambda_handler)


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_each_user_gets_the_expected_status_on_each_route(route: str, world: World) -> None:
    # Given two companies and fresh data for each cell
    api = world.api
    cells, request = MATRIX[route]
    expected = [cell.replace("/", " ") for cell in cells.split()]
    method = route.split(" ", 1)[0]

    # When each user calls the route for their own company and for a foreign one
    seen = []
    for user in COLUMNS:
        cell = []
        for company in COMPANIES:
            target, body = request(world, company)
            answer = invoke_api(api, method, target, None, body, claims=claims(user))
            cell.append(str(answer.status))
            if route == "PUT /me/companies":  # log back into both, for the rows after this one
                both = {"companies": ["ACME"] if user == "acme" else list(COMPANIES)}
                invoke_api(api, "PUT", "/me/companies", None, both, claims=claims(user))
        seen.append(" ".join(cell))

    # Then each status is the one the table expects
    assert dict(zip(COLUMNS, seen, strict=True)) == dict(zip(COLUMNS, expected, strict=True))
