"""Alembic environment: runs on the connection :meth:`Database.upgrade` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from ocop.trace.db import Base, load_models

config = context.config


def _target_metadata():
    # Autogenerate must see every package's tables; the upgrade itself needs none.
    load_models()
    return Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=_target_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(
        {"sqlalchemy.url": config.get_main_option("sqlalchemy.url")}, poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _run(conn)
