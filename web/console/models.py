"""The console's own tables: who may sign in, what they did, and API tokens.

They live on trace's declarative base (one schema, one migration history) but
belong to the web side: nothing below ``web/`` knows about people or sessions.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocop.trace.db import Base, BigIntId, UtcDateTime, created_at, enum_column, intpk, str200
from ocop.trace.models import PRODUCER_KINDS, Organisation, OrgKind


class Role(StrEnum):
    AUTHORITY = "authority_officer"
    PRODUCER = "producer_member"
    DISTRIBUTOR = "distributor_member"


# A role only makes sense in an organisation of the matching kind.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.AUTHORITY: frozenset({OrgKind.AUTHORITY}),
    Role.PRODUCER: PRODUCER_KINDS,
    Role.DISTRIBUTOR: frozenset({OrgKind.DISTRIBUTOR, OrgKind.RETAILER}),
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[intpk]
    # Lower-cased NFC: the natural key people type.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Moves on every password change: a session cookie carries the epoch it was
    # made in, so changing the password signs every other browser out.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    last_signin_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the hash
        return f"<User {self.id} {self.email} {self.role}>"


class AuditEntry(Base):
    """One write made through the console or the API. Rows are never updated."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Who, as text, so the entry still reads right if the account changes.
    actor: Mapped[str] = mapped_column(String(254))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))


class ApiToken(Base):
    """A distributor's system's credential. Only a SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The first characters of the token, shown in lists so people can tell them apart.
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str200]
    created_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_by: Mapped[str200 | None]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation] = relationship(lazy="joined")


__all__ = ["ROLE_ORG_KINDS", "ApiToken", "AuditEntry", "Role", "User"]
