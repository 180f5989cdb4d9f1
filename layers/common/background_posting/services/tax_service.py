"""Tax: which provider works out a document's tax, and the calls of AvaTax's three stages.

* `calculate`: the document with each line's tax and the provider's record (stage 1), unsaved;
* `calculate_and_save`: the same for a document posted at once (the integration API), saved
  before it posts;
* `commit`: commits the tax in the provider (stage 3); the document as it then is, unsaved;
* `void_calculated`: a document discarded after its tax was calculated has that (uncommitted)
  transaction voided in the provider;
* `posted_before_run`: stage 3 belongs to a later run than the one that posted the document.

Which provider: the built-in engine (the company's tax codes) unless the document's tax is
calculated by AvaTax (`tax_mode: avatax`). AvaTax's account id, licence key, environment and
company code are read from the Secrets Manager secret that AVATAX_SECRET_NAME names (JSON, see
`adapters.avatax.AvaTaxAccount`) through Powertools parameters, cached for five minutes: never
from code or the template. Each call has a time budget; AvaTax's client keeps to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import (
    GetParameterError,
    TransformParameterError,
)
from pydantic import ValidationError

from background_posting import clock
from background_posting.adapters.avatax import AvaTaxAccount, AvaTaxClient, AvaTaxProvider
from background_posting.config import get_settings
from background_posting.domain.company import Address, Company
from background_posting.domain.documents import Document
from background_posting.domain.errors import Conflict, NotFound, ValidationFailed
from background_posting.domain.tax import (
    KIND_BY_TYPE,
    BuiltinTaxEngine,
    TaxProvider,
    TaxReference,
    TaxRejected,
    TaxUnavailable,
    calculated_externally,
    committed,
    tax_request,
    voided,
    with_tax,
)
from background_posting.store import accounts as account_store
from background_posting.store import companies as company_store
from background_posting.store import document_store, work_log
from background_posting.store.history import Change

logger = Logger(child=True)

PROVIDER_ACTIONS = frozenset({"calculate_tax", "commit_tax"})  # worker items that call it
SECRET_MAX_AGE_SECONDS = 300
INTERACTIVE_BUDGET_SECONDS = 15.0  # an API request: API Gateway answers within 29 s


def provider_for(name: str, budget_seconds: float, company: Callable[[], Company]) -> TaxProvider:
    """The provider called `name`, whose calls end within `budget_seconds` from now."""
    if name == "avatax":
        return _avatax(budget_seconds)
    return BuiltinTaxEngine(company())


def _avatax(budget_seconds: float) -> AvaTaxProvider:
    settings = get_settings()
    name = settings.avatax_secret_name
    try:
        raw = parameters.get_secret(name, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
        account = AvaTaxAccount.model_validate(raw)
        base_url = account.base_url
    except (GetParameterError, TransformParameterError) as exc:
        raise TaxUnavailable(
            f"The AvaTax settings cannot be read from the secret {name!r}: {exc}",
            code="avatax_not_configured",
        ) from exc
    except (ValidationError, ValueError) as exc:
        raise TaxUnavailable(
            f"The secret {name!r} does not hold usable AvaTax settings (JSON with account_id, "
            f"license_key, environment and optionally company_code): {exc}",
            code="avatax_not_configured",
        ) from exc
    client = AvaTaxClient(
        base_url,
        account.account_id,
        account.license_key.get_secret_value(),
        timeout=settings.avatax_timeout_seconds,
        tries=settings.avatax_tries,
        backoff=settings.avatax_backoff_seconds,
    )
    return AvaTaxProvider(
        client, account.company_code, time.monotonic() + budget_seconds, secret=name
    )


def _company_loader(company_id: str) -> Callable[[], Company]:
    return lambda: company_store.get_company(company_id)[0]


def _account_address(document: Document) -> Address | None:
    try:
        return account_store.get_account(document.account or "")[0].address
    except NotFound as exc:
        raise ValidationFailed(
            f"{document.number} names account {document.account}, which does not exist.",
            code="account_missing",
        ) from exc


def calculate(document: Document, budget_seconds: float) -> Document:
    """Stage 1: the provider calculates the tax (uncommitted); the document with it, unsaved.

    Raises TaxRejected (the document must change), TaxUnavailable (try again later) or
    ValidationFailed (an address is missing).
    """
    company = company_store.get_company(document.company)[0]
    request = tax_request(document, company, _account_address(document))
    name = "avatax" if calculated_externally(document) else "builtin"
    provider = provider_for(name, budget_seconds, lambda: company)
    result = provider.calculate(request)
    return with_tax(document, result, provider.name, clock.now())


def calculate_and_save(document: Document, by: str, budget_seconds: float) -> Document:
    """Stage 1 for a document posted at once: calculated and saved (it stays In Progress)."""
    stored = document_store.get_document(document.id)
    if stored.document.version != document.version:
        raise Conflict(
            f"{document.number} was changed by someone else; read it again.",
            code="concurrent_update",
        )
    taxed = calculate(stored.document, budget_seconds)
    return document_store.save_amendment(
        stored, taxed, lines_changed=True, change=Change("tax_calculated", by)
    )


def _reference(document: Document) -> TaxReference:
    assert document.tax is not None
    return TaxReference(document.company, document.tax.code, KIND_BY_TYPE[document.type])


def commit(document: Document, budget_seconds: float) -> Document:
    """Stage 3: the provider commits the tax it calculated; the document with that, unsaved."""
    if document.tax is None:
        raise ValidationFailed(
            f"{document.number} has no calculated tax to commit.", code="tax_not_calculated"
        )
    provider = provider_for(
        document.tax.provider, budget_seconds, _company_loader(document.company)
    )
    provider.commit(_reference(document))
    return committed(document, clock.now())


def void_calculated(document: Document, budget_seconds: float) -> dict[str, Any]:
    """Void the provider's uncommitted transaction of a document that will not post.

    The changes to the document: none when nothing was calculated or it is voided already, and
    none when the provider cannot void it now. That is logged and does not stop the discard:
    an uncommitted AvaTax transaction is never reported.
    """
    if document.tax is None or document.tax.status != "calculated":
        return {}
    provider = provider_for(
        document.tax.provider, budget_seconds, _company_loader(document.company)
    )
    try:
        provider.void(_reference(document))
    except (TaxRejected, TaxUnavailable) as exc:
        logger.warning("tax not voided", extra={"reference": document.number, "error": exc.message})
        return {}
    return {"tax": voided(document, clock.now()).tax}


def posted_before_run(document: Document, run_id: str | None) -> bool:
    """Whether the run may commit the document's tax: it started after the document posted.

    The run that posted a document never commits its tax: a later run does (stage 3). Work
    outside a run (no run id), or a run that has expired, may.
    """
    if run_id is None or document.posted_at is None:
        return True
    try:
        run = work_log.get_run(run_id)
    except NotFound:
        return True
    return document.posted_at < datetime.fromisoformat(run.created_at)
