"""The file keystore: issuer private keys, encrypted, one file per key.

A key leaves this module only as an encrypted key file on disk
(:mod:`.keyfile`: scrypt and AES-256-GCM, ``{kid}.key``) or as an
:class:`Ed25519Signer` in memory, the one way the rest of the service uses a
key (:class:`~.signer.Signer`, which an HSM or a KMS can implement instead).
Files written by earlier versions (encrypted PKCS#8, ``{kid}.pem``) still open,
and :meth:`Keystore.upgrade` rewrites them in the current format (key rotation
calls it). Files are written atomically, so a crash or a full disk leaves the
old file or the new one, never half of one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import tempfile
import threading
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import keyfile
from .errors import FileAccessError, KeyFileCorrupt, KeyNotFound, WrongPassphrase
from .keyfile import LEGACY_SUFFIX, SUFFIX
from .signer import Ed25519Signer

_KID = re.compile(r"[A-Za-z0-9_-]{43}")
_PEM_BEGIN = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_PEM_END = b"-----END ENCRYPTED PRIVATE KEY-----"


class Keystore:
    """Encrypted Ed25519 private keys in ``directory``, named ``{kid}.key``.

    Loaded keys are kept for the life of the process: decrypting runs the
    passphrase's key derivation, which is costly by design, and a process
    signs many batches. Nothing here writes a private key unencrypted.
    """

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        if not passphrase:
            raise ValueError("a keystore needs a non-empty passphrase")
        self.directory = Path(directory)
        self._passphrase = bytes(passphrase)
        self._signers: dict[str, Ed25519Signer] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Keystore({str(self.directory)!r})"

    def beside(self, directory: Path) -> Keystore:
        """A keystore in another folder under the same passphrase (the log key's)."""
        return Keystore(directory, self._passphrase)

    def path_for(self, kid: str) -> Path:
        # The kid comes from the database or the command line; never let it
        # name a file outside the keystore.
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise KeyNotFound("%(kid)r is not a key id (43 base64url characters)", kid=kid)
        return self.directory / f"{kid}{SUFFIX}"

    def legacy_path_for(self, kid: str) -> Path:
        """Where an earlier version kept ``kid``: encrypted PKCS#8."""
        return self.path_for(kid).with_suffix(LEGACY_SUFFIX)

    def kids(self) -> list[str]:
        """The kids of every key file present, in either format, sorted."""
        if not self.directory.is_dir():
            return []
        found = {
            p.stem
            for suffix in (SUFFIX, LEGACY_SUFFIX)
            for p in self.directory.glob(f"*{suffix}")
            if _KID.fullmatch(p.stem)
        }
        return sorted(found)

    def legacy_kids(self) -> list[str]:
        """The kids still kept only in the earlier format."""
        return [kid for kid in self.kids() if not self.path_for(kid).exists()]

    def generate(self) -> Ed25519Signer:
        """A new key, written encrypted before anyone can use it."""
        self.check_passphrase()
        key = Ed25519PrivateKey.generate()
        signer = Ed25519Signer(key)
        self._write(signer.kid, key)
        with self._lock:
            self._signers[signer.kid] = signer
        return signer

    def upgrade(self) -> list[str]:
        """Rewrite every key still in the earlier format; the kids rewritten.

        The new file is written (and synced) before the old one goes, so a
        crash leaves one of the two, and both open with the same passphrase.
        """
        upgraded = []
        for kid in self.legacy_kids():
            key = self._open_legacy(kid)
            self._write(kid, key)
            try:
                self.legacy_path_for(kid).unlink()
            except OSError as error:
                raise FileAccessError(
                    "cannot remove %(path)s: %(problem)s",
                    path=self.legacy_path_for(kid),
                    problem=error.strerror,
                ) from None
            upgraded.append(kid)
        return upgraded

    def _write(self, kid: str, key: Ed25519PrivateKey) -> None:
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        data = keyfile.seal(seed, kid, self._passphrase)
        ensure_private_dir(self.directory)
        write_atomically(self.path_for(kid), data, mode=0o600)

    def load(self, kid: str) -> Ed25519Signer:
        """The signer of ``kid``, decrypted once per process."""
        with self._lock:
            cached = self._signers.get(kid)
        if cached is not None:
            return cached
        signer = self._decrypt(kid)
        with self._lock:
            return self._signers.setdefault(kid, signer)

    def check_passphrase(self) -> None:
        """Raise :class:`WrongPassphrase` unless the passphrase opens the keys already here.

        Called before writing a new key: a mistyped passphrase must not leave
        a key that no other command can open.
        """
        for kid in self.kids():
            if kid in self._signers:
                return
            try:
                self.load(kid)
            except KeyFileCorrupt:
                continue  # one damaged file says nothing about the passphrase
            return

    def _decrypt(self, kid: str) -> Ed25519Signer:
        path = self.path_for(kid)
        if path.exists() or not self.legacy_path_for(kid).exists():
            seed = keyfile.open_sealed(_read(path, kid), kid, self._passphrase, path)
            key = Ed25519PrivateKey.from_private_bytes(seed)
        else:
            key = self._open_legacy(kid)
            path = self.legacy_path_for(kid)
        signer = Ed25519Signer(key)
        if signer.kid != kid:
            raise KeyFileCorrupt(
                path, "it holds the key %(found)s, not %(kid)s", found=signer.kid, kid=kid
            )
        return signer

    def _open_legacy(self, kid: str) -> Ed25519PrivateKey:
        path = self.legacy_path_for(kid)
        der = _encrypted_der(path, _read(path, kid))
        try:
            key = serialization.load_der_private_key(der, self._passphrase)
        except ValueError:
            # The structure was checked above, so what fails now is the
            # decryption itself. PKCS#8 encryption carries no MAC: damaged
            # ciphertext reads the same as a wrong passphrase (the reason for
            # the current format, which upgrade() moves such files to).
            raise WrongPassphrase(
                "the key passphrase is wrong: it does not decrypt %(path)s; "
                "check OCOP_KEY_PASSPHRASE or OCOP_KEY_PASSPHRASE_FILE",
                path=path,
            ) from None
        except (TypeError, UnsupportedAlgorithm) as error:
            raise KeyFileCorrupt(path, "%(problem)s", problem=str(error)) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileCorrupt(path, "it does not hold an Ed25519 key")
        return key


def _read(path: Path, kid: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyNotFound(
            "no private key for %(kid)s in the keystore %(folder)s", kid=kid, folder=path.parent
        ) from None
    except OSError as error:
        raise FileAccessError(
            "cannot read key file %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None


def _encrypted_der(path: Path, data: bytes) -> bytes:
    """The DER inside an encrypted PKCS#8 PEM, its framing and length checked.

    Checking the structure first is what tells a damaged file from a wrong
    passphrase: cryptography reports both as the same ``ValueError``.
    """
    text = data.strip()
    if not text.startswith(_PEM_BEGIN) or not text.endswith(_PEM_END):
        raise KeyFileCorrupt(path, "it is not an encrypted PKCS#8 PEM file (truncated?)")
    body = b"".join(text[len(_PEM_BEGIN) : -len(_PEM_END)].split())
    try:
        der = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise KeyFileCorrupt(path, "its base64 body is damaged") from None
    if _der_length(der) != len(der):
        raise KeyFileCorrupt(path, "its content is truncated or damaged")
    return der


def _der_length(der: bytes) -> int:
    """Total length an outer DER SEQUENCE claims, or -1 when it is not one."""
    if len(der) < 2 or der[0] != 0x30:
        return -1
    first = der[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(der) < 2 + count:
        return -1
    return 2 + count + int.from_bytes(der[2 : 2 + count], "big")


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` readable by its owner only, tightening it when it exists."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_mode & 0o077:
            directory.chmod(0o700)
    except OSError as error:
        raise FileAccessError(
            "cannot prepare folder %(folder)s: %(problem)s",
            folder=directory,
            problem=error.strerror,
        ) from None


def write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``data`` all at once: temp file in the same folder, fsync, rename."""
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise FileAccessError(
            "cannot write %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        Path(temp).replace(path)
    except OSError as error:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise FileAccessError(
            "cannot write %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temp).unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
