"""Worlds built once per run and restored for each test that asks for one.

Building a world (the sample import, a new issuer key, the demo's batch of
stamps) costs seconds; copying its rows and instance files back costs
milliseconds. A world is kept per name and database, so the suite on SQLite
and on PostgreSQL each build their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import text

from ocop.trace.db import Base, Database

T = TypeVar("T")


def restored(app: Flask, instance: Path, name: str, build: Callable[[], T]) -> T:
    """The world ``name``: built by ``build`` the first time, restored afterwards.

    The database must be empty (the ``app`` fixture empties it) and ``instance``
    is the app's instance folder, where keystore and secrets live.
    """
    database: Database = app.extensions["ocop.db"]
    key = (name, str(database.engine.url))
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        value = build()
        _SNAPSHOTS[key] = _Snapshot.take(database, instance, value)
        return value
    snapshot.restore(database, instance)
    return snapshot.value


@dataclass
class _Snapshot:
    value: Any  # what the world's fixture returns; immutable or never changed by tests
    rows: dict[str, list[dict]]
    files: dict[str, tuple[bytes, int]]  # the instance folder: keystore, secrets, outputs

    @classmethod
    def take(cls, database: Database, instance: Path, value: Any) -> _Snapshot:
        with database.engine.connect() as connection:
            rows = {
                table.name: [dict(r) for r in connection.execute(table.select()).mappings()]
                for table in Base.metadata.sorted_tables
            }
        files = {
            str(path.relative_to(instance)): (path.read_bytes(), path.stat().st_mode & 0o777)
            for path in instance.rglob("*")
            if path.is_file()
        }
        return cls(value, rows, files)

    def restore(self, database: Database, instance: Path) -> None:
        for name, (content, mode) in self.files.items():
            path = instance / name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(mode)
        with database.engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                if self.rows[table.name]:
                    connection.execute(table.insert(), self.rows[table.name])
            if connection.dialect.name == "postgresql":
                _advance_sequences(connection)


def _advance_sequences(connection) -> None:
    # Rows came back with their ids; the next insert must not reuse one.
    for table in Base.metadata.sorted_tables:
        column = table.autoincrement_column
        if column is None:
            continue
        connection.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:t, :c), "
                f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"t": table.name, "c": column.name},
        )


_SNAPSHOTS: dict[tuple[str, str], _Snapshot] = {}
