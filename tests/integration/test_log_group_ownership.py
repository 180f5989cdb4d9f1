"""Worker log groups: only their owner deletes them (and so stops their e-mails)."""

from __future__ import annotations

from typing import Any

from tests.support.api import invoke_api
from tests.support.data import account_body, company_body, document_body


def test_only_the_owner_deletes_a_worker_log_group(api: Any) -> None:
    # Given a clerk who sent an invoice to the background (their worker log group)
    invoke_api(api, "POST", "/companies", "admin", company_body("ACME"))
    invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01", "ACME"))
    created = invoke_api(api, "POST", "/documents", "clerk", document_body()).body
    assert (
        invoke_api(api, "POST", "/documents/post", "clerk", {"ids": [created["id"]]}).status == 202
    )
    (group,) = invoke_api(api, "GET", "/worker-log-groups", "clerk").body["worker_log_groups"]
    path = f"/worker-log-groups/{group['id']}"
    # When an administrator tries to delete it
    refused = invoke_api(api, "DELETE", path, "admin")
    # Then it is refused, naming the owner, and the group (and its e-mails) stay
    assert refused.status == 403 and refused.error_code == "permission_denied"
    assert refused.body["error"]["details"]["owner"] == "clerk"
    assert invoke_api(api, "GET", path, "admin").status == 200
    # And another user does not even see it; the owner deletes it
    assert invoke_api(api, "DELETE", path, "lister").status == 404
    assert invoke_api(api, "DELETE", path, "clerk").status == 204
    assert invoke_api(api, "GET", path, "clerk").status == 404


def _user(user_id: str, groups: str, companies: str) -> dict[str, str]:
    return {
        "sub": user_id,
        "email": f"{user_id}@example.com",
        "cognito:groups": groups,
        "custom:companies": companies,
    }


BETA_ADMIN = _user("beta-admin", "SystemAdministrator", "BETA")
ACME_CLERK = _user("acme-clerk", "", "ACME")
BETA_CLERK = _user("beta-clerk", "", "BETA")


def test_an_administrator_of_some_companies_reads_only_their_companies_log_groups(
    api: Any,
) -> None:
    # Given a clerk of ACME and a clerk of BETA, each with a worker log group of their company
    for company, clerk in (("ACME", ACME_CLERK), ("BETA", BETA_CLERK)):
        invoke_api(api, "POST", "/companies", "admin", company_body(company))
        invoke_api(api, "POST", "/accounts", "admin", account_body("CUST01" + company, company))
        body = document_body(company=company, account="CUST01" + company)
        created = invoke_api(api, "POST", "/documents", None, body, claims=clerk).body
        posted = invoke_api(
            api, "POST", "/documents/post", None, {"ids": [created["id"]]}, claims=clerk
        )
        assert posted.status == 202, posted.body
    acme_group = invoke_api(api, "GET", "/worker-log-groups", None, claims=ACME_CLERK).body
    beta_group = invoke_api(api, "GET", "/worker-log-groups", None, claims=BETA_CLERK).body
    acme_path = f"/worker-log-groups/{acme_group['worker_log_groups'][0]['id']}"
    beta_path = f"/worker-log-groups/{beta_group['worker_log_groups'][0]['id']}"
    # When an administrator of BETA only reads them (found by a tryout: they read ACME's)
    acme_list = invoke_api(
        api, "GET", "/worker-log-groups?owner=acme-clerk", None, claims=BETA_ADMIN
    )
    beta_list = invoke_api(
        api, "GET", "/worker-log-groups?owner=beta-clerk", None, claims=BETA_ADMIN
    )
    # Then ACME's group is not there for them, as if it did not exist; BETA's is
    assert acme_list.status == 200 and acme_list.body["worker_log_groups"] == []
    assert invoke_api(api, "GET", acme_path, None, claims=BETA_ADMIN).status == 404
    assert len(beta_list.body["worker_log_groups"]) == 1
    assert invoke_api(api, "GET", beta_path, None, claims=BETA_ADMIN).status == 200
    # And an administrator of every company reads both
    assert invoke_api(api, "GET", acme_path, "admin").status == 200
    assert invoke_api(api, "GET", beta_path, "admin").status == 200
