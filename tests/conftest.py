"""Fixtures shared by every test: one migrated database per run, isolated per test.

The suite runs on SQLite by default and on PostgreSQL when
``OCOP_TEST_DATABASE_URL`` names one (``.ci/run`` does both). On PostgreSQL each
run gets a schema of its own, so parallel runs never meet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.orm import Session

from ocop.trace.db import Base, Database, load_models, scratch_schema

# No per-example deadline: it is a timing assertion, and on a machine shared by
# several test runs an example that takes 0.3 ms alone can take 500 ms.
settings.register_profile("ocop", deadline=None)
settings.load_profile("ocop")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("OCOP_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    with scratch_schema(url, "ocop_test") as scratch:
        yield scratch


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    load_models()
    db = Database.from_url(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def is_postgres(database: Database) -> bool:
    return database.engine.dialect.name == "postgresql"


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """A session whose every commit is a SAVEPOINT inside a transaction rolled back."""
    with database.engine.connect() as connection:
        outer = connection.begin()
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as s:
            yield s
        outer.rollback()


@pytest.fixture
def clean_database(database: Database) -> Iterator[Database]:
    """The shared database emptied, for tests whose code commits on its own; emptied
    again afterwards, so tests that rely on rolled-back sessions start from nothing."""
    _empty(database)
    yield database
    _empty(database)


def _empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def cheap_key_files(monkeypatch: pytest.MonkeyPatch) -> None:
    # scrypt at the production cost (128 MiB, about 0.4 s) for every key the suite
    # writes would dominate its time; the format and the code paths stay the same
    # (each file names its own cost).
    from ocop.keys import keyfile

    monkeypatch.setattr(keyfile, "WRITE_COST", keyfile.ScryptCost(n=2**10, r=8, p=1))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.functional.console.conftest import FUZZ_CASES

    if FUZZ_CASES["n"]:
        terminalreporter.write_line(f"console fuzz: {FUZZ_CASES['n']} cases, no 5xx")
