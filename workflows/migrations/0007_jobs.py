"""background jobs

Revision ID: 0007
Revises: 0011
Create Date: 2026-12-01 10:00:00

The queue carries only a job's id; this table holds what the workers learn
(status, chunks done, each part's digest, the output's digest, the error), so a
killed worker's job resumes from its last finished chunk.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocop.trace.db

revision: str = "0007"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", _ID, nullable=False),
        sa.Column(
            "kind", _enum("job_kind", "stamps", "analytics_csv", "certificate_expiry"),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            _enum("job_status", "queued", "running", "done", "failed", "cancelled"),
            nullable=False,
        ),
        sa.Column("request_id", _ID, nullable=True),
        sa.Column("output", sa.String(length=8), nullable=True),
        sa.Column("organisation_id", _ID, nullable=True),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("total", _ID, nullable=False),
        sa.Column("done", _ID, nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunks_done", sa.Integer(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=True),
        sa.Column("file_size", _ID, nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("lease_until", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("started_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("chunks_done >= 0", name=op.f("ck_jobs_chunks_done_positive")),
        sa.CheckConstraint("done >= 0 AND done <= total", name=op.f("ck_jobs_done_in_total")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_jobs_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["stamp_requests.id"], name=op.f("fk_jobs_request_id_stamp_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_organisation_id"), ["organisation_id"])
        batch_op.create_index(batch_op.f("ix_jobs_request_id"), ["request_id"])
        batch_op.create_index(batch_op.f("ix_jobs_status"), ["status"])


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_request_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_organisation_id"))
    op.drop_table("jobs")
