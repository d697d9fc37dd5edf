"""Every command on a database that is not ready says so in one line."""

from __future__ import annotations

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
