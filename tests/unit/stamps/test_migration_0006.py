"""Migration 0006 goes down to 0005 and up again, triggers and all, on either engine."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import inspect, text

from ocop.trace.db import Database, alembic_config, load_models, scratch_schema
from tests import factories as f

RENAME = text("UPDATE organisations SET name = :name WHERE id = :id")


@pytest.fixture
def fresh(tmp_path):
    load_models()
    url = os.environ.get("OCOP_TEST_DATABASE_URL")
    if not url:
        database = Database.from_url(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield database
        database.dispose()
        return
    with scratch_schema(url, "ocop_migration") as scratch:
        database = Database.from_url(scratch)
        yield database
        database.dispose()


def _migrate(database: Database, direction: str, target: str) -> None:
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, direction)(config, target)


def _version(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.execute(text("SELECT version FROM facts_version")).scalar_one()


def test_down_to_0005_and_up_again(fresh: Database) -> None:
    fresh.upgrade()
    assert _version(fresh) == 1
    with fresh.transaction() as session:
        org = f.organisation(session)  # an insert: organisations' inserts move nothing
    assert _version(fresh) == 1
    with fresh.engine.begin() as connection:
        connection.execute(RENAME, {"id": org.id, "name": "HTX"})
    assert _version(fresh) == 2
    _migrate(fresh, "downgrade", "0008")
    tables = inspect(fresh.engine).get_table_names()
    assert "facts_version" not in tables and "stamp_networks" not in tables
    columns = {c["name"] for c in inspect(fresh.engine).get_columns("stamp_scans")}
    assert "sightings" not in columns and "pin_attempts" not in columns
    with fresh.engine.begin() as connection:  # no trigger left behind to fail on a missing table
        connection.execute(RENAME, {"id": org.id, "name": "HTX 2"})
    _migrate(fresh, "upgrade", "head")
    assert _version(fresh) == 1
