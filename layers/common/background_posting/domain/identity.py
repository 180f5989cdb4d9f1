"""Who is calling and what they may do (docs/design.md "Who may do what")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from background_posting.domain.errors import Forbidden

SYSTEM_ADMINISTRATOR = "SystemAdministrator"
RUN_NOW = "BackgroundPostingRunNow"
LISTVIEW = "BackgroundPostingListview"
ALL_COMPANIES = "*"


@dataclass(frozen=True)
class Caller:
    """A user as the authorizer describes them, narrowed by their logged-in companies."""

    user_id: str
    email: str
    groups: frozenset[str] = frozenset()
    allowed_companies: frozenset[str] = frozenset()
    logged_in: frozenset[str] | None = field(default=None)

    @property
    def is_admin(self) -> bool:
        return SYSTEM_ADMINISTRATOR in self.groups

    @property
    def may_run_now(self) -> bool:
        return self.is_admin or RUN_NOW in self.groups

    @property
    def may_use_listview(self) -> bool:
        return self.is_admin or LISTVIEW in self.groups

    @property
    def may_use_every_company(self) -> bool:
        """Allowed every company (`*`) and not narrowed to some by logging in."""
        return ALL_COMPANIES in self.allowed_companies and self.logged_in is None

    def may_use(self, company_id: str) -> bool:
        allowed = ALL_COMPANIES in self.allowed_companies or company_id in self.allowed_companies
        if not allowed:
            return False
        return self.logged_in is None or company_id in self.logged_in

    def companies_in(self, candidates: Iterable[str]) -> list[str]:
        """The candidates this caller is logged into, in order."""
        return [c for c in candidates if self.may_use(c)]

    def companies_for(self, company: str | None) -> list[str] | None:
        """The companies a list reads: `company` (Forbidden unless the caller may use it), else
        every company the caller may use (None: every company, none to name)."""
        if company is not None:
            self.require_company(company)
            return [company]
        if self.may_use_every_company:
            return None
        candidates = self.allowed_companies - {ALL_COMPANIES}
        if self.logged_in is not None:
            candidates = candidates | self.logged_in
        return sorted(self.companies_in(candidates))

    def require_company(self, company_id: str) -> None:
        if not self.may_use(company_id):
            raise Forbidden(
                f"You are not logged into company {company_id!r}.",
                code="company_not_allowed",
                details={"company": company_id},
            )

    def require_admin(self, action: str) -> None:
        if not self.is_admin:
            raise Forbidden(f"Only a System Administrator may {action}.", code="permission_denied")

    def with_logged_in(self, companies: frozenset[str] | None) -> Caller:
        return Caller(
            user_id=self.user_id,
            email=self.email,
            groups=self.groups,
            allowed_companies=self.allowed_companies,
            logged_in=companies,
        )


def parse_companies_claim(claim: str | None) -> frozenset[str]:
    if not claim:
        return frozenset()
    return frozenset(part.strip() for part in claim.split(",") if part.strip())


def parse_groups_claim(claim: object) -> frozenset[str]:
    """Cognito sends groups as a list, or through API Gateway as '[a b]' or 'a,b'."""
    if isinstance(claim, list):
        return frozenset(str(g) for g in claim)
    if not claim:
        return frozenset()
    text = str(claim).strip().strip("[]")
    return frozenset(g for g in text.replace(",", " ").split() if g)
