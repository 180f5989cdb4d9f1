"""AvaTax REST API v2: create a transaction (uncommitted), commit it, void it.

Why not Avalara's official Python SDK (PyPI `Avalara`): it is maintained, but it is a generated
wrapper over `requests` that hands back raw responses, retries nothing, and leaves timeouts to
one optional number; it would add `requests` and its dependencies to the layer for three calls.
This module is a small client on the standard library (urllib) instead, with what the posting
worker needs and the SDK lacks:

* an explicit timeout on every request, and a deadline for the whole call (retries included),
  so a Lambda invocation never outlives its time limit because AvaTax is slow;
* transient failures (HTTP 429 rate limiting, 5xx, timeouts, dropped connections) retried with
  exponential backoff, honouring `Retry-After`; then `AvaTaxUnavailable`;
* AvaTax's error body (`{"error": {"code", "message", "details": [...]}}`) kept whole in
  `AvaTaxError`, so the worker log shows AvaTax's own words.

`AvaTaxProvider` maps the domain's `TaxRequest` to AvaTax's CreateTransactionModel and its
TransactionModel back to a `TaxResult`, and AvaTax's errors to the domain's `TaxRejected` (the
document must change) or `TaxUnavailable` (try again later). A create with the same `code`
replaces AvaTax's uncommitted transaction rather than adding one, so a repeated calculation is
safe; committing a committed transaction answers it as it is; voiding a transaction AvaTax does
not have is already done.

Why one module of about 430 lines: it is one client for one published contract (the request
and answer models, the error body, the retry and deadline policy), so that contract can be
checked against AvaTax's documentation in one place.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field, SecretStr, field_validator

from background_posting.domain.company import Address
from background_posting.domain.model import LazyModel
from background_posting.domain.tax import (
    TaxKind,
    TaxLine,
    TaxReference,
    TaxRejected,
    TaxRequest,
    TaxResult,
    TaxUnavailable,
)

SANDBOX_URL = "https://sandbox-rest.avatax.com"
PRODUCTION_URL = "https://rest.avatax.com"
CLIENT_ID = "background-posting; 1.0; Python urllib; REST v2; lambda"

DOCUMENT_TYPES: dict[TaxKind, str] = {
    "sale": "SalesInvoice",
    "sale_return": "ReturnInvoice",
    "purchase": "PurchaseInvoice",
    "purchase_return": "ReturnPurchase",
}
RETURNS = frozenset({"sale_return", "purchase_return"})
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 30.0

# AvaTax's own escapes for characters a transaction code may hold but a URL path may not.
_CODE_ESCAPES = {
    "/": "_-ava2f-_",
    "+": "_-ava2b-_",
    "?": "_-ava3f-_",
    "%": "_-ava25-_",
    "#": "_-ava23-_",
}


class AvaTaxAccount(LazyModel):
    """The AvaTax settings, as kept in the secret (JSON): never in code or the template."""

    model_config = ConfigDict(extra="ignore")

    account_id: str = Field(min_length=1)
    license_key: SecretStr
    environment: str = Field(
        default="sandbox",
        description="sandbox, production, or the base URL of another AvaTax (a local stand-in)",
    )
    company_code: str | None = Field(
        default=None, description="AvaTax's company code; absent: each company's own id"
    )

    @field_validator("account_id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @property
    def base_url(self) -> str:
        environment = self.environment.strip()
        if environment.lower() == "sandbox":
            return SANDBOX_URL
        if environment.lower() == "production":
            return PRODUCTION_URL
        if environment.startswith(("https://", "http://")):
            return environment.rstrip("/")
        raise ValueError(
            f"environment {environment!r} is not sandbox, production or an http(s) URL"
        )


@dataclass(eq=False)
class AvaTaxError(Exception):
    """An answer from AvaTax that is not a success, or no answer at all (status 0)."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status in TRANSIENT_STATUSES

    def describe(self) -> str:
        """AvaTax's words in full: its code and message, then each detail."""
        where = f"HTTP {self.status} " if self.status else ""
        text = f"{where}{self.code}: {self.message}".rstrip()
        for detail in self.details:
            parts = [str(detail.get(k) or "").strip() for k in ("message", "description")]
            said = " ".join(p for p in dict.fromkeys(parts) if p)
            if said and said not in text:
                text += f" [{detail.get('code', 'detail')}] {said}"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "http_status": self.status,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }


class AvaTaxUnavailable(Exception):
    """Every try failed transiently, or the deadline left no time for another."""

    def __init__(self, last: AvaTaxError, tries: int):
        self.last = last
        self.tries = tries
        super().__init__(f"{tries} tr{'y' if tries == 1 else 'ies'}, the last: {last.describe()}")


def code_in_path(code: str) -> str:
    """A company or transaction code as a URL path segment, escaped as AvaTax documents."""
    for char, escape in _CODE_ESCAPES.items():
        code = code.replace(char, escape)
    return urllib.parse.quote(code, safe="-_.~")


class AvaTaxClient:
    """The three calls, each with a timeout per request and a deadline (time.monotonic())."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        license_key: str,
        *,
        timeout: float = 10.0,
        tries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        token = base64.b64encode(f"{account_id}:{license_key}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"
        self.timeout = timeout
        self.tries = max(1, tries)
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock

    def create_transaction(self, model: dict[str, Any], deadline: float) -> dict[str, Any]:
        return self._call("/api/v2/transactions/create", model, deadline)

    def commit_transaction(
        self, company_code: str, code: str, document_type: str, deadline: float
    ) -> dict[str, Any]:
        path = self._transaction_path(company_code, code, "commit", document_type)
        return self._call(path, {"commit": True}, deadline)

    def void_transaction(
        self, company_code: str, code: str, document_type: str, reason: str, deadline: float
    ) -> dict[str, Any]:
        path = self._transaction_path(company_code, code, "void", document_type)
        return self._call(path, {"code": reason}, deadline)

    @staticmethod
    def _transaction_path(company_code: str, code: str, verb: str, document_type: str) -> str:
        query = urllib.parse.urlencode({"documentType": document_type})
        return (
            f"/api/v2/companies/{code_in_path(company_code)}/transactions/"
            f"{code_in_path(code)}/{verb}?{query}"
        )

    def _call(self, path: str, body: dict[str, Any], deadline: float) -> dict[str, Any]:
        last: AvaTaxError | None = None
        for attempt in range(self.tries):
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            try:
                return self._send(path, body, min(self.timeout, remaining))
            except AvaTaxError as exc:
                if not exc.transient:
                    raise
                last = exc
            wait = last.retry_after if last.retry_after is not None else self.backoff * 2**attempt
            wait = min(wait, MAX_RETRY_AFTER_SECONDS)
            if attempt + 1 >= self.tries or self._clock() + wait >= deadline:
                break
            self._sleep(wait)
        if last is None:
            last = AvaTaxError(0, "Timeout", "no time was left to ask AvaTax")
        raise AvaTaxUnavailable(last, self.tries)

    def _send(self, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Avalara-Client": CLIENT_ID,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read() or b"{}", parse_float=Decimal)
                return answer if isinstance(answer, dict) else {}
        except urllib.error.HTTPError as exc:
            raise _error_of(exc) from exc
        except TimeoutError as exc:
            raise AvaTaxError(0, "Timeout", f"no answer within {timeout:.1f} s") from exc
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise AvaTaxError(0, "Timeout", f"no answer within {timeout:.1f} s") from exc
            raise AvaTaxError(0, "ConnectionFailed", f"{type(exc).__name__}: {reason}") from exc
        except json.JSONDecodeError as exc:
            raise AvaTaxError(0, "InvalidAnswer", f"AvaTax answered no JSON: {exc}") from exc


def _error_of(exc: urllib.error.HTTPError) -> AvaTaxError:
    try:
        body = json.loads(exc.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    retry_after = exc.headers.get("Retry-After") if exc.headers else None
    try:
        wait = float(retry_after) if retry_after is not None else None
    except ValueError:
        wait = None
    details = error.get("details")
    return AvaTaxError(
        status=exc.code,
        code=str(error.get("code") or exc.reason or "HttpError"),
        message=str(error.get("message") or exc.reason or ""),
        details=[d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        retry_after=wait,
    )


# -- the provider --------------------------------------------------------------------------------


def _address(address: Address) -> dict[str, str]:
    fields: dict[str, str | None] = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postalCode": address.postal_code,
        "country": address.country,
    }
    return {key: value for key, value in fields.items() if value}


def _line(request: TaxRequest, line: TaxLine, sign: int) -> dict[str, Any]:
    # JSON numbers, as AvaTax's model has them: exact for amounts of up to 15 digits
    model: dict[str, Any] = {
        "number": str(line.index + 1),
        "quantity": float(abs(line.quantity)),
        "amount": float(sign * line.amount),
        "itemCode": f"{request.number}-{line.index + 1}",
        "description": line.description[:2048],
    }
    if line.tax_code:
        model["taxCode"] = line.tax_code  # none: AvaTax's default for the company
    return model


def create_model(request: TaxRequest, company_code: str) -> dict[str, Any]:
    """AvaTax's CreateTransactionModel for a request: uncommitted, under the document's code.

    Returns (credit notes) carry negative amounts, as AvaTax expects for ReturnInvoice and
    ReturnPurchase.
    """
    sign = -1 if request.reference.kind in RETURNS else 1
    return {
        "code": request.reference.code,
        "companyCode": company_code,
        "type": DOCUMENT_TYPES[request.reference.kind],
        "date": request.date.isoformat(),
        "customerCode": request.customer,
        "currencyCode": request.currency,
        "description": request.description[:2048],
        "commit": False,
        "addresses": {
            "shipFrom": _address(request.ship_from),
            "shipTo": _address(request.ship_to),
        },
        "lines": [_line(request, line, sign) for line in request.lines],
    }


def result_of(request: TaxRequest, transaction: dict[str, Any]) -> TaxResult:
    """Each line's tax from AvaTax's TransactionModel, signed as the document shows it."""
    sign = -1 if request.reference.kind in RETURNS else 1
    taxes: dict[int, Decimal] = {}
    for line in transaction.get("lines") or []:
        number = int(str(line.get("lineNumber")))
        taxes[number - 1] = sign * Decimal(str(line.get("tax", 0)))
    identifier = transaction.get("id")
    return TaxResult(
        code=str(transaction.get("code") or request.reference.code),
        transaction_id=None if identifier is None else str(identifier),
        line_taxes=taxes,
        total=sign * Decimal(str(transaction.get("totalTax", 0))),
    )


class AvaTaxProvider:
    """AvaTax behind the domain's TaxProvider interface; every call ends by `deadline`."""

    name = "avatax"

    def __init__(
        self, client: AvaTaxClient, company_code: str | None, deadline: float, secret: str = ""
    ):
        self.client = client
        self.company_code = company_code
        self.deadline = deadline
        self.secret = secret

    def _company(self, reference: TaxReference) -> str:
        return self.company_code or reference.company

    def calculate(self, request: TaxRequest) -> TaxResult:
        model = create_model(request, self._company(request.reference))
        try:
            answer = self.client.create_transaction(model, self.deadline)
        except (AvaTaxError, AvaTaxUnavailable) as exc:
            raise self._domain_error("calculate the tax of", request.number, exc) from exc
        return result_of(request, answer)

    def commit(self, reference: TaxReference) -> None:
        try:
            self.client.commit_transaction(
                self._company(reference),
                reference.code,
                DOCUMENT_TYPES[reference.kind],
                self.deadline,
            )
        except (AvaTaxError, AvaTaxUnavailable) as exc:
            raise self._domain_error("commit the tax of", reference.code, exc) from exc

    def void(self, reference: TaxReference) -> None:
        try:
            self.client.void_transaction(
                self._company(reference),
                reference.code,
                DOCUMENT_TYPES[reference.kind],
                "DocDeleted",
                self.deadline,
            )
        except AvaTaxError as exc:
            if exc.status == 404:
                return  # AvaTax has no such transaction: nothing is left to void
            raise self._domain_error("void the tax of", reference.code, exc) from exc
        except AvaTaxUnavailable as exc:
            raise self._domain_error("void the tax of", reference.code, exc) from exc

    def _domain_error(
        self, doing: str, what: str, exc: AvaTaxError | AvaTaxUnavailable
    ) -> TaxRejected | TaxUnavailable:
        if isinstance(exc, AvaTaxUnavailable):
            last = exc.last
            kind = {429: "avatax_rate_limited", 0: "avatax_unreachable"}.get(
                last.status, "avatax_unavailable"
            )
            if last.code == "Timeout":
                kind = "avatax_timeout"
            message = f"AvaTax did not {doing} {what} ({exc}); it is tried again in a later run."
            return TaxUnavailable(message, code=kind, details=_details(kind, message, last))
        if exc.status in (401, 403):
            kind = "avatax_authentication_failed"
            message = (
                f"AvaTax refused the account id and licence key (secret {self.secret!r}) while "
                f"trying to {doing} {what}: {exc.describe()}. Correct the secret; the work is "
                "tried again in a later run."
            )
            return TaxUnavailable(message, code=kind, details=_details(kind, message, exc))
        kind = "avatax_transaction_not_found" if exc.status == 404 else "avatax_rejected"
        message = f"AvaTax could not {doing} {what}: {exc.describe()}"
        return TaxRejected(message, code=kind, details=_details(kind, message, exc))


def _details(kind: str, message: str, error: AvaTaxError) -> dict[str, Any]:
    return {"errors": [{"code": kind, "message": message, "avatax": error.as_json()}]}
