"""Where the keystore passphrase comes from.

Production takes it from the environment or from a file (a container secret)
and refuses to run without one. A laptop with neither gets one generated in
the instance folder, so ``ocop init`` works at once; it is warned about, and
the passphrase itself is never printed or logged.

The generated passphrase lives apart from the keys: ``instance/key_passphrase``,
not in ``instance/keys/``, so a copy of the keys folder (a backup, a key handed
to another machine) is of no use without it. A copy of the whole instance
folder holds both, which is why production never generates one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ocop.trace.errors import Phrase

from .errors import FileAccessError, PassphraseUnavailable, WeakPassphrase
from .keystore import Keystore, ensure_private_dir

log = logging.getLogger(__name__)

# Names of where the passphrase is found, not passphrases.
PASSPHRASE_VAR = "OCOP_KEY_PASSPHRASE"  # noqa: S105
PASSPHRASE_FILE_VAR = "OCOP_KEY_PASSPHRASE_FILE"  # noqa: S105
DEV_PASSPHRASE_FILE = "key_passphrase"  # noqa: S105  (in the instance folder)
# Where versions before 2026-12 generated it: inside the keys folder.
_OLD_DEV_PASSPHRASE_FILE = Path("keys") / "passphrase"
# Key files are scrypt-protected now, but files of the earlier format (PBKDF2 at
# 2,048 rounds) may still be there until a rotation: the passphrase itself must
# carry strength too.
MIN_PRODUCTION_LENGTH = 12


def resolve_passphrase(
    environ: Mapping[str, str], instance: Path, *, production: bool
) -> bytes:
    """The passphrase of the keystore of ``instance``; raises a ``KeysError`` when none."""
    value = environ.get(PASSPHRASE_VAR, "")
    file = environ.get(PASSPHRASE_FILE_VAR, "")
    if value and file:
        raise PassphraseUnavailable(
            "both %(value)s and %(file)s are set; set only one",
            value=PASSPHRASE_VAR,
            file=PASSPHRASE_FILE_VAR,
        )
    if value:
        passphrase = value.encode("utf-8")
    elif file:
        passphrase = _read_passphrase_file(Path(file), PASSPHRASE_FILE_VAR)
    elif production:
        raise PassphraseUnavailable(
            "set %(value)s (or %(file)s) to the key passphrase: "
            "production (OCOP_ENV=production) never generates one",
            value=PASSPHRASE_VAR,
            file=PASSPHRASE_FILE_VAR,
        )
    else:
        passphrase = _development_passphrase(Path(instance))
    if production and len(passphrase) < MIN_PRODUCTION_LENGTH:
        raise WeakPassphrase(
            "the key passphrase must be at least %(least)s characters in production",
            least=MIN_PRODUCTION_LENGTH,
        )
    return passphrase


def keystore_for(instance: Path, environ: Mapping[str, str], *, production: bool) -> Keystore:
    """The keystore of an instance folder: ``instance/keys`` with its passphrase."""
    passphrase = resolve_passphrase(environ, instance, production=production)
    return Keystore(Path(instance) / "keys", passphrase)


def _read_passphrase_file(path: Path, source: str | Phrase) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PassphraseUnavailable(
            "cannot read the key passphrase file %(path)s (%(source)s): %(problem)s",
            path=path,
            source=source,
            problem=error.strerror,
        ) from None
    # Editors and `echo` add a final newline; it is not part of the passphrase.
    passphrase = data.removesuffix(b"\n").removesuffix(b"\r")
    if not passphrase:
        raise PassphraseUnavailable(
            "the key passphrase file %(path)s (%(source)s) is empty", path=path, source=source
        )
    return passphrase


def _development_passphrase(instance: Path) -> bytes:
    path = instance / DEV_PASSPHRASE_FILE
    _move_out_of_the_keys_folder(instance / _OLD_DEV_PASSPHRASE_FILE, path)
    if path.exists():
        return _read_passphrase_file(path, Phrase("development passphrase"))
    ensure_private_dir(path.parent)
    generated = secrets.token_urlsafe(32).encode("ascii")
    if not _publish_once(path, generated):
        # Another process generated it first: theirs encrypts the keys.
        return _read_passphrase_file(path, Phrase("development passphrase"))
    log.warning(
        "development key passphrase generated in %s; set %s in production",
        path,
        PASSPHRASE_VAR,
    )
    return generated


def _move_out_of_the_keys_folder(old: Path, new: Path) -> None:
    """An instance made by an earlier version keeps its passphrase beside the keys."""
    if not old.exists():
        return
    try:
        os.link(old, new)  # fails if ``new`` exists: never replace a passphrase
    except FileExistsError:
        pass
    except OSError as error:
        raise FileAccessError(
            "cannot move %(old)s to %(new)s: %(problem)s", old=old, new=new, problem=error.strerror
        ) from None
    if new.read_bytes() == old.read_bytes():
        old.unlink()
        log.warning("development key passphrase moved out of the keys folder to %s", new)


def _publish_once(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data`` unless it exists; False when it did.

    The content goes to a private temp file (O_EXCL) first and is then
    hard-linked into place, which fails when the name exists: a concurrent
    reader sees no file or the whole file, never an empty one.
    """
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".passphrase.", suffix=".tmp")
    except OSError as error:
        raise FileAccessError(
            "cannot write %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(temp, path)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        raise FileAccessError(
            "cannot write %(path)s: %(problem)s", path=path, problem=error.strerror
        ) from None
    finally:
        with contextlib.suppress(OSError):
            Path(temp).unlink()


ROOT_PASSPHRASE_VAR = "OCOP_ROOT_PASSPHRASE"  # noqa: S105
ROOT_PASSPHRASE_FILE_VAR = "OCOP_ROOT_PASSPHRASE_FILE"  # noqa: S105
ROOT_KEYS_VAR = "OCOP_ROOT_KEYS"


def root_keystore_for(instance: Path, environ: Mapping[str, str], *, production: bool) -> Keystore:
    """The root's keystore: ``OCOP_ROOT_KEYS`` (an offline disk) or ``instance/root``.

    Its passphrase is its own (``OCOP_ROOT_PASSPHRASE`` or ``..._FILE``); only a
    laptop falls back to the issuer keys' passphrase, so the demo needs no setup.
    """
    directory = Path(environ.get(ROOT_KEYS_VAR, "") or Path(instance) / "root")
    value = environ.get(ROOT_PASSPHRASE_VAR, "")
    file = environ.get(ROOT_PASSPHRASE_FILE_VAR, "")
    if value and file:
        raise PassphraseUnavailable(
            "both %(value)s and %(file)s are set; set only one",
            value=ROOT_PASSPHRASE_VAR,
            file=ROOT_PASSPHRASE_FILE_VAR,
        )
    if value:
        passphrase = value.encode("utf-8")
    elif file:
        passphrase = _read_passphrase_file(Path(file), ROOT_PASSPHRASE_FILE_VAR)
    elif production:
        raise PassphraseUnavailable(
            "set %(value)s (or %(file)s) to the root key's passphrase: production "
            "never shares the issuer keys' passphrase with the root",
            value=ROOT_PASSPHRASE_VAR,
            file=ROOT_PASSPHRASE_FILE_VAR,
        )
    else:
        passphrase = resolve_passphrase(environ, instance, production=False)
    if production and len(passphrase) < MIN_PRODUCTION_LENGTH:
        raise WeakPassphrase(
            "the root key passphrase must be at least %(least)s characters in production",
            least=MIN_PRODUCTION_LENGTH,
        )
    return Keystore(directory, passphrase)
