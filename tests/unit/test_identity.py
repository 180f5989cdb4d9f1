import pytest

from background_posting.domain.errors import Forbidden
from background_posting.domain.identity import (
    Caller,
    parse_companies_claim,
    parse_groups_claim,
)


def test_groups_claim_is_read_in_every_shape_api_gateway_sends() -> None:
    assert parse_groups_claim(["SystemAdministrator"]) == {"SystemAdministrator"}
    assert parse_groups_claim("[SystemAdministrator BackgroundPostingRunNow]") == {
        "SystemAdministrator",
        "BackgroundPostingRunNow",
    }
    assert parse_groups_claim("a,b") == {"a", "b"}
    assert parse_groups_claim(None) == frozenset()


def test_a_user_uses_only_allowed_companies_they_are_logged_into() -> None:
    caller = Caller("u", "u@example.com", allowed_companies=parse_companies_claim("ACME, BETA"))
    assert caller.may_use("ACME") and caller.may_use("BETA") and not caller.may_use("GAMMA")
    narrowed = caller.with_logged_in(frozenset({"BETA"}))
    assert not narrowed.may_use("ACME") and narrowed.may_use("BETA")
    with pytest.raises(Forbidden) as raised:
        narrowed.require_company("ACME")
    assert raised.value.code == "company_not_allowed"


def test_star_allows_every_company_and_permission_sets_grant_their_actions() -> None:
    admin = Caller(
        "a", "", groups=frozenset({"SystemAdministrator"}), allowed_companies=frozenset("*")
    )
    runner = Caller("r", "", groups=frozenset({"BackgroundPostingRunNow"}))
    lister = Caller("l", "", groups=frozenset({"BackgroundPostingListview"}))
    assert admin.may_use("ANY") and admin.may_run_now and admin.may_use_listview
    assert runner.may_run_now and not runner.may_use_listview and not runner.is_admin
    assert lister.may_use_listview and not lister.may_run_now
    with pytest.raises(Forbidden):
        runner.require_admin("create a company")
