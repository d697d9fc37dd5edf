"""Fixtures shared by every test: one migrated database per run, isolated per test.

The suite runs on SQLite by default and on PostgreSQL when
``OCOP_TEST_DATABASE_URL`` names one (``.ci/run`` does both). On PostgreSQL each
run gets a schema of its own, so parallel runs never meet.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, settings
from sqlalchemy.orm import Session

from ocop.trace.db import Base, Database, load_models, scratch_schema
from ocop.workflows import accounts

# GS1's EPCIS 2.0 JSON schema and examples, copied into the repository (see its README).
EPCIS = Path(__file__).resolve().parent / "data" / "epcis"

# A property test's first example pays for imports and warm-up, and a busy CI
# machine runs slower still: a deadline would fail on the clock, not on a bug, and so
# would the too-slow health check. The profile builds on the active one, so under CI
# Hypothesis's own "ci" profile (derandomised, no example database) still applies.
settings.register_profile("ocop", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ocop")

# Argon2's production cost (64 MiB, 3 passes) would dominate the suite's time; the
# algorithm and the code paths stay the same. Tests marked ``production_hashes``
# keep the production hasher, to check its parameters.
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
_CHEAP_DUMMY_HASH = _CHEAP_HASHER.hash("no account has this password")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, for the browser tests."""
    return _program("chromium", "chromium-browser", package="chromium")


@pytest.fixture(scope="session")
def chromedriver() -> str:
    """Chromium's WebDriver, for the console's Selenium tests."""
    return _program("chromedriver", package="chromium-driver")


def _program(*names: str, package: str) -> str:
    found = next(filter(None, map(shutil.which, names)), None)
    if found:
        return found
    missing = f"{names[0]} is not installed (Debian package {package})"
    if os.environ.get("CI", "").lower() not in {"", "0", "false"}:
        # CI installs it (.ci/run): a browser test skipped there is a test not run.
        pytest.fail(f"{missing}; under CI the browser tests must run", pytrace=False)
    pytest.skip(missing)


@pytest.fixture(autouse=True)
def cheap_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("production_hashes"):
        return
    monkeypatch.setattr(accounts, "_hasher", _CHEAP_HASHER)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", _CHEAP_DUMMY_HASH)


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
