"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ocop.trace.db import Base, Database


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_0008_links_producers_to_their_provinces_council_and_goes_back(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import text

    from ocop.trace.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(text(
            "INSERT INTO organisations (id, kind, name, tax_code, sample, created_at) VALUES "
            "(1, 'authority', 'HĐ Thái Bình', 'A1', 0, '2026-01-01'),"
            "(2, 'authority', 'HĐ Hà Nội', 'A2', 0, '2026-01-01'),"
            "(3, 'cooperative', 'HTX', 'P1', 0, '2026-01-01'),"
            "(4, 'distributor', 'Công ty', 'D1', 0, '2026-01-01'),"
            "(5, 'cooperative', 'HTX không rõ tỉnh', 'P2', 0, '2026-01-01')"
        ))  # fmt: skip
        connection.execute(text(
            "INSERT INTO addresses (organisation_id, province, country, effective_from) VALUES "
            "(1, 'tỉnh Thái Bình', 'VN', '2020-01-01'),"
            "(2, 'thành phố Hà Nội', 'VN', '2020-01-01'),"
            "(3, 'tỉnh  Thái Bình', 'VN', '2020-01-01'), (3, 'tỉnh Hưng Yên', 'VN', '2025-07-01'),"
            "(4, 'Thành phố Hà Nội', 'VN', '2020-01-01'), (5, 'tỉnh Lào Cai', 'VN', '2020-01-01')"
        ))  # fmt: skip
        command.upgrade(config, "0008")
        links = dict(connection.execute(text("SELECT id, council_id FROM organisations")).all())
        assert links == {1: None, 2: None, 3: 1, 4: 2, 5: None}
        command.downgrade(config, "0005")
        columns = [row[1] for row in connection.execute(text("PRAGMA table_info(organisations)"))]
        assert "council_id" not in columns or not any(
            connection.execute(text("SELECT council_id FROM organisations")).scalars()
        )
        command.upgrade(config, "0008")  # and up again
        links = dict(connection.execute(text("SELECT id, council_id FROM organisations")).all())
        assert links == {1: None, 2: None, 3: 1, 4: 2, 5: None}
    engine.dispose()
