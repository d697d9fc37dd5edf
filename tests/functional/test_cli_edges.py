"""Every command on a database that is not ready says so in one line."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask

from ocop.web import create_app
from ocop.web.cli import main


@pytest.fixture
def bare_runner(tmp_path, monkeypatch):
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "correct horse battery staple")
    app: Flask = create_app(
        {
            "database_url": f"sqlite:///{tmp_path / 'empty.db'}",
            "instance": tmp_path / "instance",
            "secret_key": "x",
        }
    )
    yield app.test_cli_runner()
    app.extensions["ocop.db"].dispose()


@pytest.mark.parametrize(
    "args",
    [
        ["stamps", "issue", "--lot", "X", "--count", "1", "--out", "a.csv"],
        ["keys", "list"],
        ["trace", "lots"],
    ],
)
def test_commands_before_init_say_run_init(bare_runner, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = bare_runner.invoke(main, args)
    assert result.exit_code == 1
    assert "ocop init" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "a.csv").exists()


# --------------------------------------------------------------------------- help writes nothing


def _every_help(group=main, path=()):
    """``ocop --help`` and ``--help`` of every group and command under it."""
    yield [*path, "--help"]
    for name, command in getattr(group, "commands", {}).items():
        if name in ("run", "shell", "routes"):  # Flask's own
            continue
        yield from _every_help(command, (*path, name))


def test_help_leaves_the_instance_folder_untouched(tmp_path, monkeypatch):
    from click.testing import CliRunner

    instance = tmp_path / "instance"
    for name in ("OCOP_DATABASE_URL", "OCOP_SECRET_KEY", "OCOP_PIN_SECRET", "OCOP_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCOP_INSTANCE", str(instance))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    asked = list(_every_help())
    assert ["stamps", "verify", "--help"] in asked and ["trace", "--help"] in asked
    for args in asked:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output
        assert not instance.exists(), (args, sorted(p.name for p in instance.rglob("*")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance"] or not any(
        tmp_path.iterdir()
    )


def test_the_secret_is_still_made_when_a_page_needs_it(tmp_path, monkeypatch):
    monkeypatch.delenv("OCOP_SECRET_KEY", raising=False)
    monkeypatch.delenv("OCOP_ENV", raising=False)
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "instance": tmp_path / "i"})
    try:
        assert not (tmp_path / "i" / "secret_key").exists()
        assert len(app.secret_key) >= 32
        assert (tmp_path / "i" / "secret_key").read_text().strip() == app.secret_key
    finally:
        app.extensions["ocop.db"].dispose()


# ------------------------------------------------------------------ hints name real commands


def test_users_add_names_a_command_that_lists_organisation_ids(runner, demo):
    import re

    help_text = runner.invoke(main, ["users", "add", "--help"]).output
    named = re.search(r"`ocop ([a-z -]+)`", " ".join(help_text.split())).group(1).split()
    listed = runner.invoke(main, [*named, "--json"])
    assert listed.exit_code == 0, listed.output
    orgs = json.loads(listed.output)
    assert len(orgs) >= 3 and all(isinstance(o["id"], int) and o["name"] for o in orgs)
    plain = runner.invoke(main, named).output
    cooperative = next(o for o in orgs if o["tax_code"] == "1001187342")
    assert f"{cooperative['id']}  " in plain and cooperative["name"] in plain
    # And the id it lists is one `users add` takes.
    org = str(cooperative["id"])
    added = runner.invoke(
        main, ["users", "add", "new@ocop.local", "--org", org, "--role", "producer"]
    )
    assert added.exit_code == 0 and cooperative["name"] in added.output


# --------------------------------------------------------------------------- demo links


def test_demo_links_use_the_port_it_serves_on(runner, app, monkeypatch):
    import pypdfium2 as pdfium
    import zxingcpp

    monkeypatch.delenv("OCOP_BASE_URL", raising=False)
    result = runner.invoke(main, ["demo", "--no-serve", "--port", "5201"])
    assert result.exit_code == 0, result.output
    links = re.findall(r"https?://\S+", result.output)
    assert links and all(link.startswith("http://127.0.0.1:5201/") for link in links), links
    urls = re.findall(r"HTTP://\S+", result.output)
    assert urls and all(url.startswith("HTTP://127.0.0.1:5201/V/") for url in urls)
    pdf = next(line.split(": ", 1)[1] for line in result.output.splitlines()
               if line.startswith("Printable label sheet"))
    page = pdfium.PdfDocument(pdf)[0]
    codes = [r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())]
    assert codes and all(code.startswith("HTTP://127.0.0.1:5201/V/") for code in codes)
    assert ":5000" not in result.output


def test_a_configured_base_url_wins_over_the_port(runner, app, monkeypatch):
    monkeypatch.setenv("OCOP_BASE_URL", "https://tem.ocop.vn")
    app.config["OCOP"] = app.config["OCOP"].with_overrides({"base_url": "https://tem.ocop.vn"})
    result = runner.invoke(main, ["demo", "--no-serve", "--port", "5201"])
    assert result.exit_code == 0, result.output
    assert "https://tem.ocop.vn/.well-known/ocop-trust.json" in result.output
    assert "5201" not in result.output
