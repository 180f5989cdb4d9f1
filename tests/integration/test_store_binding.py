"""The store's binding: every model follows the settings the store is bound to, on its first
request after the bind, through one connection per binding (on DynamoDB Local)."""

from __future__ import annotations

import threading
import uuid

import pytest

from background_posting.domain.company import Account
from background_posting.domain.errors import NotFound
from background_posting.function_settings import EveryFunctionSettings
from background_posting.store import accounts, history
from background_posting.store import base as store_base
from background_posting.store.accounts import AccountRecord
from background_posting.store.writes import Write
from infra.dynamodb_local import local_client
from infra.resources import create_tables
from tests.support.data import account_body

FIELDS = {
    "CompaniesTable": "companies_table",
    "AccountsTable": "accounts_table",
    "DocumentsTable": "documents_table",
    "LedgerTable": "ledger_table",
    "WorkerItemsTable": "worker_items_table",
    "OrgTable": "org_table",
    "WorkLogTable": "work_log_table",
    "PurchasingTable": "purchasing_table",
    "IdempotencyTable": "idempotency_table",
}


def other_tables(settings: EveryFunctionSettings) -> EveryFunctionSettings:
    """The same endpoint, a second set of the template's tables."""
    client = local_client("dynamodb", settings.dynamodb_endpoint)
    names = create_tables(client, f"t{uuid.uuid4().hex[:12]}")
    return settings.model_copy(update={FIELDS[k]: v for k, v in names.items()})


def _audit(account_id: str) -> Write:
    return history.audited("ACME", f"account {account_id}", "create", "admin", None, {})


def test_a_model_follows_the_store_to_other_tables_and_back(
    local_store: EveryFunctionSettings,
) -> None:
    account = Account.model_validate(account_body("BIND01"))
    accounts.create_account(account, _audit("BIND01"))
    assert store_base.table_name(AccountRecord) == local_store.accounts_table

    other = other_tables(local_store)
    store_base.bind(other)
    assert store_base.table_name(AccountRecord) == other.accounts_table
    with pytest.raises(NotFound):
        accounts.get_account("BIND01")  # a stale binding would find it in the first tables

    store_base.bind(local_store)
    assert accounts.get_account("BIND01")[0] == account


def test_threads_racing_the_first_request_after_a_bind_share_one_connection(
    local_store: EveryFunctionSettings,
) -> None:
    accounts.create_account(Account.model_validate(account_body("BIND02")), _audit("BIND02"))
    before = store_base.connection()
    store_base.bind(local_store)
    start, seen = threading.Barrier(16), []

    def first_request() -> None:
        start.wait()
        accounts.get_account("BIND02")
        seen.append(AccountRecord._get_connection().connection)

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16
    assert {id(c) for c in seen} == {id(store_base.connection())}
    assert store_base.connection() is not before  # a bind builds the next connection anew
