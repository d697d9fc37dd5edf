"""The key registry: which issuer keys exist, whose they are, and their state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    text,
)
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


class TrustRoot(Base):
    """A root key of the central office: its public half only (the private half is offline).

    The current root is the one not replaced; each later root carries the
    rotation statement its predecessor signed, so verifiers pinned to an older
    root can follow the chain.
    """

    __tablename__ = "trust_roots"

    id: Mapped[intpk]
    kid: Mapped[str] = mapped_column(String(43), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The predecessor's signed hand-over (keys/certificates.py, ROTATION_TYP); None for the first.
    rotation: Mapped[str | None] = mapped_column(Text)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[str200]
    created_at: Mapped[created_at]


class RootStatement(Base):
    """A certificate or a revocation the root signed, kept as the JWS it is."""

    __tablename__ = "root_statements"

    id: Mapped[intpk]
    # "certificate" or "revocation"
    kind: Mapped[str] = mapped_column(String(16))
    root_kid: Mapped[str] = mapped_column(String(43))
    subject_kid: Mapped[str] = mapped_column(String(43), index=True)
    # A certificate's purpose (certificates.Purpose); None on a revocation.
    purpose: Mapped[str | None] = mapped_column(String(32))
    statement: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str200]
    created_at: Mapped[created_at]


class SignedTrustListRow(Base):
    """Every signed trust list issued: the sequence only grows, across processes."""

    __tablename__ = "signed_trust_lists"

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    next_update: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    document: Mapped[str] = mapped_column(Text)



_BIG = BigInteger().with_variant(Integer(), "sqlite")


class LogLeaf(Base):
    """One entry of the transparency log (keys/transparency.py), never changed once written.

    ``root`` is the tree head with this leaf last, so the signed head of any
    size is one row away; ``batch_id`` (no foreign key: keys sits below stamps)
    and ``kid`` let a verifier find a batch's or a key's leaf.
    """

    __tablename__ = "log_leaves"

    index: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int | None] = mapped_column(_BIG, unique=True)
    kid: Mapped[str | None] = mapped_column(String(43), index=True)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    appended_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LogNode(Base):
    """The hash of a complete subtree: leaves index * 2**level up to (index + 1) * 2**level."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(_BIG, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogState(Base):
    """One row: the log's size. Appending bumps it first, so appends take turns on it."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


__all__ = [
    "IssuerKey",
    "LogLeaf",
    "LogNode",
    "LogState",
    "RootStatement",
    "SignedTrustListRow",
    "TrustRoot",
]
