"""template.yaml: handlers import, and each function's IAM policy is exactly what its code uses."""

from __future__ import annotations

from typing import Any

import pytest

from background_posting.config import Settings
from infra.lambda_runtime import LocalFunction
from infra.template import functions
from tests.support.api import invoke_api
from tests.support.data import account_body, company_body
from tests.support.iam import granted_actions, recorded_actions, to_logical


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_every_function_points_at_a_handler_that_imports(logical_id: str) -> None:
    spec = functions()[logical_id]
    module = LocalFunction(spec)._new_instance()
    assert callable(getattr(module, spec.function_name))


def _names(settings: Settings) -> dict[str, str]:
    return {
        "CompaniesTable": settings.companies_table,
        "AccountsTable": settings.accounts_table,
        "DocumentsTable": settings.documents_table,
        "LedgerTable": settings.ledger_table,
        "WorkerItemsTable": settings.worker_items_table,
        "OrgTable": settings.org_table,
    }


def test_the_api_policy_allows_exactly_what_the_api_uses(
    api: Any, aws: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recorded_actions(monkeypatch) as used:
        invoke_api(api, "POST", "/companies", "admin", company_body())
        invoke_api(api, "GET", "/companies/ACME", "admin")
        invoke_api(api, "PATCH", "/companies/ACME", "admin", {"name": "Renamed"})
        invoke_api(api, "PUT", "/me/companies", "clerk", {"companies": ["ACME"]})
        invoke_api(api, "POST", "/accounts", "clerk", account_body())
        invoke_api(api, "GET", "/accounts/CUST01", "clerk")
        invoke_api(api, "PATCH", "/accounts/CUST01", "clerk", {"name": "Renamed"})
    assert to_logical(used, _names(aws)) == granted_actions("ApiFunction")


def test_the_layer_installs_exactly_the_locked_runtime_dependencies() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    uv = Path(sys.executable).parent / "uv"
    exported = subprocess.run(
        [str(uv), "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    committed = (root / "layers" / "common" / "requirements.txt").read_text()

    def pins(text: str) -> list[str]:
        return sorted(line for line in text.splitlines() if line and not line.startswith("#"))

    assert pins(committed) == pins(exported), "run `make requirements` after changing the lock"
