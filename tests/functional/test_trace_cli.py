"""``ocop trace`` through the CLI runner: what a producer types, and their mistakes."""

from __future__ import annotations

import json
import uuid
from importlib import resources
from urllib.parse import quote

import jsonschema
import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from ocop.web import create_app
from ocop.web.cli import main
from tests.conftest import EPCIS
from tests.unit.trace.documents import chain, event_id, row_counts

SAMPLE = resources.files("ocop.trace") / "sample.json"


@pytest.fixture
def counts(app):
    def count() -> dict[str, int]:
        with Session(app.extensions["ocop.db"].engine) as session:
            return row_counts(session)

    return count


def write(tmp_path, data, name="records.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def fails(result, *parts):
    """One clear line on stderr, a non-zero exit, no traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for part in parts:
        assert part in lines[0]
    assert "Traceback" not in result.output


def test_import_then_list_then_show(runner, tmp_path):
    result = runner.invoke(main, ["trace", "import", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "events: 22 created" in result.output

    result = runner.invoke(main, ["trace", "lots", "--json"])
    assert result.exit_code == 0, result.output
    lots = {lot["code"]: lot for lot in json.loads(result.stdout)}
    assert lots["BC-2026-1115"]["stampable"] is True
    assert lots["BC-2026-1115"]["producer"] == "Hợp tác xã Bánh cáy làng Nguyễn"
    assert lots["BC-2026-1115"]["product"] == "Bánh cáy làng Nguyễn"
    assert lots["MO-2025-0420"]["stampable"] is False

    result = runner.invoke(main, ["trace", "lots"])
    assert "BC-2026-1115" in result.output and "yes (4★)" in result.output

    result = runner.invoke(main, ["trace", "show", "BC-2026-1115"])
    assert result.exit_code == 0, result.output
    for text in (
        "One step back",
        "NEP-2026-0615",
        "Upstream tree (5 lots)",
        "TB-DH-NX-NEP-01",
        "receiving",
    ):
        assert text in result.output

    result = runner.invoke(main, ["trace", "show", "BC-2026-1115", "--json"])
    shown = json.loads(result.stdout)
    assert shown["one_step_back"][0]["lot"] == "NEP-2026-0615"
    assert shown["stampable"] is True
    assert {lot["code"] for lot in shown["upstream"]["lots"] if lot["raw_material"]} == {
        "NEP-2026-0615",
        "GAC-2026-1020",
        "LAC-2026-0622",
        "VUNG-2026-0818",
    }
    assert shown["journey"][-1]["biz_step"] == "receiving"


def test_importing_twice_creates_nothing(runner, counts):
    assert runner.invoke(main, ["trace", "import", str(SAMPLE)]).exit_code == 0
    before = counts()
    result = runner.invoke(main, ["trace", "import", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)["records"]
    assert all(kind["created"] == 0 for kind in records.values())
    assert records["events"]["unchanged"] == 22
    assert counts() == before


def test_check_writes_nothing(runner, counts):
    result = runner.invoke(main, ["trace", "import", str(SAMPLE), "--check"])
    assert result.exit_code == 0, result.output
    assert "nothing written" in result.output
    assert counts()["events"] == 0


def test_export_epcis_is_valid(runner, tmp_path):
    runner.invoke(main, ["trace", "import", str(SAMPLE)])
    out = tmp_path / "epcis.json"
    result = runner.invoke(
        main, ["trace", "export-epcis", "--lot", "BC-2026-1115", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 9 events" in result.stderr
    schema = json.loads((EPCIS / "EPCIS-JSON-Schema.json").read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    document = json.loads(out.read_text("utf-8"))
    assert not [e.message for e in validator.iter_errors(document)]
    everything = runner.invoke(main, ["trace", "export-epcis"])
    assert len(json.loads(everything.stdout)["epcisBody"]["eventList"]) == 22


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        (lambda p: p / "absent.json", ["no such file"]),
        (
            lambda p: _file(p, b'{"lots": [\n  {"code": "A",}\n]}'),
            ["not valid JSON at line 2, column 15: a comma after the last item"],
        ),
        (
            lambda p: _file(p, b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(200)),
            ["binary file, not JSON"],
        ),
        (lambda p: _file(p, "Thái Bình".encode("latin-1")), ["not UTF-8"]),
        (lambda p: _file(p, b"[]"), ["top level must be a JSON object"]),
    ],
)
def test_unreadable_files(runner, tmp_path, counts, setup, says):
    result = runner.invoke(main, ["trace", "import", str(setup(tmp_path))])
    fails(result, *says)
    assert counts()["organisations"] == 0


def test_a_trailing_comma_is_told_in_the_terminals_language(runner, tmp_path, counts):
    path = _file(tmp_path, b'{"lots": [\n  {"code": "A",}\n]}')
    result = runner.invoke(main, ["trace", "import", str(path)], env={"LANG": "vi_VN.UTF-8"})
    fails(result, "không phải JSON hợp lệ ở dòng 2, cột 15", "dấu phẩy sau mục cuối cùng")
    assert "Expecting" not in result.output and "a comma after" not in result.output
    assert counts()["organisations"] == 0


def _file(folder, raw: bytes):
    path = folder / "input.json"
    path.write_bytes(raw)
    return path


def _break(change):
    data = chain()
    change(data)
    return data


def _cycle(data):
    data["events"].append(
        {
            "id": event_id(9),
            "type": "TransformationEvent",
            "biz_step": "transforming",
            "time": "2025-09-16T05:30:00+07:00",
            "facility": "PLANT",
            "inputs": [{"lot": "BC-1"}],
            "outputs": [{"lot": "RICE"}],
        }
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            lambda d: d["events"][2]["inputs"][0].update(lot="GHOST"),
            ["$.events[2].inputs[0].lot", "unknown lot 'GHOST'"],
        ),
        (
            lambda d: d["products"][0].update(gtin="8936045120010"),
            ["$.products[0].gtin", "check digit 0, expected 9"],
        ),
        (
            lambda d: d["certifications"][0].update(valid_until="2023-12-31"),
            ["$.certifications[0].valid_until", "is not after valid_from 2024-09-20"],
        ),
        (_cycle, ["$.events[5]", "loop in the lot genealogy"]),
    ],
)
def test_bad_records_change_nothing(runner, tmp_path, counts, change, says):
    result = runner.invoke(main, ["trace", "import", str(write(tmp_path, _break(change)))])
    fails(result, *says)
    assert counts() == {name: 0 for name in counts()}


def test_conflicting_event_is_refused_and_nothing_changes(runner, tmp_path, counts):
    assert runner.invoke(main, ["trace", "import", str(write(tmp_path, chain()))]).exit_code == 0
    before = counts()
    data = chain()
    data["events"][3]["lots"][0]["quantity"] = 99
    data["lots"].append({"code": "NEW", "item": "mới", "facility": "AREA"})
    result = runner.invoke(main, ["trace", "import", str(write(tmp_path, data, "second.json"))])
    fails(result, "$.events[3]", "already exists with different content", "append-only")
    assert counts() == before


def test_unknown_lot_in_show_and_export(runner):
    fails(runner.invoke(main, ["trace", "show", "NOPE"]), "no lot with code 'NOPE'")
    fails(
        runner.invoke(main, ["trace", "export-epcis", "--lot", "NOPE"]), "no lot with code 'NOPE'"
    )


def test_empty_database_lists_nothing(runner):
    result = runner.invoke(main, ["trace", "lots"])
    assert result.exit_code == 0 and "No lots recorded yet" in result.output
    assert json.loads(runner.invoke(main, ["trace", "lots", "--json"]).stdout) == []


@pytest.mark.postgres_only
def test_missing_schema_on_postgresql_says_to_run_init(tmp_path, database_url, is_postgres):
    if not is_postgres:
        pytest.skip("needs OCOP_TEST_DATABASE_URL")
    base = database_url.split("?")[0]
    schema = f"ocop_empty_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    app = create_app(
        {
            "database_url": f"{base}?options={quote(f'-csearch_path={schema}')}",
            "instance": tmp_path / "instance",
            "secret_key": "test",
            "rate_limit": None,
        }
    )
    try:
        fails(app.test_cli_runner().invoke(main, ["trace", "show", "X"]), "run `ocop init` first")
    finally:
        app.extensions["ocop.db"].dispose()
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_missing_schema_says_to_run_init(tmp_path):
    app = create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'empty.db'}",
            "instance": tmp_path / "instance",
            "secret_key": "test",
            "rate_limit": None,
        }
    )
    try:
        result = app.test_cli_runner().invoke(main, ["trace", "lots"])
        fails(result, "run `ocop init` first")
    finally:
        app.extensions["ocop.db"].dispose()
