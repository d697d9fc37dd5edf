"""The key registry: which issuer keys exist, whose they are, and their state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocop.trace.db import Base, UtcDateTime, created_at, enum_column, intpk, str200
from ocop.trace.models import Organisation

from .trustlist import KeyStatus


class IssuerKey(Base):
    __tablename__ = "issuer_keys"
    __table_args__ = (
        # One active key per organisation: rotation retires the old one first.
        Index(
            "uq_issuer_keys_one_active",
            "organisation_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_issuer_keys_kid_prefix", "kid_prefix"),
    )

    id: Mapped[intpk]
    # RFC 7638 thumbprint, base64url: 43 characters.
    kid: Mapped[str] = mapped_column(String(43), unique=True)
    # The 8 bytes a stamp carries, indexed so a verifier finds candidates at once.
    kid_prefix: Mapped[bytes] = mapped_column(LargeBinary(8))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    status: Mapped[KeyStatus] = mapped_column(enum_column(KeyStatus, "key_status"))
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    not_after: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str | None]
    created_by: Mapped[str200]
    revoked_by: Mapped[str200 | None]
    created_at: Mapped[created_at]

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"IssuerKey(kid={self.kid!r}, status={self.status!s})"


__all__ = ["IssuerKey"]
