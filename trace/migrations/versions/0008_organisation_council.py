"""organisations name the council that governs them

Revision ID: 0008
Revises: 0005
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
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(
            sa.Column(
                "council_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_index(batch.f("ix_organisations_council_id"), ["council_id"])
        batch.create_foreign_key(
            batch.f("fk_organisations_council_id_organisations"),
            "organisations",
            ["council_id"],
            ["id"],
        )
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
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint(
            batch.f("fk_organisations_council_id_organisations"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_organisations_council_id"))
        batch.drop_column("council_id")
