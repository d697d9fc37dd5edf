"""catalogue: folded product search, sellers' opt-out

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 04:00:00

Products are found without diacritics or case ("banh cay" finds "Bánh cáy").
SQLite searches ``products.search_text``, folded by the app (trace.folding) and
filled here for the products already stored. PostgreSQL folds in the index
itself: ``ocop_fold`` (unaccent, then lower) under a trigram GIN index, which
serves ``LIKE '%...%'`` for every word asked. unaccent is only STABLE (its
dictionary could change), so an IMMUTABLE wrapper names the dictionary
explicitly, as the PostgreSQL documentation suggests for indexes.

The extensions go to a schema of their own unless they are installed already:
they are per database, and dropping a schema that held them would take every
index built on them down too. Downgrade leaves them installed, since other
databases objects may use them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ocop.trace.folding import product_search_text

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXTENSIONS_SCHEMA = "ocop_extensions"
SEARCH_INDEX = "ix_products_search_fold"
SEARCHED = "(name || ' ' || coalesce(short_name, ''))"


def upgrade() -> None:
    # Plain ADD COLUMN on every engine: no table is copied (see downgrade).
    op.add_column(
        "organisations",
        sa.Column("listed_as_seller", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.add_column("products", sa.Column("search_text", sa.String(length=300), nullable=True))
    _fill_search_text()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_index()


def _fill_search_text() -> None:
    bind = op.get_bind()
    products = sa.table(
        "products",
        sa.column("id"),
        sa.column("name"),
        sa.column("short_name"),
        sa.column("search_text"),
    )
    rows = bind.execute(sa.select(products.c.id, products.c.name, products.c.short_name)).all()
    for row in rows:
        bind.execute(
            products.update()
            .where(products.c.id == row.id)
            .values(search_text=product_search_text(row.name, row.short_name))
        )


def _extension_schema(name: str) -> str:
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = :name"
        ),
        {"name": name},
    ).scalar()
    if found is not None:
        return found
    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{EXTENSIONS_SCHEMA}"')
    op.execute(f'CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA "{EXTENSIONS_SCHEMA}"')
    return EXTENSIONS_SCHEMA


def _postgres_index() -> None:
    unaccent = _extension_schema("unaccent")
    trgm = _extension_schema("pg_trgm")
    op.execute(
        "CREATE FUNCTION ocop_fold(text) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        f' AS $$ SELECT lower("{unaccent}".unaccent(\'"{unaccent}".unaccent\'::regdictionary,'
        " $1)) $$"
    )
    op.execute(
        f"CREATE INDEX {SEARCH_INDEX} ON products"
        f' USING gin (ocop_fold{SEARCHED} "{trgm}".gin_trgm_ops)'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        op.execute("DROP FUNCTION IF EXISTS ocop_fold(text)")
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would copy organisations, which
    # other tables point to, and SQLite refuses that inside the migration's transaction.
    op.drop_column("products", "search_text")
    op.drop_column("organisations", "listed_as_seller")
