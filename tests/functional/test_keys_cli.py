"""``ocop keys`` and the keys part of ``ocop init``, end to end with real files."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from ocop.keys.keystore import Keystore
from ocop.keys.trustlist import KeyStatus, TrustList
from ocop.trace.db import Base
from ocop.trace.models import Organisation, OrgKind
from ocop.web import create_app
from ocop.web.cli import main

from .conftest import TEST_PASSPHRASE


@pytest.fixture(autouse=True)
def _logs(caplog):
    caplog.set_level(logging.DEBUG)


@pytest.fixture
def ocop(runner, caplog):
    """Run ``ocop ARGS``; check the exit code and that the passphrase never shows."""

    def run(*args: str, code: int = 0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, result.output
        for text in (result.output, caplog.text):
            assert TEST_PASSPHRASE not in text
        assert "Traceback" not in result.output
        if code == 1:  # a user error: one line, no usage text
            assert result.stderr.startswith("Error: ")
            assert result.stderr.count("\n") == 1
        return result

    return run


def _keys(ocop) -> list[dict]:
    return json.loads(ocop("keys", "list", "--json").output)["keys"]


def _trust(ocop) -> dict[str, KeyStatus]:
    trust = TrustList.from_json(ocop("keys", "trust-list").output)
    return {key.kid: key.status for key in trust.keys}


def _add_authority(app, name: str = "Hội đồng OCOP tỉnh Hưng Yên") -> int:
    with app.extensions["ocop.db"].transaction() as session:
        org = Organisation(kind=OrgKind.AUTHORITY, name=name, tax_code=f"HY-{len(name)}")
        session.add(org)
        session.flush()
        return org.id


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_init_creates_the_first_authority_and_key_once(ocop):
    first = ocop("init").output
    assert "created issuer key" in first
    (key,) = _keys(ocop)
    assert key["status"] == "active"
    assert key["kid"] in first
    again = ocop("init").output
    assert f"has issuer key {key['kid']}" in again
    assert _keys(ocop) == [key]


def test_new_when_the_authority_has_a_key_asks_for_rotate(ocop):
    ocop("init")
    result = ocop("keys", "new", code=1)
    assert "ocop keys rotate" in result.stderr
    assert len(_keys(ocop)) == 1


def test_new_for_a_second_authority_needs_org(ocop, app):
    ocop("init")
    org_id = _add_authority(app)
    result = ocop("keys", "new", code=1)
    assert "--org" in result.stderr
    assert str(org_id) in result.stderr
    said = ocop("keys", "new", "--org", str(org_id)).output
    (key,) = [k for k in _keys(ocop) if k["org"]["id"] == org_id]
    assert key["kid"] in said


def test_rotate_retires_the_old_key(ocop):
    ocop("init")
    (old,) = _keys(ocop)
    said = ocop("keys", "rotate").output
    keys = {k["kid"]: k for k in _keys(ocop)}
    (new_kid,) = set(keys) - {old["kid"]}
    assert new_kid in said
    assert keys[old["kid"]]["status"] == "retired"
    assert keys[old["kid"]]["retired_at"]
    assert keys[new_kid]["status"] == "active"
    assert _trust(ocop) == {old["kid"]: KeyStatus.RETIRED, new_kid: KeyStatus.ACTIVE}


def test_rotate_an_authority_without_a_key(ocop, app):
    ocop("init")
    org_id = _add_authority(app)
    result = ocop("keys", "rotate", "--org", str(org_id), code=1)
    assert "has no issuer key to rotate" in result.stderr


def test_revoke(ocop):
    ocop("init")
    (key,) = _keys(ocop)
    ocop("keys", "revoke", "--reason", "laptop stolen", "--", key["kid"])
    (after,) = _keys(ocop)
    assert after["status"] == "revoked"
    assert after["revoked_reason"] == "laptop stolen"
    assert after["revoked_at"]
    assert after["revoked_by"]
    assert _trust(ocop) == {key["kid"]: KeyStatus.REVOKED}
    assert "revoked" in ocop("keys", "list").output


def test_revoke_twice(ocop):
    ocop("init")
    (key,) = _keys(ocop)
    ocop("keys", "revoke", "--reason", "leaked", "--", key["kid"])
    result = ocop("keys", "revoke", "--reason", "again", "--", key["kid"], code=1)
    assert "already revoked" in result.stderr
    assert _keys(ocop)[0]["revoked_reason"] == "leaked"


def test_revoke_an_unknown_kid(ocop):
    ocop("init")
    result = ocop(
        "keys", "revoke", "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0", "--reason", "x", code=1
    )
    assert "no issuer key with kid" in result.stderr


def test_revoke_needs_a_reason(ocop):
    ocop("init")
    (key,) = _keys(ocop)
    assert "--reason" in ocop("keys", "revoke", "--", key["kid"], code=2).output
    assert (
        "needs a reason" in ocop("keys", "revoke", "--reason", " ", "--", key["kid"], code=1).stderr
    )
    assert _keys(ocop)[0]["status"] == "active"


def test_a_wrong_passphrase_is_refused_and_nothing_is_written(ocop, app, instance, monkeypatch):
    ocop("init")
    org_id = _add_authority(app)
    before, keys_before = _snapshot(instance), _keys(ocop)
    first_id = str(keys_before[0]["org"]["id"])
    monkeypatch.setenv("OCOP_KEY_PASSPHRASE", "not the right passphrase")
    for command in (["keys", "rotate", "--org", first_id], ["keys", "new", "--org", str(org_id)]):
        result = ocop(*command, code=1)
        assert "the key passphrase is wrong" in result.stderr
        assert "not the right passphrase" not in result.output
    assert _snapshot(instance) == before
    assert _keys(ocop) == keys_before


def test_trust_list_to_a_file(ocop, tmp_path):
    ocop("init")
    out = tmp_path / "ocop-trust.json"
    ocop("keys", "trust-list", "--out", str(out))
    assert _mode(out) == 0o644
    assert TrustList.from_json(out.read_bytes()).keys
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert json.loads(out.read_text()) == json.loads(ocop("keys", "trust-list").output)


def test_trust_list_into_a_missing_folder(ocop, tmp_path):
    ocop("init")
    result = ocop("keys", "trust-list", "--out", str(tmp_path / "nowhere" / "t.json"), code=1)
    assert "does not exist" in result.stderr


def test_list_without_keys(ocop):
    assert "No issuer keys yet" in ocop("keys", "list").output
    assert json.loads(ocop("keys", "list", "--json").output) == {"keys": []}


def test_commands_without_an_authority(ocop):
    assert "ocop init" in ocop("keys", "new", code=1).stderr


def test_no_file_or_row_ever_holds_an_unencrypted_private_key(ocop, app, instance, database_url):
    ocop("init")
    org_id = _add_authority(app)
    ocop("keys", "new", "--org", str(org_id))
    ocop("keys", "rotate", "--org", str(org_id))
    ocop("keys", "rotate", "--org", str(org_id))
    ocop("keys", "trust-list", "--out", str(instance / "ocop-trust.json"))

    keys_dir = instance / "keys"
    keystore = Keystore(keys_dir, TEST_PASSPHRASE.encode())
    kids = [key["kid"] for key in _keys(ocop)]
    assert sorted(kids) == keystore.kids()
    assert len(kids) == 4
    secrets = [TEST_PASSPHRASE.encode()]
    for kid in kids:
        seed = keystore.load(kid)._key.private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        secrets += [
            seed,
            seed.hex().encode(),
            base64.b64encode(seed),
            base64.urlsafe_b64encode(seed).rstrip(b"="),
        ]

    files = [p for p in instance.rglob("*") if p.is_file()]
    database_file = make_url(database_url).database
    if make_url(database_url).get_backend_name() == "sqlite" and database_file:
        files += [p for p in Path(database_file).parent.glob(Path(database_file).name + "*")]
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"BEGIN PRIVATE KEY" not in data, path
        assert b"OPENSSH PRIVATE KEY" not in data, path
        assert b"BEGIN EC PRIVATE KEY" not in data, path
        for secret in secrets:
            assert secret not in data, path
    assert sorted(p.stem for p in keys_dir.glob("*.key")) == sorted(kids)
    for path in keys_dir.glob("*.key"):
        assert json.loads(path.read_bytes())["format"] == "ocop-issuer-key/2"
        assert _mode(path) == 0o600
    assert _mode(keys_dir) == 0o700

    # And in the database whatever the engine: no column of any row holds a seed.
    with app.extensions["ocop.db"].transaction() as session:
        present = set(inspect(session.connection()).get_table_names())
        for table in (t for t in Base.metadata.sorted_tables if t.name in present):
            for row in session.execute(select(table)):
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    assert not any(secret in blob for secret in secrets), table.name


def test_a_laptop_gets_a_generated_passphrase_that_is_never_shown(
    ocop, instance, monkeypatch, caplog
):
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE")
    result = ocop("init")
    path = instance / "key_passphrase"
    passphrase = path.read_text()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert "development key passphrase generated" in caplog.text
    assert passphrase not in caplog.text
    assert passphrase not in result.output
    rotated = ocop("keys", "rotate")
    assert passphrase not in rotated.output
    assert passphrase not in caplog.text
    assert [k["status"] for k in _keys(ocop)] == ["retired", "active"]


def test_production_refuses_to_run_without_a_passphrase(
    clean_database, database_url, tmp_path, monkeypatch
):
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("OCOP_KEY_PASSPHRASE_FILE", raising=False)
    app = create_app(
        {
            "database_url": database_url,
            "instance": tmp_path / "instance",
            "secret_key": "t" * 32,
            "rate_limit": None,
            "production": True,
        }
    )
    try:
        app.extensions["ocop.db"].upgrade()
        result = app.test_cli_runner().invoke(main, ["keys", "new"])
    finally:
        app.extensions["ocop.db"].dispose()
    assert result.exit_code == 1
    assert "set OCOP_KEY_PASSPHRASE" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "instance" / "keys").exists()
