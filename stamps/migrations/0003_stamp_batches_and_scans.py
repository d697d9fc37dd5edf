"""stamp batches and scans

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:14:52.635958
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocop.trace.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stamp_devices",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column(
            "index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("first_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "index", "device", name=op.f("pk_stamp_devices")),
    )
    op.create_table(
        "stamp_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("pin", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issuing",
                "issued",
                "failed",
                "voided",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("issued_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("voided_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count >= 1", name=op.f("ck_stamp_batches_count_positive")),
        sa.CheckConstraint(
            "id >= 1 AND id <= 4294967295", name=op.f("ck_stamp_batches_id_fits_token")
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["issuer_keys.id"], name=op.f("fk_stamp_batches_key_id_issuer_keys")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_stamp_batches_lot_id_lots")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_batches")),
    )
    with op.batch_alter_table("stamp_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stamp_batches_key_id"), ["key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stamp_batches_lot_id"), ["lot_id"], unique=False)

    op.create_table(
        "fake_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("where_bought", sa.String(length=200), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("handled_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["stamp_batches.id"], name=op.f("fk_fake_reports_batch_id_stamp_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fake_reports")),
    )
    with op.batch_alter_table("fake_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fake_reports_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "scan_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scanned_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("first_for_device", sa.Boolean(), nullable=False),
        sa.Column("place", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["stamp_batches.id"], name=op.f("fk_scan_log_batch_id_stamp_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_log")),
    )
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.create_index("ix_scan_log_batch_at", ["batch_id", "scanned_at"], unique=False)

    op.create_table(
        "stamp_scans",
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("pin_claims", sa.Integer(), nullable=False),
        sa.Column("first_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("pin_claimed_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["stamp_batches.id"], name=op.f("fk_stamp_scans_batch_id_stamp_batches")
        ),
        sa.PrimaryKeyConstraint("batch_id", "index", name=op.f("pk_stamp_scans")),
    )


def downgrade() -> None:
    op.drop_table("stamp_scans")
    with op.batch_alter_table("scan_log", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_log_batch_at")

    op.drop_table("scan_log")
    with op.batch_alter_table("fake_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fake_reports_batch_id"))

    op.drop_table("fake_reports")
    with op.batch_alter_table("stamp_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stamp_batches_lot_id"))
        batch_op.drop_index(batch_op.f("ix_stamp_batches_key_id"))

    op.drop_table("stamp_batches")
    op.drop_table("stamp_devices")
