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
