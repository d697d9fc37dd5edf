"""stamp activation: ranges of a batch put into use by their owner

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:30:00

Stamps of a batch made from a producer's request stay inert until the producer
activates them, by range, at packing (stamps/activation.py). Every batch that
exists before this revision counts as activated: one range over all its
stamps. A change of ranges moves the facts version (migration 0006), since the
verifier caches each batch's ranges with its facts.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocop.trace.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
_EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "stamp_activations",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("batch_id", _BIG, nullable=False),
        sa.Column("first_index", _BIG, nullable=False),
        sa.Column("last_index", _BIG, nullable=False),
        sa.Column("activated_by", sa.String(length=200), nullable=False),
        sa.Column("activated_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "first_index >= 0 AND first_index <= last_index",
            name=op.f("ck_stamp_activations_range_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["stamp_batches.id"],
            name=op.f("fk_stamp_activations_batch_id_stamp_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stamp_activations")),
    )
    op.create_index(
        "ix_stamp_activations_batch_first", "stamp_activations", ["batch_id", "first_index"]
    )
    op.execute(
        "INSERT INTO stamp_activations (batch_id, first_index, last_index, activated_by, "
        "activated_at) SELECT id, 0, count - 1, 'before activation (revision 0014)', "
        "CURRENT_TIMESTAMP FROM stamp_batches"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER ocop_facts_stamp_activations AFTER INSERT OR UPDATE OR DELETE "
            "ON stamp_activations FOR EACH STATEMENT EXECUTE FUNCTION ocop_bump_facts_version()"
        )
    else:
        bump = (
            f"INSERT INTO facts_version (id, version) VALUES (1, {_SQLITE_NOW_US}) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET version = facts_version.version + 1"
        )
        for event in _EVENTS:
            op.execute(  # the event and the bump are constants above, never input
                f"CREATE TRIGGER ocop_facts_stamp_activations_{event.lower()} AFTER {event} "
                f"ON stamp_activations BEGIN {bump}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ocop_facts_stamp_activations ON stamp_activations")
    else:
        for event in _EVENTS:
            op.execute(f"DROP TRIGGER ocop_facts_stamp_activations_{event.lower()}")
    op.drop_index("ix_stamp_activations_batch_first", table_name="stamp_activations")
    op.drop_table("stamp_activations")
