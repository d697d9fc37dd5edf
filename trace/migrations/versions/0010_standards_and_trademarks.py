"""standards applied and registered trademarks (Circular 02/2024/TT-BKHCN fields 8 and 10)

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KINDS = ("tcvn", "qcvn", "tccs", "iso", "codex", "other")


def _created_at() -> sa.Column:
    import ocop.trace.db

    return sa.Column("created_at", ocop.trace.db.UtcDateTime(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "applied_standards",
        sa.Column("id", _ID, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*_KINDS, name="standard_kind", native_enum=False, create_constraint=True,
                    length=32),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("product_id", _ID, nullable=True),
        sa.Column("facility_id", _ID, nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (facility_id IS NULL)",
            name=op.f("ck_applied_standards_applies_to_one_thing"),
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facilities.id"],
            name=op.f("fk_applied_standards_facility_id_facilities"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_applied_standards_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_standards")),
        sa.UniqueConstraint(
            "product_id", "facility_id", "kind", "code",
            name=op.f("uq_applied_standards_product_id_facility_id_kind_code"),
        ),
    )
    op.create_index(
        op.f("ix_applied_standards_product_id"), "applied_standards", ["product_id"]
    )
    op.create_index(
        op.f("ix_applied_standards_facility_id"), "applied_standards", ["facility_id"]
    )
    op.create_table(
        "trademarks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("mark", sa.String(length=200), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("granted_on", sa.Date(), nullable=True),
        sa.Column("classes", sa.String(length=40), nullable=True),
        sa.Column("office", sa.String(length=200), nullable=False),
        _created_at(),
        sa.CheckConstraint(
            "granted_on IS NULL OR filed_on IS NULL OR granted_on >= filed_on",
            name=op.f("ck_trademarks_granted_after_filing"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_trademarks_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trademarks")),
        sa.UniqueConstraint(
            "product_id", "office", "number", name=op.f("uq_trademarks_product_id_office_number")
        ),
    )
    op.create_index(op.f("ix_trademarks_product_id"), "trademarks", ["product_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trademarks_product_id"), table_name="trademarks")
    op.drop_table("trademarks")
    op.drop_index(op.f("ix_applied_standards_facility_id"), table_name="applied_standards")
    op.drop_index(op.f("ix_applied_standards_product_id"), table_name="applied_standards")
    op.drop_table("applied_standards")
