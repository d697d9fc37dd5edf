"""Configuration from ``OCOP_*`` environment variables, with laptop defaults."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocop.trace.errors import DomainError

from .errors import ConfigError
from .proxies import DEFAULT_TRUSTED, parse_networks

if TYPE_CHECKING:
    from ocop.keys.keystore import Keystore
    from ocop.stamps.copies import CopyRule

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_RATE_LIMIT = "300/minute"
# The Flask secret signs session cookies and keys device hashes: in production it
# must be a real random secret (``secrets.token_urlsafe(32)`` gives 43 characters).
MIN_SECRET_KEY = 32
# Codes, not requests: a 1,000-code bulk check costs a worker what 1,000 scans do.
DEFAULT_BULK_LIMIT = "1000/minute"
DEFAULT_BULK_TOKEN_LIMIT = "20000/minute"  # noqa: S105 (a budget, not a secret)


@dataclass(frozen=True, slots=True)
class Settings:
    instance: Path
    database_url: str
    base_url: str
    production: bool = False
    rate_limit: str | None = DEFAULT_RATE_LIMIT
    # Per process by default; several workers share counts through e.g. redis://.
    rate_limit_storage: str = "memory://"
    proxy_hops: int = 0
    # Peers whose X-Forwarded-For is believed (web/proxies.py).
    trusted_proxies: tuple[Any, ...] = field(
        default_factory=lambda: parse_networks(",".join(DEFAULT_TRUSTED))
    )
    bulk_limit: str | None = DEFAULT_BULK_LIMIT
    bulk_token_limit: str | None = DEFAULT_BULK_TOKEN_LIMIT
    # Wrong PINs that lock a stamp's claim for a day (stamps.scans.take_pin_attempt).
    pin_attempts: int = 10
    # PostgreSQL: wait for each scan's WAL flush (docs/scan-path.md).
    scan_sync_commit: bool = True
    max_batch: int = 1_000_000
    # Independent sightings (a new device on a new network) after which a stamp
    # is suspect; the variable keeps its first name, OCOP_DEVICE_THRESHOLD.
    device_threshold: int = 10
    # The task queue's broker (redis://, amqp://); None runs jobs in this process.
    queue_url: str | None = None
    queue_namespace: str = "ocop"
    job_chunk: int = 20_000
    job_lease: int = 60  # seconds
    # Root thumbprints the offline page pins (OCOP_TRUST_ROOT, comma-separated);
    # empty: the current root recorded by `ocop root init`.
    trust_roots: tuple[str, ...] = ()
    secret_key: str = field(default="", repr=False)
    pin_secret: str = field(default="", repr=False)
    # Product photos' files (ocop.workflows.photos); None: "photos" in the instance
    # folder. Every web process must see the same folder (a shared volume).
    photos_dir: Path | None = None

    # The kid of the transparency log's key in the instance's log-key/ folder;
    # empty: the one key there (made by `ocop init` or `ocop demo`, keys/loghead.py).
    log_key: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("OCOP_INSTANCE", "instance")).resolve()
        production = env.get("OCOP_ENV", "development").lower() == "production"
        database_url = env.get("OCOP_DATABASE_URL") or f"sqlite:///{instance / 'ocop.db'}"
        return cls(
            instance=instance,
            database_url=database_url,
            base_url=_base_url(env.get("OCOP_BASE_URL", DEFAULT_BASE_URL)),
            production=production,
            rate_limit=_rate_limit(env.get("OCOP_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
            rate_limit_storage=env.get("OCOP_RATE_LIMIT_STORAGE", "memory://"),
            proxy_hops=_whole(env, "OCOP_PROXY_HOPS", 0, minimum=0),
            trusted_proxies=_networks(env.get("OCOP_TRUSTED_PROXIES", ",".join(DEFAULT_TRUSTED))),
            bulk_limit=_rate_limit(env.get("OCOP_BULK_LIMIT", DEFAULT_BULK_LIMIT)),
            bulk_token_limit=_rate_limit(
                env.get("OCOP_BULK_TOKEN_LIMIT", DEFAULT_BULK_TOKEN_LIMIT)
            ),
            pin_attempts=_whole(env, "OCOP_PIN_ATTEMPTS", 10, minimum=1),
            scan_sync_commit=_switch(env, "OCOP_SCAN_SYNC_COMMIT", True),
            max_batch=_whole(env, "OCOP_MAX_BATCH", 1_000_000, minimum=1),
            device_threshold=_whole(env, "OCOP_DEVICE_THRESHOLD", 10, minimum=1),
            queue_url=_queue_url(env.get("OCOP_QUEUE_URL", "")),
            queue_namespace=env.get("OCOP_QUEUE_NAMESPACE", "").strip() or "ocop",
            job_chunk=_whole(env, "OCOP_JOB_CHUNK", 20_000, minimum=1),
            job_lease=_whole(env, "OCOP_JOB_LEASE", 60, minimum=2),
            trust_roots=_thumbprints(env.get("OCOP_TRUST_ROOT", "")),
            secret_key=env.get("OCOP_SECRET_KEY", ""),
            pin_secret=env.get("OCOP_PIN_SECRET", ""),
            photos_dir=_folder(env.get("OCOP_PHOTOS_DIR", "")),

            log_key=env.get("OCOP_LOG_KEY", "").strip(),
        )

    @property
    def photos(self) -> Path:
        """Where product photos' files are kept."""
        return self.photos_dir or self.instance / "photos"

    @property
    def copy_rule(self) -> CopyRule:
        from ocop.stamps.copies import CopyRule

        return CopyRule(sightings=self.device_threshold)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        for name in ("instance", "photos_dir"):
            if known.get(name) is not None:
                known[name] = Path(known[name])
        return replace(self, **known)

    def resolved_secret_key(self) -> str:
        """The Flask secret; on a laptop, generated once and kept in the instance folder."""
        if self.secret_key:
            if self.production and len(self.secret_key) < MIN_SECRET_KEY:
                raise ConfigError(
                    "OCOP_SECRET_KEY must be at least %(n)s characters in production "
                    "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')",
                    n=MIN_SECRET_KEY,
                )
            return self.secret_key
        if self.production:
            raise ConfigError("OCOP_SECRET_KEY must be set in production (OCOP_ENV=production)")
        return _dev_secret(self.instance / "secret_key", "OCOP_SECRET_KEY")

    def keystore(self) -> Keystore:
        """The instance's keystore, unlocked with the passphrase the environment gives."""
        from ocop.keys import keystore_for

        return keystore_for(self.instance, os.environ, production=self.production)

    def root_keystore(self) -> Keystore:
        """The root key's keystore (OCOP_ROOT_KEYS, OCOP_ROOT_PASSPHRASE): ceremonies only."""
        from ocop.keys.passphrase import root_keystore_for

        return root_keystore_for(self.instance, os.environ, production=self.production)

    def unready_secrets(self) -> str | None:
        """Why a secret the service needs while serving is missing, or None when none is.

        The PIN secret and the key passphrase are read only when a PIN is claimed
        or a batch signed; readiness asks for them at once, so a deployment that
        lacks one is never sent traffic that would fail on the first claim.
        """
        try:
            self.resolved_pin_secret()
            self.keystore()
        except DomainError as error:
            return str(error)
        return None

    def resolved_pin_secret(self) -> bytes:
        """The key that scratch-off PINs are derived with; never stored in the database.

        Changing it makes every printed PIN unclaimable, so on a laptop it is
        generated once and kept beside the keystore.
        """
        if self.pin_secret:
            value = self.pin_secret
        elif self.production:
            raise ConfigError("OCOP_PIN_SECRET must be set in production (OCOP_ENV=production)")
        else:
            value = _dev_secret(self.instance / "pin_secret", "OCOP_PIN_SECRET")
        if len(value) < 16:
            raise ConfigError("OCOP_PIN_SECRET must be at least 16 characters")
        return value.encode()


def served_base_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port``, as a browser on this
    machine reaches it (a wildcard address is reached through the loopback one)."""
    reach = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    return _base_url(f"http://{reach}:{port}")


def _base_url(value: str) -> str:
    from ocop.stamps.qr import fits_stamp_symbol
    from ocop.stamps.token import TOKEN_LENGTH

    base = value.strip().rstrip("/")
    if not base.lower().startswith(("http://", "https://")):
        raise ConfigError(
            "OCOP_BASE_URL must start with https:// or http://, not %(base)r", base=base
        )
    if not fits_stamp_symbol(f"{base.upper()}/V/{'A' * TOKEN_LENGTH}"):
        raise ConfigError(
            "OCOP_BASE_URL %(base)r is too long or has characters outside the QR "
            "alphanumeric set: a stamp must fit QR version 6 at error correction M, which "
            "leaves 21 characters for the base URL (e.g. https://tem.ocop.vn)",
            base=base,
        )
    return base


def _thumbprints(value: str) -> tuple[str, ...]:
    found = tuple(part.strip() for part in value.split(",") if part.strip())
    for part in found:
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}", part):
            raise ConfigError(
                "OCOP_TRUST_ROOT must be root thumbprints (43 characters each, "
                "comma-separated), not %(value)r",
                value=part,
            )
    return found


def _queue_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://", "amqp://", "amqps://")):
        raise ConfigError(
            "OCOP_QUEUE_URL must be a redis:// or amqp:// URL (or unset for in-process jobs)"
        )
    return value


def _rate_limit(value: str) -> str | None:
    from limits import parse_many

    value = value.strip()
    if value.lower() in {"off", "none", "0", ""}:
        return None
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(
            "%(value)r is not a rate limit; write e.g. 300/minute, or off", value=value
        ) from None
    return value


def _networks(value: str) -> tuple[Any, ...]:
    try:
        return parse_networks(value)
    except ValueError as error:
        raise ConfigError("OCOP_TRUSTED_PROXIES: %(error)s", error=str(error)) from None


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "on", "true", "yes"}:
        return True
    if raw in {"0", "off", "false", "no"}:
        return False
    raise ConfigError("%(name)s must be on or off, not %(raw)r", name=name, raw=raw)


def _whole(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            "%(name)s must be a whole number, not %(raw)r", name=name, raw=raw
        ) from None
    if value < minimum:
        raise ConfigError("%(name)s must be at least %(least)s", name=name, least=minimum)
    return value


def _dev_secret(path: Path, variable: str) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written whole under a private name, then linked into place: a process or
    # thread starting at the same moment sees no file or the complete one, never
    # an empty file, and the first link wins.
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, path)
    except FileExistsError:  # another process made it first: use theirs
        pass
    else:
        log.warning("development secret generated in %s; set %s in production", path, variable)
    finally:
        draft.unlink()
    return path.read_text().strip()


def _folder(value: str) -> Path | None:
    return Path(value.strip()).resolve() if value.strip() else None
