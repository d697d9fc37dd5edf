"""transparency log of issuance: leaves, complete subtrees, size

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00

The log's tables are keys' (keys/models.py), but the revision lives with stamps
because it also logs every batch that exists already: stamps issued before
this revision must still verify, and a batch absent from the log does not.
Keys and batches are appended in the order they happened (key registered,
retired, revoked; batch opened).
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import ocop.trace.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("index", _BIG, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("batch_id", _BIG, nullable=True),
        sa.Column("kid", sa.String(length=43), nullable=True),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("appended_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_leaves")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_log_leaves_batch_id")),
    )
    op.create_index(op.f("ix_log_leaves_kid"), "log_leaves", ["kid"], unique=False)
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", _BIG, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
    )
    _log_what_exists()


def _log_what_exists() -> None:
    from ocop.keys.jwk import b64url_encode
    from ocop.keys.transparency import append, batch_fields, key_fields
    from ocop.stamps.serial import Serial

    bind = op.get_bind()
    # Typed columns: SQLite hands raw SQL its timestamps as text otherwise.
    utc = ocop.trace.db.UtcDateTime()

    def when(value: dt.datetime) -> dt.datetime:
        return value

    events = []
    keys = bind.execute(
        sa.text(
            "SELECT kid, organisation_id, public_key, created_at, retired_at, revoked_at "
            "FROM issuer_keys ORDER BY id"
        ).columns(
            sa.column("kid"),
            sa.column("organisation_id"),
            sa.column("public_key", sa.LargeBinary()),
            sa.column("created_at", utc),
            sa.column("retired_at", utc),
            sa.column("revoked_at", utc),
        )
    ).all()
    for kid, org, public, created, retired, revoked in keys:
        for event, at in (("registered", created), ("retired", retired), ("revoked", revoked)):
            if at is not None:
                fields = key_fields(
                    event=event,
                    kid=kid,
                    organisation=org,
                    public_key=b64url_encode(bytes(public)),
                    at=when(at),
                )
                events.append((when(at), 0, fields, None, kid))
    batches = bind.execute(
        sa.text(
            "SELECT b.id, k.kid, k.organisation_id, l.code, b.count, b.created_at "
            "FROM stamp_batches b JOIN issuer_keys k ON k.id = b.key_id "
            "JOIN lots l ON l.id = b.lot_id ORDER BY b.id"
        ).columns(
            sa.column("id"),
            sa.column("kid"),
            sa.column("organisation_id"),
            sa.column("code"),
            sa.column("count"),
            sa.column("created_at", utc),
        )
    ).all()
    for number, kid, org, lot, count, created in batches:
        fields = batch_fields(
            batch=number,
            kid=kid,
            organisation=org,
            lot=lot,
            count=count,
            first=str(Serial(number, 0)),
            last=str(Serial(number, count - 1)),
            at=when(created),
        )
        events.append((when(created), 1, fields, number, kid))
    session = Session(bind=bind)
    for at, _, fields, batch_id, kid in sorted(events, key=lambda e: (e[0], e[1])):
        append(session, fields, batch_id=batch_id, kid=kid, now=at)
    session.flush()


def downgrade() -> None:
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    op.drop_index(op.f("ix_log_leaves_kid"), table_name="log_leaves")
    op.drop_table("log_leaves")
