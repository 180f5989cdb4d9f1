"""A stand-in for AvaTax's REST API v2 on 127.0.0.1: the calls Background Posting makes.

The tests and the local stack (`make run`) talk to it exactly as they would talk to AvaTax: the
same paths, AvaTax's published request and response shapes (CreateTransactionModel in,
TransactionModel out, errors as `{"error": {"code", "message", "target", "details": [{"code",
"number", "message", "description", "faultCode", "helpLink", "severity"}]}}`), Basic
authentication with an account id and a licence key, and the rules of AvaTax that matter to us:

* `POST /api/v2/transactions/create`: a transaction is known by its company code, code and
  type. Creating one whose code exists uncommitted replaces it (the same id, a new version:
  never a second transaction); a committed code is reserved (400 TransactionAlreadyExists).
  `commit: false` leaves it `Saved`.
* `POST /api/v2/companies/{companyCode}/transactions/{code}/commit` `{"commit": true}`:
  `Saved` -> `Committed`; a committed transaction is answered as it is; unknown: 404.
* `POST /api/v2/companies/{companyCode}/transactions/{code}/void` `{"code": "DocVoided"}` (or
  `DocDeleted`, `PostFailed`, `AdjustmentCancelled`): `Cancelled`; a transaction voided before
  it was committed frees its code for a new one.
* `GET /api/v2/companies/{companyCode}/transactions/{code}`: the transaction.
* `?documentType=` picks the type on the company routes (default SalesInvoice), as in AvaTax.

Tax is worked out from a small table: a rate per ship-to country (per state in the US), and a
few AvaTax tax codes (`P0000000` goods, `FR020100` delivery, `SW050000` software: taxable; `NT`:
not taxable; none: `P0000000`). An address it cannot place (a country or state outside the
table, no postal code, a US ZIP code of the wrong shape) answers 400
JurisdictionNotFoundError; an unknown tax code 400 InvalidTaxCode; wrong credentials 401
AuthenticationException.

Faults, for tests: `fail_next("create" | "commit" | "void", fault, ...)` makes the next calls of
that kind answer 429 (with `Retry-After`), another status such as 500 or 503, or `"timeout"`:
the call is carried out and its answer comes only after `slow_seconds` (as when AvaTax did the
work but the caller gave up waiting).

    python -m infra.avatax_standin [--port 8765]
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ACCOUNT_ID = "1100000000"
DEFAULT_LICENSE_KEY = "local-licence-key"

TYPES = ("SalesInvoice", "ReturnInvoice", "PurchaseInvoice", "ReturnPurchase")
RATES: dict[str, Decimal] = {
    "GB": Decimal("20"),
    "IE": Decimal("23"),
    "DE": Decimal("19"),
    "FR": Decimal("20"),
    "NL": Decimal("21"),
    "US-WA": Decimal("10.25"),
    "US-CA": Decimal("7.25"),
    "US-NY": Decimal("8.875"),
    "US-TX": Decimal("8.25"),
}
TAXABLE_CODES = {"P0000000": True, "FR020100": True, "SW050000": True, "NT": False}
DEFAULT_TAX_CODE = "P0000000"
CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3}
_US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_UNESCAPES = {
    "_-ava2f-_": "/",
    "_-ava2b-_": "+",
    "_-ava3f-_": "?",
    "_-ava25-_": "%",
    "_-ava23-_": "#",
}
_COMPANY_ROUTE = re.compile(
    r"^/api/v2/companies/(?P<company>[^/]+)/transactions/(?P<code>[^/]+)(?:/(?P<verb>commit|void))?$"
)


class Refused(Exception):
    """An AvaTax error answer."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        description: str = "",
        target: str = "Unknown",
        number: int = 0,
        fault: str = "Client",
    ):
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "code": code,
                "message": message,
                "target": target,
                "details": [
                    {
                        "code": code,
                        "number": number,
                        "message": message,
                        "description": description,
                        "faultCode": fault,
                        "helpLink": f"https://developer.avalara.com/avatax/errors/{code}",
                        "severity": "Error" if status < 500 else "Exception",
                    }
                ],
            }
        }


@dataclass
class Call:
    operation: str  # create | commit | void | get
    method: str
    path: str
    body: Any
    status: int = 0


@dataclass
class AvaTaxStandIn:
    """AvaTax, in memory, on 127.0.0.1:`port` (0: a free port); start() ... stop()."""

    account_id: str = DEFAULT_ACCOUNT_ID
    license_key: str = DEFAULT_LICENSE_KEY
    port: int = 0
    slow_seconds: float = 2.0
    retry_after_seconds: int = 0
    transactions: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _faults: dict[str, deque[int | str]] = field(default_factory=dict)
    _reserved: set[tuple[str, str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AvaTaxStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, name="avatax-standin", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AvaTaxStandIn:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- for tests -------------------------------------------------------------------------

    def fail_next(self, operation: str, *faults: int | str) -> None:
        """The next calls of `operation` answer these faults, in order (then normally)."""
        with self._lock:
            self._faults.setdefault(operation, deque()).extend(faults)

    def transaction(
        self, company_code: str, code: str, document_type: str = "SalesInvoice"
    ) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self.transactions.get((company_code, code, document_type)))

    def calls_of(self, operation: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.operation == operation]

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        parsed = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parsed.query)
        route = _COMPANY_ROUTE.match(parsed.path)
        if method == "POST" and parsed.path == "/api/v2/transactions/create":
            operation = "create"
        elif route and method == "POST" and route["verb"]:
            operation = str(route["verb"])
        elif route and method == "GET" and not route["verb"]:
            operation = "get"
        else:
            return 404, Refused(404, "NotFound", f"No route {method} {parsed.path}.").body, {}
        call = Call(operation, method, target, None)
        with self._lock:
            self.calls.append(call)
            pending = self._faults.get(operation)
            fault = pending.popleft() if pending else None
        try:
            body = json.loads(raw or b"{}", parse_float=Decimal) if method == "POST" else None
        except json.JSONDecodeError:
            body = None
            call.body = raw.decode(errors="replace")
        else:
            call.body = body
        if isinstance(fault, int):
            call.status = fault
            extra = {"Retry-After": str(self.retry_after_seconds)} if fault == 429 else {}
            name = "TooManyRequests" if fault == 429 else "ServerError"
            text = (
                "Too many requests: the rate limit was exceeded."
                if fault == 429
                else "AvaTax could not complete the request."
            )
            return fault, Refused(fault, name, text, fault="Server").body, extra
        try:
            self._authenticate(headers.get("Authorization"))
            if operation == "create":
                answer = self._create(body)
            else:
                assert route is not None
                company, code = _unescape(route["company"]), _unescape(route["code"])
                kind = (query.get("documentType") or ["SalesInvoice"])[0]
                answer = self._on_transaction(operation, company, code, kind, body)
        except Refused as refused:
            call.status = refused.status
            return refused.status, refused.body, {}
        call.status = 200 if operation != "create" else 201
        if fault == "timeout":
            time.sleep(self.slow_seconds)
        return call.status, answer, {}

    def _authenticate(self, header: str | None) -> None:
        expected = base64.b64encode(f"{self.account_id}:{self.license_key}".encode()).decode()
        if header != f"Basic {expected}":
            raise Refused(
                401,
                "AuthenticationException",
                "Authentication failed.",
                "Missing authentication or unable to authenticate the user or the account.",
                target="HttpRequestHeaders",
                number=34,
            )

    def _create(self, model: Any) -> dict[str, Any]:
        if not isinstance(model, dict):
            raise Refused(400, "ModelRequiredException", "A model is required.", number=70)
        for name in ("companyCode", "type", "date", "customerCode"):
            if not model.get(name):
                raise Refused(
                    400, "ValueRequiredError", f"Field '{name}' is required.", target=name, number=5
                )
        kind = str(model["type"])
        if kind not in TYPES:
            raise Refused(400, "InvalidEnumValue", f"'{kind}' is not a valid type.", number=8)
        lines = model.get("lines")
        if not isinstance(lines, list) or not lines:
            raise Refused(400, "ValueRequiredError", "Field 'lines' is required.", number=5)
        addresses = model.get("addresses") or {}
        ship_to = addresses.get("shipTo") or addresses.get("singleLocation")
        ship_from = addresses.get("shipFrom") or addresses.get("singleLocation")
        if not ship_to or not ship_from:
            raise Refused(
                400,
                "AddressesRequired",
                "Addresses are required.",
                "Provide shipFrom and shipTo, or singleLocation.",
                target="addresses",
                number=309,
            )
        _locate(ship_from, "shipFrom")
        jurisdiction = _locate(ship_to, "shipTo")
        rate = RATES[jurisdiction]
        currency = str(model.get("currencyCode") or "USD")
        quantum = Decimal(1).scaleb(-CURRENCY_PLACES.get(currency, 2))
        company, code = str(model["companyCode"]), str(model.get("code") or "")
        key = (company, code, kind)
        with self._lock:
            existing = self.transactions.get(key)
            if code and key in self._reserved:
                raise Refused(
                    400,
                    "TransactionAlreadyExists",
                    "A transaction with this code and type already exists.",
                    "To create a new transaction, please choose a new 'code'.",
                    number=1303,
                )
            if existing is not None:
                identifier, version = int(existing["id"]), int(existing["version"]) + 1
            else:
                identifier, version = self._next_id, 1
                self._next_id += 1
            code = code or f"standin-{identifier}"
            key = (company, code, kind)
        out_lines, total, taxable_total = [], Decimal(0), Decimal(0)
        for position, line in enumerate(lines, start=1):
            tax_code = str(line.get("taxCode") or DEFAULT_TAX_CODE)
            if tax_code not in TAXABLE_CODES:
                raise Refused(
                    400,
                    "InvalidTaxCode",
                    f"The tax code '{tax_code}' is not a valid AvaTax tax code.",
                    f"Line {line.get('number', position)}: use a tax code from AvaTax's list.",
                    target=f"lines[{position - 1}].taxCode",
                    number=1204,
                )
            amount = Decimal(str(line.get("amount", 0)))
            taxable = amount if TAXABLE_CODES[tax_code] else Decimal(0)
            tax = (taxable * rate / 100).quantize(quantum, rounding=ROUND_HALF_UP)
            total += tax
            taxable_total += taxable
            out_lines.append(
                {
                    "id": identifier * 1000 + position,
                    "transactionId": identifier,
                    "lineNumber": str(line.get("number") or position),
                    "itemCode": line.get("itemCode") or "",
                    "description": line.get("description") or "",
                    "quantity": line.get("quantity", 1),
                    "lineAmount": amount,
                    "taxableAmount": taxable,
                    "exemptAmount": amount - taxable,
                    "tax": tax,
                    "taxCalculated": tax,
                    "taxCode": tax_code,
                    "isItemTaxable": TAXABLE_CODES[tax_code],
                    "details": [
                        {
                            "jurisName": jurisdiction,
                            "rate": rate / 100,
                            "taxableAmount": taxable,
                            "tax": tax,
                            "taxCalculated": tax,
                        }
                    ],
                }
            )
        transaction = {
            "id": identifier,
            "code": code,
            "companyId": abs(hash(company)) % 1_000_000,
            "date": model["date"],
            "status": "Committed" if model.get("commit") else "Saved",
            "type": kind,
            "currencyCode": currency,
            "customerCode": model["customerCode"],
            "description": model.get("description") or "",
            "version": version,
            "modifiedDate": datetime.now(UTC).isoformat(),
            "totalAmount": sum((Decimal(str(ln["lineAmount"])) for ln in out_lines), Decimal(0)),
            "totalTaxable": taxable_total,
            "totalTax": total,
            "totalTaxCalculated": total,
            "lines": out_lines,
            "addresses": [
                {"boundaryLevel": "Zip5", **ship_from, "id": 1},
                {"boundaryLevel": "Zip5", **ship_to, "id": 2},
            ],
            "summary": [
                {
                    "jurisName": jurisdiction,
                    "rate": rate / 100,
                    "taxable": taxable_total,
                    "tax": total,
                }
            ],
        }
        with self._lock:
            self.transactions[key] = transaction
            if model.get("commit"):
                self._reserved.add(key)
        return transaction

    def _on_transaction(
        self, operation: str, company: str, code: str, kind: str, body: Any
    ) -> dict[str, Any]:
        key = (company, code, kind)
        with self._lock:
            transaction = self.transactions.get(key)
            if transaction is None:
                raise Refused(
                    404,
                    "EntityNotFoundError",
                    f"Transaction '{code}' of company '{company}' ({kind}) not found.",
                    target="transactionCode",
                    number=4,
                )
            if operation == "commit":
                if not (isinstance(body, dict) and body.get("commit") is True):
                    raise Refused(
                        400, "ValueRequiredError", "Field 'commit' is required.", number=5
                    )
                if transaction["status"] == "Cancelled":
                    raise Refused(
                        400,
                        "InvalidDocumentStatusForCommit",
                        f"Transaction '{code}' is voided and cannot be committed.",
                        number=1310,
                    )
                transaction["status"] = "Committed"
                self._reserved.add(key)
            elif operation == "void":
                reason = body.get("code") if isinstance(body, dict) else None
                if reason not in (
                    "Unspecified",
                    "PostFailed",
                    "DocDeleted",
                    "DocVoided",
                    "AdjustmentCancelled",
                ):
                    raise Refused(
                        400, "InvalidEnumValue", f"'{reason}' is not a void code.", number=8
                    )
                if reason == "PostFailed":
                    transaction["status"] = "Saved"
                else:
                    was_committed = transaction["status"] == "Committed"
                    transaction["status"] = "Cancelled"
                    if not was_committed:
                        self._reserved.discard(key)
            if operation != "get":
                transaction["modifiedDate"] = datetime.now(UTC).isoformat()
            return copy.deepcopy(transaction)


def _unescape(segment: str) -> str:
    text = urllib.parse.unquote(segment)
    for escape, char in _UNESCAPES.items():
        text = text.replace(escape, char)
    return text


def _locate(address: Any, name: str) -> str:
    """The jurisdiction of an address (a key of RATES), or 400 JurisdictionNotFoundError."""
    address = address if isinstance(address, dict) else {}
    country = str(address.get("country") or "").upper()
    region = str(address.get("region") or "").upper()
    postal = str(address.get("postalCode") or "").strip()
    key = f"US-{region}" if country == "US" else country
    problem = None
    if not address.get("line1"):
        problem = "it has no street address (line1)"
    elif key not in RATES:
        problem = f"no taxing jurisdiction is known for {country or 'no country'}" + (
            f", {region}" if country == "US" else ""
        )
    elif not postal or (country == "US" and not _US_ZIP.match(postal)):
        problem = f"the postal code {postal!r} cannot be located"
    if problem:
        text = ", ".join(
            str(address.get(k))
            for k in ("line1", "city", "region", "postalCode", "country")
            if address.get(k)
        )
        raise Refused(
            400,
            "JurisdictionNotFoundError",
            "Unable to determine the taxing jurisdictions.",
            f"The {name} address ({text}) could not be located: {problem}.",
            target=f"addresses.{name}",
            number=309,
        )
    return key


class _Handler(BaseHTTPRequestHandler):
    owner: AvaTaxStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet, like AvaTax
        return

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body, extra = self.owner.handle(method, self.path, self.headers, raw)
        data = json.dumps(body, default=_number).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the caller gave up waiting (a "timeout" fault)

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    standin = AvaTaxStandIn(port=args.port).start()
    print(
        f"AvaTax stand-in at {standin.url} (account {standin.account_id}, "
        f"licence key {standin.license_key}); Ctrl-C stops it",
        flush=True,
    )
    forever = threading.Event()
    try:
        while not forever.wait(timeout=0.2):  # a timeout lets Ctrl-C in (see infra.local_stack)
            pass
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
