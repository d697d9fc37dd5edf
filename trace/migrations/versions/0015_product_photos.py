"""product photos: the producer's own pictures, stored as resized variants

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    import ocop.trace.db

    op.create_table(
        "product_photos",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("small_width", sa.Integer(), nullable=False),
        sa.Column("small_height", sa.Integer(), nullable=False),
        sa.Column("large_width", sa.Integer(), nullable=False),
        sa.Column("large_height", sa.Integer(), nullable=False),
        sa.Column("created_at", ocop.trace.db.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_photos_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_photos")),
        sa.UniqueConstraint(
            "product_id", "digest", name=op.f("uq_product_photos_product_id_digest")
        ),
    )
    op.create_index(
        op.f("ix_product_photos_product_id"), "product_photos", ["product_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_product_photos_product_id"), table_name="product_photos")
    op.drop_table("product_photos")
