"""The database: declarative base, engine, sessions and schema upgrades.

Every table of every package hangs off :class:`Base`, so one Alembic history
covers the whole system of record.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from importlib import resources
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, cast
from urllib.parse import quote

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    Delete,
    Engine,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Update,
    create_engine,
    event,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from .errors import DatabaseNotReady

# Named constraints let Alembic drop and alter them by name, on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Certificates, best-before dates and production dates are Vietnamese calendar
# days; Vietnam keeps UTC+7 all year.
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def vietnam_today(now: dt.datetime | None = None) -> dt.date:
    """The calendar day in Vietnam at ``now`` (default: now)."""
    return (now or utcnow()).astimezone(VIETNAM).date()


def rowcount(session: Session, statement: Update | Delete) -> int:
    """Run an UPDATE or DELETE in ``session``; how many rows its WHERE matched."""
    # Session.execute is typed to return any Result; a DML statement's is a
    # CursorResult, the only kind with rowcount.
    return cast("CursorResult[Any]", session.execute(statement)).rowcount


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware and stored in UTC.

    SQLite keeps no zone, so a naive value read back is UTC by construction; a
    naive value handed in is a programming error, not something to guess about.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a timezone is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """The column type of a :class:`StrEnum` field, ``name`` naming its CHECK constraint."""
    # Store the value (what users and JSON see), as a CHECK rather than a native
    # type so that adding a member is a plain migration on both engines.
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger there would not.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

intpk = Annotated[int, mapped_column(BigIntId, primary_key=True)]
created_at = Annotated[dt.datetime, mapped_column(UtcDateTime, default=utcnow, nullable=False)]
str40 = Annotated[str, 40]
str200 = Annotated[str, 200]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: UtcDateTime,
        str40: String(40),
        str200: String(200),
        str: String(500),
    }

    if TYPE_CHECKING:
        # DeclarativeBase types this as any FromClause; every model here maps a
        # plain Table (none assigns __table__ a select or a join).
        __table__: ClassVar[Table]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the verifier read while an import writes; busy_timeout makes
    # concurrent writers wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the lock up front (IMMEDIATE) so that it waits its turn
    # under busy_timeout; a deferred transaction that reads first and writes
    # later would fail at once if another writer got in between. Readers
    # never lock: in WAL mode they read a snapshot beside the writer.
    deferred = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


READ_ONLY = "ocop_read_only"


def make_engine(url: str, *, wal_autocheckpoint: int | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings this project relies on.

    ``wal_autocheckpoint=0`` (SQLite) keeps this engine's commits from ever
    running a checkpoint; whoever asks for it checkpoints in the background
    (stamps.scans.ScanCounter).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if wal_autocheckpoint is not None:
            pragma = f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}"
            event.listen(engine, "connect", lambda c, _r: c.execute(pragma))
        # pysqlite's own BEGIN handling breaks SAVEPOINTs; take control of
        # transactions as SQLAlchemy documents.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """An engine with its session factory: what a request or a command opens."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._on_dispose: list[Callable[[], None]] = []
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        # For work that only reads (most web requests): on SQLite it takes no
        # write lock, so readers never queue behind writers.
        self.read_sessionmaker = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration; safe to run again."""
        from alembic import command

        with self.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def on_dispose(self, close: Callable[[], None]) -> None:
        """Run ``close`` when this database is disposed of (what holds connections of its own)."""
        self._on_dispose.append(close)

    def dispose(self) -> None:
        for close in self._on_dispose:
            close()
        self._on_dispose.clear()
        self.engine.dispose()


@contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL URL confined to a new, empty schema, dropped on leaving.

    Test runs and benchmarks use it so that they never meet each other's tables,
    nor anyone's real data, in a shared database.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def database_not_ready(error: DBAPIError) -> DatabaseNotReady:
    """The one line to show for a database that is missing, empty or unreachable."""

    message = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    missing_table = "no such table" in message or getattr(error.orig, "sqlstate", None) in (
        "42P01",  # undefined_table
        "3F000",  # invalid_schema_name
    )
    if missing_table or "unable to open database file" in message:
        return DatabaseNotReady(
            "the database has no ocop tables yet (%(problem)s); run `ocop init` first",
            problem=message,
        )
    return DatabaseNotReady("cannot use the database: %(problem)s", problem=message)


def schema_packages() -> list[str]:
    """The packages whose tables share this database, trace first.

    Each registers itself under the ``ocop.schema`` entry point (pyproject.toml)
    and keeps its revisions in its own ``migrations`` folder, all in one history;
    trace imports none of them, so the layers still run one way.
    """
    found = {ep.value for ep in entry_points(group="ocop.schema")}
    return ["ocop.trace", *sorted(found - {"ocop.trace"})]


def load_models() -> None:
    """Import every registered package's tables onto :data:`Base`'s metadata."""
    for package in schema_packages():
        importlib.import_module(f"{package}.models")


def alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("ocop.trace") / "migrations"))
    locations = [str(resources.files("ocop.trace") / "migrations" / "versions")]
    locations += [str(resources.files(p) / "migrations") for p in schema_packages()[1:]]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


__all__ = [
    "NAMING_CONVENTION",
    "VIETNAM",
    "Base",
    "BigIntId",
    "Database",
    "UtcDateTime",
    "created_at",
    "enum_column",
    "intpk",
    "load_models",
    "make_engine",
    "schema_packages",
    "scratch_schema",
    "utcnow",
    "vietnam_today",
]
