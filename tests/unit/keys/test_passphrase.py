from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

import pytest

from ocop.keys.errors import FileAccessError, PassphraseUnavailable, WeakPassphrase
from ocop.keys.passphrase import _publish_once, keystore_for, resolve_passphrase

PASSPHRASE = "correct horse battery staple"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """The instance folder (the passphrase lives there, apart from its keys/)."""
    return tmp_path / "instance"


@pytest.mark.parametrize("production", [False, True])
def test_from_the_environment(keys_dir, production):
    env = {"OCOP_KEY_PASSPHRASE": PASSPHRASE}
    assert resolve_passphrase(env, keys_dir, production=production) == PASSPHRASE.encode()
    assert not keys_dir.exists()


def test_from_a_file_without_its_final_newline(tmp_path, keys_dir):
    secret = tmp_path / "secret"
    secret.write_bytes(b"  two spaces count too \n")
    env = {"OCOP_KEY_PASSPHRASE_FILE": str(secret)}
    assert resolve_passphrase(env, keys_dir, production=True) == b"  two spaces count too "


def test_a_windows_line_end_is_not_part_of_it(tmp_path, keys_dir):
    secret = tmp_path / "secret"
    secret.write_bytes(PASSPHRASE.encode() + b"\r\n")
    env = {"OCOP_KEY_PASSPHRASE_FILE": str(secret)}
    assert resolve_passphrase(env, keys_dir, production=True) == PASSPHRASE.encode()


def test_an_unreadable_file_is_named(tmp_path, keys_dir):
    missing = tmp_path / "nowhere" / "secret"
    with pytest.raises(PassphraseUnavailable, match="cannot read the key passphrase file") as err:
        resolve_passphrase({"OCOP_KEY_PASSPHRASE_FILE": str(missing)}, keys_dir, production=False)
    assert str(missing) in str(err.value)
    assert not keys_dir.exists()


def test_an_empty_file_is_refused(tmp_path, keys_dir):
    secret = tmp_path / "secret"
    secret.write_text("\n")
    with pytest.raises(PassphraseUnavailable, match="is empty"):
        resolve_passphrase({"OCOP_KEY_PASSPHRASE_FILE": str(secret)}, keys_dir, production=False)


def test_both_sources_at_once_are_refused(tmp_path, keys_dir):
    secret = tmp_path / "secret"
    secret.write_text(PASSPHRASE)
    env = {"OCOP_KEY_PASSPHRASE": PASSPHRASE, "OCOP_KEY_PASSPHRASE_FILE": str(secret)}
    with pytest.raises(PassphraseUnavailable, match="set only one"):
        resolve_passphrase(env, keys_dir, production=False)


def test_production_refuses_to_generate_one(keys_dir):
    with pytest.raises(PassphraseUnavailable, match="set OCOP_KEY_PASSPHRASE"):
        resolve_passphrase({}, keys_dir, production=True)
    assert not keys_dir.exists()


def test_production_ignores_a_development_passphrase_file(keys_dir):
    resolve_passphrase({}, keys_dir, production=False)
    with pytest.raises(PassphraseUnavailable, match="set OCOP_KEY_PASSPHRASE"):
        resolve_passphrase({}, keys_dir, production=True)


def test_production_refuses_a_short_passphrase(keys_dir):
    with pytest.raises(WeakPassphrase, match="at least 12 characters"):
        resolve_passphrase({"OCOP_KEY_PASSPHRASE": "short"}, keys_dir, production=True)


def test_development_accepts_a_short_passphrase(keys_dir):
    assert resolve_passphrase({"OCOP_KEY_PASSPHRASE": "dev"}, keys_dir, production=False) == b"dev"


def test_development_generates_one_once_and_warns(keys_dir, caplog):
    caplog.set_level(logging.DEBUG)
    first = resolve_passphrase({}, keys_dir, production=False)
    assert len(first) >= 32
    path = keys_dir / "key_passphrase"
    assert path.read_bytes() == first
    assert _mode(path) == 0o600
    assert _mode(keys_dir) == 0o700
    assert "development key passphrase generated" in caplog.text
    assert str(path) in caplog.text
    assert first.decode() not in caplog.text
    caplog.clear()
    assert resolve_passphrase({}, keys_dir, production=False) == first
    assert "generated" not in caplog.text
    assert [p.name for p in keys_dir.iterdir()] == ["key_passphrase"]  # no temp files left


def test_an_existing_folder_is_made_private(keys_dir):
    keys_dir.mkdir(parents=True, mode=0o755)
    keys_dir.chmod(0o755)
    resolve_passphrase({}, keys_dir, production=False)
    assert _mode(keys_dir) == 0o700


def test_concurrent_first_runs_agree_on_one_passphrase(keys_dir):
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        results.append(resolve_passphrase({}, keys_dir, production=False))

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert (keys_dir / "key_passphrase").read_bytes() == results[0]


def test_publishing_never_replaces_an_existing_file(tmp_path):
    path = tmp_path / "passphrase"
    path.write_bytes(b"theirs")
    assert _publish_once(path, b"mine") is False
    assert path.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["passphrase"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_an_unwritable_keystore_folder_is_one_clear_error(keys_dir):
    keys_dir.mkdir(parents=True)
    keys_dir.chmod(0o500)
    try:
        with pytest.raises(FileAccessError, match="cannot write"):
            resolve_passphrase({}, keys_dir, production=False)
    finally:
        keys_dir.chmod(0o700)


def test_keystore_for_an_instance(tmp_path):
    keystore = keystore_for(tmp_path, {"OCOP_KEY_PASSPHRASE": PASSPHRASE}, production=True)
    assert keystore.directory == tmp_path / "keys"
    assert PASSPHRASE not in repr(keystore)


def test_the_development_passphrase_lives_apart_from_the_keys(tmp_path):
    instance = tmp_path / "instance"
    keystore = keystore_for(instance, {}, production=False)
    keystore.generate()
    assert (instance / "key_passphrase").is_file()
    assert sorted(p.suffix for p in (instance / "keys").iterdir()) == [".key"]


def test_an_earlier_instances_passphrase_moves_out_of_the_keys_folder(tmp_path, caplog):
    instance = tmp_path / "instance"
    (instance / "keys").mkdir(parents=True, mode=0o700)
    (instance / "keys" / "passphrase").write_bytes(b"the old generated passphrase")
    assert resolve_passphrase({}, instance, production=False) == b"the old generated passphrase"
    assert not (instance / "keys" / "passphrase").exists()
    assert (instance / "key_passphrase").read_bytes() == b"the old generated passphrase"
    assert "moved out of the keys folder" in caplog.text
    assert resolve_passphrase({}, instance, production=False) == b"the old generated passphrase"
