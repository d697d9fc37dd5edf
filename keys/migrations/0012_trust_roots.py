"""trust roots, root statements and signed trust lists

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocop.trace.db

revision: str = "0012"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "trust_roots",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kid", sa.String(length=43), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("rotation", sa.Text(), nullable=True),
        sa.Column("replaced_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_roots")),
        sa.UniqueConstraint("kid", name=op.f("uq_trust_roots_kid")),
    )
    op.create_table(
        "root_statements",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("root_kid", sa.String(length=43), nullable=False),
        sa.Column("subject_kid", sa.String(length=43), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_root_statements")),
    )
    op.create_index(
        op.f("ix_root_statements_subject_kid"), "root_statements", ["subject_kid"], unique=False
    )
    op.create_table(
        "signed_trust_lists",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issued_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_update", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_signed_trust_lists")),
    )


def downgrade() -> None:
    op.drop_table("signed_trust_lists")
    op.drop_index(op.f("ix_root_statements_subject_kid"), table_name="root_statements")
    op.drop_table("root_statements")
    op.drop_table("trust_roots")
