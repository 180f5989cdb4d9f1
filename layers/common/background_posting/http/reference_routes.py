"""Routes: companies, accounts and the caller's logged-in companies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from background_posting.domain.company import (
    Account,
    AccountPatch,
    Company,
    CompanyPatch,
    Period,
    PeriodStatus,
)
from background_posting.domain.model import LazyModel
from background_posting.domain.types import Identifier
from background_posting.http.claims import caller_from
from background_posting.services import reference_data

router = Router()

CompanyId = Annotated[
    str, Path(description="Company id", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
]
AccountId = Annotated[
    str, Path(description="Account id", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
]


def created(body: BaseModel) -> Response[dict[str, Any]]:
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


@router.post("/companies", tags=["Companies"], summary="Create a company (System Administrator)")
def create_company(company: Annotated[Company, Body()]) -> Response[dict[str, Any]]:
    caller = caller_from(router.current_event)
    return created(reference_data.create_company(caller, company))


class CompanySummary(BaseModel):
    id: str
    name: str
    home_currency: str
    dual_currency: str
    timezone: str


class CompaniesPage(BaseModel):
    companies: list[CompanySummary]
    next: str | None = Field(description="The following page's token (null: the last page)")


@router.get(
    "/companies",
    tags=["Companies"],
    summary="The companies you may use, in id order",
    description="A page of the companies you may use (those you are logged into); `next` "
    "gives the following page. `GET /companies/{id}` reads one whole.",
)
def list_companies(
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> CompaniesPage:
    page = reference_data.list_companies(caller_from(router.current_event), limit, next)
    return CompaniesPage(
        companies=[
            CompanySummary(
                id=c.id,
                name=c.name,
                home_currency=c.home_currency,
                dual_currency=c.dual_currency,
                timezone=c.timezone,
            )
            for c in page.companies
        ],
        next=page.next_token,
    )


@router.get("/companies/<company_id>", tags=["Companies"], summary="Read a company")
def get_company(company_id: CompanyId) -> Company:
    return reference_data.get_company(caller_from(router.current_event), company_id)


@router.patch("/companies/<company_id>", tags=["Companies"], summary="Amend a company")
def amend_company(company_id: CompanyId, patch: Annotated[CompanyPatch, Body()]) -> Company:
    return reference_data.amend_company(caller_from(router.current_event), company_id, patch)


class PeriodStatusChange(LazyModel):
    model_config = ConfigDict(extra="forbid")

    status: PeriodStatus


PeriodName = Annotated[str, Path(description="Period name", min_length=1, max_length=40)]


@router.patch(
    "/companies/<company_id>/periods/<period_name>",
    tags=["Companies"],
    summary="Close or reopen one period (System Administrator)",
)
def set_period_status(
    company_id: CompanyId, period_name: PeriodName, change: Annotated[PeriodStatusChange, Body()]
) -> Period:
    caller = caller_from(router.current_event)
    return reference_data.set_period_status(caller, company_id, period_name, change.status)


@router.post("/accounts", tags=["Accounts"], summary="Create a customer or vendor")
def create_account(account: Annotated[Account, Body()]) -> Response[dict[str, Any]]:
    caller = caller_from(router.current_event)
    return created(reference_data.create_account(caller, account))


class AccountsPage(BaseModel):
    accounts: list[Account]
    next: str | None = Field(description="The following page's token (null: the last page)")


@router.get(
    "/accounts",
    tags=["Accounts"],
    summary="A company's customers and vendors, in id order",
    description="A page of the accounts of `company` (one you may use), only those of `kind` "
    "when given (a page may then hold fewer than `limit`); `next` gives the following page.",
)
def list_accounts(
    company: Annotated[str, Query(min_length=1, max_length=40)],
    kind: Annotated[Literal["customer", "vendor"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> AccountsPage:
    caller = caller_from(router.current_event)
    page = reference_data.list_accounts(caller, company, kind, limit, next)
    return AccountsPage(accounts=page.accounts, next=page.next_token)


@router.get("/accounts/<account_id>", tags=["Accounts"], summary="Read a customer or vendor")
def get_account(account_id: AccountId) -> Account:
    return reference_data.get_account(caller_from(router.current_event), account_id)


@router.patch("/accounts/<account_id>", tags=["Accounts"], summary="Amend a customer or vendor")
def amend_account(account_id: AccountId, patch: Annotated[AccountPatch, Body()]) -> Account:
    return reference_data.amend_account(caller_from(router.current_event), account_id, patch)


class LoggedInCompanies(LazyModel):
    model_config = ConfigDict(extra="forbid")

    companies: list[Identifier | Literal["*"]] = Field(
        min_length=1,
        max_length=500,
        description='The company ids to log into, each one you are allowed; `["*"]` logs you '
        "back into every company you are allowed.",
    )


@router.get("/me", tags=["Session"], summary="Who you are and what you may do")
def who_am_i() -> dict[str, Any]:
    return reference_data.who_am_i(caller_from(router.current_event))


@router.put("/me/companies", tags=["Session"], summary="Choose the companies you are logged into")
def log_into_companies(body: Annotated[LoggedInCompanies, Body()]) -> LoggedInCompanies:
    caller = caller_from(router.current_event)
    chosen = reference_data.log_into_companies(caller, list(body.companies))
    return LoggedInCompanies(companies=chosen)
