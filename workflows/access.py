"""Who may do what: decided here and nowhere else.

Every console view and every workflow names one permission; :func:`permitted`
says which roles hold it. Records are scoped by organisation through two rules:

- :meth:`Actor.owns`, reading: an authority officer reads every record, anyone
  else only their own organisation's;
- :meth:`Actor.governs`, acting as a council: an officer of a provincial
  council signs for, approves, certifies, recalls, voids and manages the
  accounts of what its province holds (the organisations that name it as
  their council, and itself); an officer of a central office (an authority no
  council governs) does so for every organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocop.trace.models import Organisation, OrgKind

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
    "stamps.activate": frozenset({P}),
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
    # An officer of a central office: an authority that no council governs.
    central: bool = False

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
            central=user.role is Role.AUTHORITY and user.organisation.is_central_office,
        )

    @property
    def is_authority(self) -> bool:
        return self.role is Role.AUTHORITY

    def may(self, permission: str) -> bool:
        return permitted(self.role, permission)

    def governs(self, organisation: Organisation) -> bool:
        """May this officer act as the council of ``organisation``?

        The one rule of council scope: a central office governs every
        organisation; a provincial council governs itself and the
        organisations that name it as their council, nothing else.
        """
        return self.is_authority and (
            self.central
            or organisation.id == self.organisation_id
            or organisation.council_id == self.organisation_id
        )

    def manages_accounts_of(self, organisation: Organisation) -> bool:
        """An officer manages the accounts of the organisations its council governs,
        but of another council only when directly above it: a council's accounts hold
        that council's signing keys."""
        return self.governs(organisation) and (
            organisation.kind is not OrgKind.AUTHORITY
            or organisation.id == self.organisation_id
            or organisation.council_id == self.organisation_id
        )

    def owns(self, organisation_id: int | None) -> bool:
        """May this actor read records of ``organisation_id``?"""
        return self.is_authority or organisation_id == self.organisation_id


def permitted(role: Role, permission: str) -> bool:
    try:
        return role in PERMISSIONS[permission]
    except KeyError:  # a typo in a view must fail closed, and loudly in tests
        raise LookupError(f"unknown permission {permission!r}") from None
