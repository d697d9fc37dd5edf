"""Who may do what: decided here and nowhere else.

Every console view and every workflow names one permission; :func:`permitted`
says which roles hold it. Records are scoped by organisation through one rule,
:meth:`Actor.owns`: an authority officer reaches everything, anyone else only
their own organisation's records.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocop.trace.models import OrgKind

from .models import Role, User

A, P, D = Role.AUTHORITY, Role.PRODUCER, Role.DISTRIBUTOR

# permission -> roles that hold it
PERMISSIONS: dict[str, frozenset[Role]] = {
    "console.view": frozenset({A, P, D}),
    # records
    "organisations.view": frozenset({A}),
    "organisations.manage": frozenset({A}),
    "users.manage": frozenset({A}),
    "products.view": frozenset({A, P}),
    "products.edit": frozenset({A, P}),
    "products.approve": frozenset({A}),
    "certifications.manage": frozenset({A}),
    "records.view": frozenset({A, P}),
    "records.edit": frozenset({P}),
    # stamps
    "stamp_requests.view": frozenset({A, P}),
    "stamp_requests.submit": frozenset({P}),
    "stamp_requests.decide": frozenset({A}),
    "stamp_requests.abandon": frozenset({A, P}),
    "stamp_outputs.download": frozenset({A, P}),
    "lots.recall": frozenset({A}),
    "batches.void": frozenset({A}),
    "keys.manage": frozenset({A}),
    "audit.view": frozenset({A}),
    # the market
    "analytics.view": frozenset({A, P}),
    "jobs.view": frozenset({A, P}),
    "reports.view": frozenset({A, P}),
    "reports.handle": frozenset({A, P}),
    "receiving.use": frozenset({D}),
    "api_tokens.manage": frozenset({D}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user as the rules see them: no password, no session."""

    user_id: int
    email: str
    role: Role
    organisation_id: int
    organisation_kind: OrgKind
    organisation_name: str
    ip: str | None = None

    @classmethod
    def of(cls, user: User, ip: str | None = None) -> Actor:
        return cls(
            user_id=user.id,
            email=user.email,
            role=user.role,
            organisation_id=user.organisation_id,
            organisation_kind=user.organisation.kind,
            organisation_name=user.organisation.name,
            ip=ip,
        )

    @property
    def is_authority(self) -> bool:
        return self.role is Role.AUTHORITY

    def may(self, permission: str) -> bool:
        return permitted(self.role, permission)

    def manages_accounts_of(self, organisation_id: int, kind: OrgKind) -> bool:
        """An officer manages the accounts of producers, distributors and their own
        council, never another council's: those hold that council's signing keys."""
        return self.is_authority and (
            kind is not OrgKind.AUTHORITY or organisation_id == self.organisation_id
        )

    def owns(self, organisation_id: int | None) -> bool:
        """May this actor reach records of ``organisation_id``?"""
        return self.is_authority or organisation_id == self.organisation_id


def permitted(role: Role, permission: str) -> bool:
    try:
        return role in PERMISSIONS[permission]
    except KeyError:  # a typo in a view must fail closed, and loudly in tests
        raise LookupError(f"unknown permission {permission!r}") from None
