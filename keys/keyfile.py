"""The issuer key file, version 2: scrypt and AES-256-GCM, the kid bound in.

Encrypted PKCS#8 (version 1, ``{kid}.pem``) derives its key with PBKDF2 at
2,048 iterations, cheap to guess at on a GPU, and carries no integrity check,
so a damaged file reads as a wrong passphrase. A version 2 file
(``{kid}.key``) is one JSON object:

``format``
    ``"ocop-issuer-key/2"``; a later format gets another name.
``kid``
    the key's RFC 7638 thumbprint, also the file's name.
``kdf``
    ``{"alg": "scrypt", "n", "r", "p", "salt"}``: memory-hard (128 MiB and
    about 0.4 s a guess at the default cost), parameters kept with the file so
    that the cost can rise without breaking older files.
``aead``
    ``{"alg": "AES-256-GCM", "nonce"}``.
``ciphertext``
    the 32-byte Ed25519 seed and GCM's tag. The associated data is every
    member above in canonical JSON, so a file cannot be given another kid,
    cheaper parameters or another salt without failing to open.
``sha256``
    a plain checksum of the members above. It proves nothing against an
    attacker (the tag does that); it tells damage (a flipped bit, a cut file)
    from a wrong passphrase, which an AEAD alone cannot.

Binary values are unpadded base64url.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import KeyFileCorrupt, WrongPassphrase

FORMAT = "ocop-issuer-key/2"
SUFFIX = ".key"
LEGACY_SUFFIX = ".pem"
SEED_BYTES = 32
_SALT_BYTES = 16
_NONCE_BYTES = 12
_HEADER = ("format", "kid", "kdf", "aead")
PASSPHRASE_HINT = "check OCOP_KEY_PASSPHRASE or OCOP_KEY_PASSPHRASE_FILE"  # noqa: S105


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's work factors: memory is 128 * n * r bytes."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def check(self, path: Path) -> None:
        # A file names its own cost; refuse one that would take the process's
        # memory or minutes (a damaged or planted file must fail fast).
        if not (
            2 <= self.n <= 2**20
            and self.n & (self.n - 1) == 0
            and 1 <= self.r <= 32
            and 1 <= self.p <= 16
            and 128 * self.n * self.r <= 1 << 30
        ):
            raise KeyFileCorrupt(path, "its key derivation parameters are out of range")


# What new files are written with. Tests lower it (the format stays the same).
WRITE_COST = ScryptCost()


def seal(seed: bytes, kid: str, passphrase: bytes, cost: ScryptCost | None = None) -> bytes:
    """A version 2 key file holding ``seed``, readable only with ``passphrase``."""
    if len(seed) != SEED_BYTES:
        raise ValueError("an Ed25519 seed is 32 bytes")
    cost = cost or WRITE_COST
    salt, nonce = os.urandom(_SALT_BYTES), os.urandom(_NONCE_BYTES)
    header: dict[str, Any] = {
        "format": FORMAT,
        "kid": kid,
        "kdf": {"alg": "scrypt", "n": cost.n, "r": cost.r, "p": cost.p, "salt": _b64(salt)},
        "aead": {"alg": "AES-256-GCM", "nonce": _b64(nonce)},
    }
    key = _derive(passphrase, salt, cost)
    ciphertext = AESGCM(key).encrypt(nonce, seed, _canonical(header))
    body = {**header, "ciphertext": _b64(ciphertext)}
    body["sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    return json.dumps(body, indent=1).encode() + b"\n"


def open_sealed(data: bytes, kid: str, passphrase: bytes, path: Path) -> bytes:
    """The seed in a version 2 key file; :class:`KeyFileCorrupt` for a damaged file,
    :class:`WrongPassphrase` for a passphrase that does not open an intact one."""
    body = _parse(data, path)
    header = {name: body[name] for name in _HEADER}
    if body["format"] != FORMAT:
        raise KeyFileCorrupt(
            path,
            "its format is %(found)r, not %(expected)s",
            found=str(body["format"])[:40],
            expected=FORMAT,
        )
    if body["kid"] != kid:
        raise KeyFileCorrupt(
            path, "it names the key %(found)s, not %(kid)s", found=str(body["kid"])[:60], kid=kid
        )
    kdf, aead = body["kdf"], body["aead"]
    if not isinstance(kdf, dict) or kdf.get("alg") != "scrypt":
        raise KeyFileCorrupt(path, "its key derivation is not scrypt")
    if not isinstance(aead, dict) or aead.get("alg") != "AES-256-GCM":
        raise KeyFileCorrupt(path, "its cipher is not AES-256-GCM")
    try:
        cost = ScryptCost(int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        salt, nonce = _unb64(kdf["salt"]), _unb64(aead["nonce"])
        ciphertext = _unb64(body["ciphertext"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise KeyFileCorrupt(path, "its parameters are damaged") from None
    cost.check(path)
    if len(salt) < _SALT_BYTES or len(nonce) != _NONCE_BYTES:
        raise KeyFileCorrupt(path, "its salt or nonce has the wrong length")
    try:
        seed = AESGCM(_derive(passphrase, salt, cost)).decrypt(
            nonce, ciphertext, _canonical(header)
        )
    except InvalidTag:
        # The checksum matched, so the file is as it was written: the passphrase
        # is what differs.
        raise WrongPassphrase(
            "the key passphrase is wrong: it does not decrypt %(path)s; "
            "check OCOP_KEY_PASSPHRASE or OCOP_KEY_PASSPHRASE_FILE",
            path=path,
        ) from None
    if len(seed) != SEED_BYTES:
        raise KeyFileCorrupt(path, "it does not hold an Ed25519 key")
    return seed


def _parse(data: bytes, path: Path) -> dict[str, Any]:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyFileCorrupt(path, "it is not a key file (damaged or truncated JSON)") from None
    if not isinstance(body, dict) or set(body) != {*_HEADER, "ciphertext", "sha256"}:
        raise KeyFileCorrupt(path, "its members are not those of a key file")
    checksum = body.pop("sha256")
    expected = hashlib.sha256(_canonical(body)).hexdigest()
    if not isinstance(checksum, str) or not hmac.compare_digest(
        checksum.encode("utf-8", "replace"), expected.encode()
    ):
        raise KeyFileCorrupt(path, "its content is damaged (the checksum does not match)")
    return body


def _derive(passphrase: bytes, salt: bytes, cost: ScryptCost) -> bytes:
    return Scrypt(salt=salt, length=32, n=cost.n, r=cost.r, p=cost.p).derive(passphrase)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
