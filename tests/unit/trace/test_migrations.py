"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ocop.trace.db import Base, Database


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_audit_log_refuses_updates(database: Database) -> None:
    with database.engine.connect() as connection:
        outer = connection.begin()
        connection.execute(
            text("INSERT INTO audit_log (at, actor, action) VALUES (:at, 'x@test.vn', 'test')"),
            {"at": "2026-11-29 00:00:00+00:00"},
        )
        try:
            connection.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        except DBAPIError as error:
            assert "append-only" in str(error)
        else:
            raise AssertionError("the audit log accepted an UPDATE")
        finally:
            outer.rollback()
