"""copy detection by networks and places, PIN budget per stamp, facts version

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-01 09:00:00

- ``stamp_networks``: the networks (keyed hashes of address prefixes) that
  scanned each stamp; ``stamp_scans`` gains ``sightings`` (a device new to the
  stamp on a network new to it), ``far_apart`` and the last shared place, and the
  stamp's own PIN budget (``pin_attempts`` in a window from ``pin_window_at``).
  Scans before this revision carry no network, so every stamp starts with no
  sightings: the old device counts were inflated by cookie-less browsers and
  are kept for display only (docs/copy-detection.md).
- ``facts_version``: one row, bumped by triggers in the same transaction as any
  change to what a verdict reads (batches, keys, lots, products, organisations,
  recalls, certifications), so per-process caches of batch facts see a recall on
  the next scan whichever code path wrote it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ocop.trace.db

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What each table's changes can do to a verdict read from cache: any change
# for recalls and certificates, updates (and the deletes tests make) for the rest.
WATCHED = {
    "stamp_batches": ("UPDATE", "DELETE"),
    "issuer_keys": ("UPDATE", "DELETE"),
    "lots": ("UPDATE", "DELETE"),
    "products": ("UPDATE", "DELETE"),
    "organisations": ("UPDATE", "DELETE"),
    "recalls": ("INSERT", "UPDATE", "DELETE"),
    "certifications": ("INSERT", "UPDATE", "DELETE"),
}

# A row emptied away (tests empty every table) comes back far above any
# number handed out before: microseconds since 1970.
_SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
_POSTGRES_NOW_US = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"


def _bump(now_us: str) -> str:
    # now_us is one of the two constants above, never outside input.
    return (
        f"INSERT INTO facts_version (id, version) VALUES (1, {now_us}) "  # noqa: S608
        "ON CONFLICT (id) DO UPDATE SET version = facts_version.version + 1"
    )


def upgrade() -> None:
    op.create_table(
        "facts_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts_version")),
    )
    op.execute("INSERT INTO facts_version (id, version) VALUES (1, 1)")
    op.create_table(
        "stamp_networks",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column(
            "index",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("first_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "index", "network", name=op.f("pk_stamp_networks")),
    )
    with op.batch_alter_table("stamp_scans", schema=None) as batch_op:
        for counter in ("sightings", "far_apart"):
            batch_op.add_column(
                sa.Column(counter, sa.Integer(), server_default="0", nullable=False)
            )
        batch_op.add_column(sa.Column("place", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("place_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("place_network", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("pin_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pin_window_at", ocop.trace.db.UtcDateTime(timezone=True), nullable=True)
        )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _postgres_triggers() -> None:
    op.execute(
        "CREATE FUNCTION ocop_bump_facts_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_bump(_POSTGRES_NOW_US)}; RETURN NULL; END $$"
    )
    for table, events in WATCHED.items():
        op.execute(
            f"CREATE TRIGGER ocop_facts_{table} AFTER {' OR '.join(events)} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ocop_bump_facts_version()"
        )


def _sqlite_triggers() -> None:
    for table, events in WATCHED.items():
        for event in events:
            op.execute(
                f"CREATE TRIGGER ocop_facts_{table}_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {_bump(_SQLITE_NOW_US)}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER ocop_facts_{table} ON {table}")
        op.execute("DROP FUNCTION ocop_bump_facts_version()")
    else:
        for table, events in WATCHED.items():
            for event in events:
                op.execute(f"DROP TRIGGER ocop_facts_{table}_{event.lower()}")
    with op.batch_alter_table("stamp_scans", schema=None) as batch_op:
        for column in (
            "pin_window_at",
            "pin_attempts",
            "place_network",
            "place_at",
            "place",
            "far_apart",
            "sightings",
        ):
            batch_op.drop_column(column)
    op.drop_table("stamp_networks")
    op.drop_table("facts_version")
