"""Activating stamps at packing: the console page, the command, the audit log, analytics."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ocop.keys import keystore_for
from ocop.stamps.models import StampActivation
from ocop.stamps.printing import PrintJob, issue_and_write
from ocop.web.cli import main
from ocop.workflows.models import AuditEntry

from .conftest import World, post, sign_in

LOT = "BC-2026-1115"


def inert_batch(app: Flask, tmp_path: Path, count: int = 30) -> tuple[int, list[dict[str, str]]]:
    """A batch as a stamp request leaves it: printed, inert."""
    settings = app.config["OCOP"]
    keystore = keystore_for(settings.instance, os.environ, production=False)
    out = tmp_path / f"inert-{count}.csv"
    with app.app_context():
        issued = issue_and_write(
            app.extensions["ocop.db"], keystore,
            PrintJob(lot_code=LOT, count=count, out=out, activate=False),
            base_url=settings.base_url, actor="test",
        )
    return issued.batch, list(csv.DictReader(out.open(encoding="utf-8")))


def _activations(app: Flask) -> int:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalar(select(func.count()).select_from(StampActivation))


def _verdict(client: FlaskClient, row: dict[str, str]) -> dict:
    return client.get(f"/api/v1/verify/{row['token']}").get_json()


def test_producer_activates_a_range_by_serial_and_by_pasted_qr(
    client: FlaskClient, app: Flask, world: World, tmp_path: Path
) -> None:
    batch, rows = inert_batch(app, tmp_path)
    before = _activations(app)
    scanner = app.test_client()
    page = scanner.get(f"/V/{rows[0]['token']}").get_data(as_text=True)
    assert "Tem chưa được kích hoạt" in page
    english = scanner.get(f"/V/{rows[0]['token']}?lang=en").get_data(as_text=True)
    assert "Stamp not activated" in english
    assert _verdict(scanner, rows[0])["reasons"] == ["not_activated"]
    # A blank taken from the roll shows no product to vouch for whatever it is stuck on.
    assert "product" not in _verdict(scanner, rows[0])
    assert "Bánh cáy" not in page

    producer = sign_in(client, world, "producer")
    form = producer.get("/console/stamps/activate").get_data(as_text=True)
    assert f'value="{batch}"' in form
    answer = post(producer, "/console/stamps/activate",
                  {"batch": str(batch), "first": rows[0]["serial"], "last": rows[9]["url"]})
    assert answer.status_code == 302
    assert _activations(app) == before + 1
    assert _verdict(scanner, rows[0])["status"] == "genuine"
    assert "product" in _verdict(scanner, rows[0])
    assert "Bánh cáy" in scanner.get(f"/V/{rows[0]['token']}").get_data(as_text=True)
    assert _verdict(scanner, rows[9])["status"] == "genuine"
    assert _verdict(scanner, rows[10])["reasons"] == ["not_activated"]
    with app.extensions["ocop.db"].transaction() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stamps.activate")
        ).one()
        assert entry.actor == world.emails["producer"]
        assert entry.detail["stamps"] == 10


def test_refusals_on_the_page_change_nothing(
    client: FlaskClient, app: Flask, world: World, tmp_path: Path
) -> None:
    batch, _rows = inert_batch(app, tmp_path)
    producer = sign_in(client, world, "producer")
    assert post(producer, "/console/stamps/activate",
                {"batch": str(batch), "first": "1", "last": "10"}).status_code == 302
    before = _activations(app)
    cases = [
        ({"first": "5", "last": "12"}, "already active"),  # overlaps
        ({"first": "1", "last": "10"}, "already active"),  # twice
        ({"first": "20", "last": "15"}, "comes after"),
        ({"first": "25", "last": "31"}, "1 to 30"),
        ({"first": "hello", "last": "12"}, "not a stamp"),
        ({"first": "", "last": "12"}, "first stamp"),
    ]
    for data, said in cases:
        answer = post(producer, "/console/stamps/activate?lang=en", {"batch": str(batch), **data})
        assert answer.status_code in (400, 409), data
        assert said in answer.get_data(as_text=True), (data, said)
    assert _activations(app) == before
    # Another producer sees no such batch, and cannot activate it.
    other = sign_in(app.test_client(), world, "other_producer")
    assert f'value="{batch}"' not in other.get("/console/stamps/activate").get_data(as_text=True)
    answer = post(other, "/console/stamps/activate?lang=en",
                  {"batch": str(batch), "first": "20", "last": "21"})
    assert answer.status_code == 409 and "no batch" in answer.get_data(as_text=True)
    # Authorities and distributors do not activate stamps.
    officer = sign_in(app.test_client(), world, "authority")
    assert officer.get("/console/stamps/activate").status_code == 403
    assert _activations(app) == before


def test_a_client_without_cookies_or_token_cannot_activate(
    app: Flask, world: World, tmp_path: Path
) -> None:
    batch, _rows = inert_batch(app, tmp_path)
    before = _activations(app)
    bare = app.test_client(use_cookies=False)
    answer = bare.post("/console/stamps/activate",
                       data={"batch": str(batch), "first": "1", "last": "2"})
    assert answer.status_code in (302, 400, 401, 403)
    assert _activations(app) == before


def test_scans_of_inert_stamps_show_in_the_producers_analytics(
    client: FlaskClient, app: Flask, world: World, tmp_path: Path
) -> None:
    _batch, rows = inert_batch(app, tmp_path)
    phone = app.test_client()
    phone.get(f"/V/{rows[3]['token']}", headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile"})
    producer = sign_in(client, world, "producer")
    page = producer.get("/console/analytics").get_data(as_text=True)
    assert "Tem chưa kích hoạt bị quét" in page
    assert rows[3]["serial"] in page


def test_ocop_stamps_activate_and_issue_inert(app: Flask, world: World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "cli.csv"
    issued = runner.invoke(main, ["stamps", "issue", "--lot", LOT, "--count", "8",
                                  "--out", str(out), "--inert", "--json"])
    assert issued.exit_code == 0, issued.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    batch = int(rows[0]["serial"].split("-")[0])
    scanner = app.test_client()
    assert _verdict(scanner, rows[0])["reasons"] == ["not_activated"]
    done = runner.invoke(main, ["stamps", "activate", str(batch), "1", rows[3]["serial"]])
    assert done.exit_code == 0, done.output
    assert "Activated 4 stamps" in done.output
    assert _verdict(scanner, rows[3])["status"] == "genuine"
    again = runner.invoke(main, ["stamps", "activate", str(batch), "4", "5"])
    assert again.exit_code != 0 and "already active" in again.output
    backwards = runner.invoke(main, ["stamps", "activate", str(batch), "8", "6"])
    assert backwards.exit_code != 0 and "comes after" in backwards.output
    active = runner.invoke(main, ["stamps", "issue", "--lot", LOT, "--count", "2",
                                  "--out", str(tmp_path / "a.csv")])
    assert active.exit_code == 0, active.output
    row = next(csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8")))
    assert _verdict(scanner, row)["status"] == "genuine"
