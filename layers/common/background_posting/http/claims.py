"""The caller, read from the Cognito authorizer's claims that API Gateway passes on."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from background_posting.domain.errors import Unauthenticated
from background_posting.domain.identity import Caller, parse_companies_claim, parse_groups_claim
from background_posting.services.reference_data import with_session


def claims_of(event: BaseProxyEvent) -> dict[str, Any]:
    context = event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    return dict(claims)


def caller_from(event: BaseProxyEvent) -> Caller:
    claims = claims_of(event)
    sub = claims.get("sub")
    if not sub:
        raise Unauthenticated(
            "Sign in first: this request carries no identity.", code="unauthenticated"
        )
    caller = Caller(
        user_id=str(sub),
        email=str(claims.get("email", "")),
        groups=parse_groups_claim(claims.get("cognito:groups")),
        allowed_companies=parse_companies_claim(claims.get("custom:companies")),
    )
    return with_session(caller)
