from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from ocop.keys import keyfile
from ocop.keys.errors import KeyFileCorrupt, KeyNotFound, WrongPassphrase
from ocop.keys.keystore import Keystore, write_atomically
from ocop.keys.signer import Ed25519Signer

PASSPHRASE = b"correct horse battery staple"

# STAMP-FORMAT.md, "Test vector".
SEED = bytes.fromhex("f2d4151e183e3edae191a3082ac65412ec2810a98d46976f98e07104ffd5b2f0")
KID = "k2dSZ64VPYTd6Ht7LTorw_MKjmKgaY4hkQFF4-im6v0"
SIGNED = bytes.fromhex("0193675267ae153d84000004d200000029")
SIGNATURE = bytes.fromhex(
    "165bf3f52d540c4e81fdb01a45b12b0248050cae9efdbe18cd096b2d7644050217a6a4dea90b58596239f15286200a23d8c9012d3b32ae69a059cea02c1b4302"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _seed(signer) -> bytes:
    return signer._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "keys"


@pytest.fixture
def keystore(directory: Path) -> Keystore:
    return Keystore(directory, PASSPHRASE)


def _other_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_generated_keys_are_stored_encrypted_and_private(keystore, directory):
    signer = keystore.generate()
    path = directory / f"{signer.kid}.key"
    data = path.read_bytes()
    body = json.loads(data)
    assert body["format"] == "ocop-issuer-key/2"
    assert body["kid"] == signer.kid
    assert body["kdf"]["alg"] == "scrypt" and body["aead"]["alg"] == "AES-256-GCM"
    assert _seed(signer) not in data
    assert base64.urlsafe_b64encode(_seed(signer)).rstrip(b"=") not in data
    assert _mode(path) == 0o600
    assert _mode(directory) == 0o700
    assert _other_files(directory) == [path.name]  # no temp file left behind


def test_new_files_use_a_memory_hard_cost_by_default():
    cost = keyfile.ScryptCost()
    assert 128 * cost.n * cost.r >= 64 * 2**20  # at least 64 MiB a guess


def test_round_trip_in_a_fresh_process(keystore, directory):
    signer = keystore.generate()
    loaded = Keystore(directory, PASSPHRASE).load(signer.kid)
    assert loaded.kid == signer.kid
    assert _seed(loaded) == _seed(signer)
    signer.public_key.verify(loaded.sign(b"message"), b"message")


def test_the_test_vector_key_round_trips(directory):
    directory.mkdir(mode=0o700)
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(PASSPHRASE))
    (directory / f"{KID}.pem").write_bytes(pem)
    signer = Keystore(directory, PASSPHRASE).load(KID)
    assert signer.kid == KID
    assert signer.sign(b"OCOP-STAMP-V1" + SIGNED) == SIGNATURE


def test_an_earlier_versions_file_is_rewritten_by_upgrade(directory):
    directory.mkdir(mode=0o700)
    _legacy(directory, SEED)
    keystore = Keystore(directory, PASSPHRASE)
    assert keystore.legacy_kids() == [KID]
    assert keystore.upgrade() == [KID]
    assert _other_files(directory) == [f"{KID}.key"]
    assert keystore.legacy_kids() == [] and keystore.upgrade() == []
    signer = Keystore(directory, PASSPHRASE).load(KID)
    assert signer.sign(b"OCOP-STAMP-V1" + SIGNED) == SIGNATURE


def test_upgrade_with_a_wrong_passphrase_changes_nothing(directory):
    directory.mkdir(mode=0o700)
    _legacy(directory, SEED)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with pytest.raises(WrongPassphrase):
        Keystore(directory, b"not the passphrase").upgrade()
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def _legacy(directory: Path, seed: bytes) -> Path:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(PASSPHRASE))
    path = directory / f"{Ed25519Signer(key).kid}.pem"
    path.write_bytes(pem)
    return path


def test_loaded_keys_are_kept_in_memory(keystore, directory):
    kid = keystore.generate().kid
    fresh = Keystore(directory, PASSPHRASE)
    first = fresh.load(kid)
    (directory / f"{kid}.key").unlink()
    assert fresh.load(kid) is first


def test_repr_shows_neither_passphrase_nor_key(keystore):
    signer = keystore.generate()
    assert PASSPHRASE.decode() not in repr(keystore)
    assert str(keystore.directory) in repr(keystore)
    assert repr(signer) == f"Ed25519Signer(kid={signer.kid!r})"


def test_a_wrong_passphrase_is_refused_with_a_clear_message(keystore, directory):
    kid = keystore.generate().kid
    with pytest.raises(WrongPassphrase, match="the key passphrase is wrong") as err:
        Keystore(directory, b"not the passphrase").load(kid)
    assert "OCOP_KEY_PASSPHRASE" in str(err.value)
    assert "not the passphrase" not in str(err.value)


def test_a_wrong_passphrase_writes_no_new_key(keystore, directory):
    keystore.generate()
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with pytest.raises(WrongPassphrase):
        Keystore(directory, b"not the passphrase").generate()
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_the_first_key_needs_no_passphrase_check(directory):
    assert Keystore(directory, b"anything").generate().kid


def test_a_truncated_key_file_is_corrupt(keystore, directory):
    kid = keystore.generate().kid
    path = directory / f"{kid}.key"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(KeyFileCorrupt, match="is corrupt") as err:
        Keystore(directory, PASSPHRASE).load(kid)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("member", ["ciphertext", "salt", "nonce", "n"])
def test_damage_inside_an_intact_looking_file_is_damage_not_a_wrong_passphrase(
    keystore, directory, member
):
    kid = keystore.generate().kid
    path = directory / f"{kid}.key"
    body = json.loads(path.read_bytes())
    where = body if member == "ciphertext" else body["aead" if member == "nonce" else "kdf"]
    value = where[member]
    if isinstance(value, int):
        where[member] = value * 2
    else:  # one character changed, still valid base64url
        where[member] = value[:5] + ("A" if value[5] != "A" else "B") + value[6:]
    path.write_text(json.dumps(body, indent=1))
    with pytest.raises(KeyFileCorrupt, match="damaged"):
        Keystore(directory, PASSPHRASE).load(kid)


def test_every_flipped_byte_is_reported_as_damage(keystore, directory):
    kid = keystore.generate().kid
    path = directory / f"{kid}.key"
    original = path.read_bytes()
    for position in range(0, len(original), 7):
        damaged = bytearray(original)
        damaged[position] ^= 0x01
        path.write_bytes(bytes(damaged))
        with pytest.raises(KeyFileCorrupt):
            Keystore(directory, PASSPHRASE).load(kid)


@pytest.mark.parametrize("content", [b"", b"garbage", b"{}", b"[1]", b'{"format": 2}'])
def test_a_damaged_key_file_is_corrupt(keystore, directory, content):
    kid = keystore.generate().kid
    (directory / f"{kid}.key").write_bytes(content)
    with pytest.raises(KeyFileCorrupt, match=kid):
        Keystore(directory, PASSPHRASE).load(kid)


def test_a_file_cannot_be_given_another_kid(keystore, directory):
    first, second = keystore.generate(), keystore.generate()
    (directory / f"{second.kid}.key").replace(directory / f"{first.kid}.key")
    with pytest.raises(KeyFileCorrupt, match=f"names the key {second.kid}"):
        Keystore(directory, PASSPHRASE).load(first.kid)


def test_a_kid_rewritten_with_a_fresh_checksum_still_fails_the_tag(keystore, directory):
    first, second = keystore.generate(), keystore.generate()
    body = json.loads((directory / f"{second.kid}.key").read_bytes())
    body["kid"] = first.kid  # a forger recomputes the plain checksum too
    body.pop("sha256")
    body["sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    (directory / f"{first.kid}.key").write_text(json.dumps(body))
    with pytest.raises((WrongPassphrase, KeyFileCorrupt)):
        Keystore(directory, PASSPHRASE).load(first.kid)


def test_a_planted_file_with_a_huge_cost_is_refused_at_once(keystore, directory):
    kid = keystore.generate().kid
    path = directory / f"{kid}.key"
    body = json.loads(path.read_bytes())
    body["kdf"]["n"] = 2**30
    body.pop("sha256")
    body["sha256"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    path.write_text(json.dumps(body))
    with pytest.raises(KeyFileCorrupt, match="out of range"):
        Keystore(directory, PASSPHRASE).load(kid)


# --- files of the earlier format (encrypted PKCS#8) ---


def test_a_legacy_file_missing_its_last_lines_is_corrupt(directory):
    directory.mkdir(mode=0o700)
    path = _legacy(directory, SEED)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[1] + lines[-1])
    with pytest.raises(KeyFileCorrupt, match="truncated or damaged"):
        Keystore(directory, PASSPHRASE).load(KID)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n",
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    ],
)
def test_a_damaged_legacy_file_is_corrupt(directory, content):
    directory.mkdir(mode=0o700)
    _legacy(directory, SEED).write_bytes(content)
    with pytest.raises(KeyFileCorrupt, match=KID):
        Keystore(directory, PASSPHRASE).load(KID)


def test_an_unencrypted_legacy_file_is_refused(directory):
    directory.mkdir(mode=0o700)
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    _legacy(directory, SEED).write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    with pytest.raises(KeyFileCorrupt, match="not an encrypted PKCS#8"):
        Keystore(directory, PASSPHRASE).load(KID)


def test_a_corrupt_file_does_not_block_the_passphrase_check(keystore, directory):
    damaged = keystore.generate().kid
    keystore.generate()
    (directory / f"{damaged}.key").write_bytes(b"garbage")
    with pytest.raises(WrongPassphrase):
        Keystore(directory, b"not the passphrase").check_passphrase()
    Keystore(directory, PASSPHRASE).check_passphrase()


def test_a_missing_key(keystore):
    with pytest.raises(KeyNotFound, match="no private key for"):
        keystore.load(KID)


@pytest.mark.parametrize("kid", ["../../etc/passwd", "", "short", KID + "x", KID[:-1] + "/"])
def test_a_kid_cannot_name_another_file(keystore, kid):
    with pytest.raises(KeyNotFound, match="is not a key id"):
        keystore.load(kid)


def test_an_empty_passphrase_is_a_programming_error(directory):
    with pytest.raises(ValueError, match="non-empty"):
        Keystore(directory, b"")


def test_atomic_write_replaces_the_whole_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    write_atomically(path, b"new", mode=0o644)
    assert path.read_bytes() == b"new"
    assert _mode(path) == 0o644
    assert _other_files(tmp_path) == ["out.json"]
