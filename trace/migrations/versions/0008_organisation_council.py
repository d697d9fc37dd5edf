"""organisations name the council that governs them

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:00:00

Each organisation may name the OCOP council (an authority organisation) that
governs it; an authority with none above it is a central office. Existing rows
are linked where the address says which council: a producer or distributor
whose provinces (any address, as recorded or as it is now) match those of
exactly one authority is linked to it. Authorities are left unlinked, so every
existing council keeps acting as before until an operator links it to its
central office.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_FK = "fk_organisations_council_id_organisations"
_INDEX = "ix_organisations_council_id"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.add_column("organisations", sa.Column("council_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(_FK, "organisations", "organisations", ["council_id"], ["id"])
    elif "council_id" not in {c["name"] for c in sa.inspect(bind).get_columns("organisations")}:
        # Not batch mode: SQLite's copy-and-rename drops the old table, which the
        # rows of addresses, products and the rest forbid while foreign keys are
        # enforced (and PRAGMA foreign_keys cannot change inside the migration's
        # transaction). SQLite adds a nullable column with its REFERENCES in place.
        # (A column already there was left by a downgrade, see below.)
        op.execute(
            f"ALTER TABLE organisations ADD COLUMN council_id INTEGER "
            f"CONSTRAINT {_FK} REFERENCES organisations (id)"
        )
    op.create_index(_INDEX, "organisations", ["council_id"])
    _link_by_province()


def _link_by_province() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT o.id, o.kind, a.province FROM organisations o "
            "JOIN addresses a ON a.organisation_id = o.id"
        )
    ).all()
    provinces: dict[int, set[str]] = {}
    kinds: dict[int, str] = {}
    for org_id, kind, province in rows:
        provinces.setdefault(org_id, set()).add(" ".join(str(province).lower().split()))
        kinds[org_id] = kind
    councils = {org_id: p for org_id, p in provinces.items() if kinds[org_id] == "authority"}
    for org_id, places in provinces.items():
        if kinds[org_id] == "authority":
            continue
        matches = [council for council, theirs in councils.items() if places & theirs]
        if len(matches) == 1:
            connection.execute(
                sa.text("UPDATE organisations SET council_id = :council WHERE id = :id"),
                {"council": matches[0], "id": org_id},
            )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="organisations")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(_FK, "organisations", type_="foreignkey")
        op.drop_column("organisations", "council_id")
        return
    # SQLite drops no column that a foreign key uses, and rebuilding the table
    # needs foreign keys off, which holds only outside a transaction: the links
    # are cleared and the column stays, unused by the code of revision 0005.
    op.execute("UPDATE organisations SET council_id = NULL")
