"""The trust list: which issuer keys a verifier believes, as a JWK Set.

Served at ``/.well-known/ocop-trust.json`` and read by offline verifiers, so the
parser is strict: a trust list that exists as a :class:`TrustList` has been
checked member by member, and every refusal names the member at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocop.trace.errors import Phrase

from .errors import InvalidJWK, InvalidTrustList
from .jwk import kid_prefix, public_jwk, public_key_from_jwk, thumbprint

# RFC 3339 section 5.6; datetime.fromisoformat alone also takes ISO 8601
# forms (basic format, no offset) that other verifiers would refuse.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


# The trust data of every key, also as one member of the JWK Set under a
# collision-resistant name (RFC 7515 section 2: a UUID URN, RFC 9562). Unlike
# the per-key members (``org``, ``status``, ...) that version 1 put beside
# each JWK, a set-level member survives JOSE libraries that drop unknown JWK
# members on export (jwcrypto does). Both are written, the same values; a
# reader takes either, and refuses a list where they disagree.
TRUST_MEMBER = "urn:uuid:c49a51e2-c517-4668-9a82-7dd1541cddfb"
TRUST_VERSION = 2
_META_MEMBERS = ("org", "status", "not_before", "not_after", "revoked_at")


class KeyStatus(StrEnum):
    ACTIVE = "active"
    # Signs no new batches; the stamps it signed stay good.
    RETIRED = "retired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One issuer key a verifier trusts, with whose it is and its state.

    The constructor checks every invariant (``kid`` is the key's thumbprint,
    times are timezone-aware, ``revoked_at`` only on a revoked key) and
    raises :class:`InvalidTrustList` naming the member.
    """

    kid: str
    # Not hashed: the key objects are unhashable, and kid already identifies them.
    public_key: Ed25519PublicKey = field(hash=False)
    org_id: str
    org_name: str
    status: KeyStatus
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise TypeError("public_key must be an Ed25519PublicKey")
        if self.kid != thumbprint(self.public_key):
            raise InvalidTrustList("kid", "does not match the key's thumbprint")
        for where, value in (("org.id", self.org_id), ("org.name", self.org_name)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidTrustList(where, "must be a non-empty string")
        if not isinstance(self.status, KeyStatus):
            raise InvalidTrustList("status", _one_of(KeyStatus))
        for name in ("not_before", "not_after", "revoked_at"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise InvalidTrustList(name, "must be a timezone-aware time or null")
        if self.not_before and self.not_after and self.not_after < self.not_before:
            raise InvalidTrustList("not_after", "is before not_before")
        if self.revoked_at is not None and self.status is not KeyStatus.REVOKED:
            raise InvalidTrustList(
                "revoked_at", "is set on a key whose status is %(status)s", status=self.status
            )

    @property
    def prefix(self) -> bytes:
        """The 8 bytes of the kid that stamps signed with this key carry."""
        return kid_prefix(self.kid)

    def to_jwk(self) -> dict[str, Any]:
        return {
            **public_jwk(self.public_key),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
            **self.trust_members(),
        }

    def trust_members(self) -> dict[str, Any]:
        """Whose the key is and its state: the members a JWK has no names for."""
        return {
            "org": {"id": self.org_id, "name": self.org_name},
            "status": self.status.value,
            "not_before": _format_time(self.not_before),
            "not_after": _format_time(self.not_after),
            "revoked_at": _format_time(self.revoked_at),
        }


@dataclass(frozen=True, slots=True, init=False)
class TrustList:
    """The keys a verifier trusts, indexed by the kid prefix stamps carry."""

    keys: tuple[TrustedKey, ...]
    _index: Mapping[bytes, tuple[TrustedKey, ...]] = field(repr=False, compare=False)

    def __init__(self, keys: Iterable[TrustedKey] = ()) -> None:
        keys = tuple(keys)
        seen: dict[str, int] = {}
        index: dict[bytes, tuple[TrustedKey, ...]] = {}
        for position, key in enumerate(keys):
            if key.kid in seen:
                raise InvalidTrustList(
                    f"keys[{position}].kid", "repeats keys[%(first)s]", first=seen[key.kid]
                )
            seen[key.kid] = position
            index[key.prefix] = (*index.get(key.prefix, ()), key)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "_index", MappingProxyType(index))

    @classmethod
    def from_json(cls, data: str | bytes) -> TrustList:
        """Parse a JWK Set as STAMP-FORMAT.md describes; raises :class:`InvalidTrustList`."""
        document = _load_json(data)
        if not isinstance(document, dict):
            raise InvalidTrustList("document", 'must be a JSON object with a "keys" array')
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise InvalidTrustList("keys", "must be an array")
        trust = _trust_member(document.get(TRUST_MEMBER))
        kids = (entry.get("kid") for entry in entries if isinstance(entry, dict))
        listed = {kid for kid in kids if isinstance(kid, str)}
        for kid in trust or {}:
            if kid not in listed:
                raise InvalidTrustList(
                    f"{TRUST_MEMBER}.keys", "names %(kid)r, which no key has", kid=kid
                )
        return cls(
            _parse_entry(f"keys[{i}]", _with_trust(f"keys[{i}]", entry, trust))
            for i, entry in enumerate(entries)
        )

    def to_json(self) -> str:
        document = {
            "keys": [key.to_jwk() for key in self.keys],
            TRUST_MEMBER: {
                "version": TRUST_VERSION,
                "keys": {key.kid: key.trust_members() for key in self.keys},
            },
        }
        return json.dumps(document, indent=2, sort_keys=True)

    def candidates(self, prefix: bytes) -> tuple[TrustedKey, ...]:
        """Every key whose kid starts with ``prefix``: 8 bytes can be shared, so maybe several."""
        return self._index.get(bytes(prefix), ())


def _load_json(data: object) -> Any:
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidTrustList("document", "is not UTF-8 text") from None
    if not isinstance(data, str):
        raise InvalidTrustList("document", "must be JSON text")
    try:
        return json.loads(
            data,
            object_pairs_hook=_unique_members,
            parse_constant=_no_constant,
            parse_int=_small_int,
        )
    except json.JSONDecodeError as error:
        raise InvalidTrustList(
            "document",
            "is not JSON (%(problem)s at line %(line)s column %(column)s)",
            problem=error.msg,
            line=error.lineno,
            column=error.colno,
        ) from None
    except ValueError as error:  # e.g. a string too long for the decoder
        raise InvalidTrustList("document", "%(problem)s", problem=str(error)) from None
    except RecursionError:
        raise InvalidTrustList("document", "is nested too deeply") from None


# The decoder's hooks refuse with the trust list's own error, which the decoder
# passes on untouched (it is no ValueError).
def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two same-named members wins; refuse both.
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise InvalidTrustList("document", "repeats the member %(name)r", name=name)
        members[name] = value
    return members


def _no_constant(name: str) -> None:
    raise InvalidTrustList("document", "%(name)s is not JSON", name=name)


def _small_int(digits: str) -> int:
    # Python refuses to read integers past 4,300 digits with a message about
    # sys.set_int_max_str_digits; no member of ours is a number anyway.
    if len(digits) > 30:
        raise InvalidTrustList("document", "holds a number far too long")
    return int(digits)


def _trust_member(value: Any) -> dict[str, Any] | None:
    """The set-level trust data by kid, or None for a version 1 list without it."""
    if value is None:
        return None
    where = TRUST_MEMBER
    if not isinstance(value, dict) or not isinstance(value.get("keys"), dict):
        raise InvalidTrustList(where, 'must be an object with a "keys" object')
    if value.get("version") != TRUST_VERSION:
        raise InvalidTrustList(f"{where}.version", "must be %(version)s", version=TRUST_VERSION)
    return value["keys"]


def _with_trust(where: str, entry: Any, trust: dict[str, Any] | None) -> Any:
    """``entry`` with its trust members, taken from the set-level member when there is one.

    Two places for one fact invite two readers to see different things, so
    where a key has both, they must agree member by member.
    """
    if trust is None or not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return entry
    members = trust.get(entry["kid"])
    if members is None:
        return entry
    if not isinstance(members, dict):
        raise InvalidTrustList(f"{TRUST_MEMBER}.keys", "must map each kid to an object")
    merged = dict(entry)
    for name in _META_MEMBERS:
        if name in entry and name in members and entry[name] != members[name]:
            raise InvalidTrustList(
                f"{where}.{name}", "disagrees with %(member)s", member=TRUST_MEMBER
            )
        if name in members:
            merged[name] = members[name]
    return merged


def _parse_entry(where: str, entry: Any) -> TrustedKey:
    if not isinstance(entry, dict):
        raise InvalidTrustList(where, "must be a JSON object")
    org = entry.get("org")
    if not isinstance(org, dict):
        raise InvalidTrustList(f"{where}.org", 'must be an object with "id" and "name"')
    # A missing member reads as "": TrustedKey refuses it as it would null.
    try:
        return TrustedKey(
            kid=entry.get("kid", ""),
            public_key=public_key_from_jwk(entry),
            org_id=org.get("id", ""),
            org_name=org.get("name", ""),
            status=_parse_status(entry.get("status")),
            not_before=_parse_time("not_before", entry.get("not_before")),
            not_after=_parse_time("not_after", entry.get("not_after")),
            revoked_at=_parse_time("revoked_at", entry.get("revoked_at")),
        )
    except InvalidJWK as error:
        raise InvalidTrustList(f"{where}.{error.member}", error.reason) from None
    except InvalidTrustList as error:
        raise InvalidTrustList(f"{where}.{error.where}", error.reason) from None


def _parse_status(value: Any) -> KeyStatus:
    try:
        return KeyStatus(value)
    except ValueError:
        raise InvalidTrustList("status", _one_of(KeyStatus)) from None


def _parse_time(name: str, value: Any) -> datetime | None:
    # A missing time reads as null: both say "no limit".
    if value is None:
        return None
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        try:
            return datetime.fromisoformat(value.upper())
        except ValueError:
            pass
    raise InvalidTrustList(name, "must be an RFC 3339 date-time or null")


def _format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _one_of(enum: type[StrEnum]) -> Phrase:
    return Phrase("must be one of %(choices)s", choices=", ".join(m.value for m in enum))
