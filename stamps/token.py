"""The stamp token, version 1, exactly as STAMP-FORMAT.md lays it out.

81 bytes: version, kid prefix, batch, index, then an Ed25519 signature over a
domain separator and the first 17 bytes; written as 130 characters of
upper-case base32 so the whole URL stays in the QR alphanumeric alphabet.
"""

from __future__ import annotations

import functools
import re
import struct
from dataclasses import dataclass, field
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ocop.keys.jwk import KID_PREFIX_LENGTH, kid_prefix
from ocop.keys.signer import Signer

from .errors import MalformedToken

# A signature made for anything else (a trust list, another version) can never
# pass as a stamp, because nothing else signs bytes starting with this.
DOMAIN = b"OCOP-STAMP-V1"
VERSION = 1
TOKEN_LENGTH = 130
SIGNATURE_LENGTH = 64
_HEADER = struct.Struct(">B8sII")
_RAW_LENGTH = _HEADER.size + SIGNATURE_LENGTH
UINT32_MAX = 2**32 - 1
# ASCII only, spelled out: str.upper() and re.IGNORECASE both map a few
# non-ASCII letters (dotless ı, long ſ, Kelvin K) onto base32 letters.
_BASE32 = re.compile(r"[A-Za-z2-7]+")
_PATH_MARKERS = ("/V/", "/v/")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DIGITS = "0123456789abcdefghijklmnopqrstuv"
_TO_PYTHON_DIGITS = str.maketrans(_ALPHABET + _ALPHABET.lower(), _DIGITS + _DIGITS)


@dataclass(frozen=True, slots=True)
class StampToken:
    """A well-formed version 1 token; whether its signature holds is :meth:`verify`'s call."""

    kid_prefix: bytes
    batch: int
    index: int
    signature: bytes
    _header: bytes = field(init=False, repr=False, compare=False)
    # The canonical text, once known: a parsed token is its input upper-cased.
    _text: str | None = field(init=False, repr=False, compare=False, default=None)
    version: ClassVar[int] = VERSION

    def __post_init__(self) -> None:
        # Checked and packed once: issuing a batch builds a million of these.
        object.__setattr__(self, "_header", _header(self.kid_prefix, self.batch, self.index))
        if not isinstance(self.signature, bytes) or len(self.signature) != SIGNATURE_LENGTH:
            raise ValueError(f"a signature is {SIGNATURE_LENGTH} bytes")

    @classmethod
    def issue(cls, signer: Signer, batch: int, index: int) -> StampToken:
        """Stamp ``index`` (0-based) of ``batch``, signed by ``signer``.

        Deterministic: the same key, batch and index give the same token, which
        is why stamps need not be stored.
        """
        prefix = kid_prefix(signer.kid)
        return cls(prefix, batch, index, signer.sign(DOMAIN + _header(prefix, batch, index)))

    @classmethod
    def parse(cls, text: str) -> StampToken:
        """The token in a scanned QR text, a URL, or a typed code (STAMP-FORMAT.md step 1).

        Raises :class:`MalformedToken` for anything else, and nothing else for
        any ``str``. The host of a URL is not checked: the signature decides,
        and a copy on another site is a question for the online verifier.
        Percent-escapes are not decoded; a real token never needs them.
        """
        found = _find_token(text)
        raw = _decode(found)
        version, prefix, batch, index = _HEADER.unpack_from(raw)
        if version != VERSION:
            raise MalformedToken("unsupported version %(version)s", version=version)
        token = cls(prefix, batch, index, raw[_HEADER.size :])
        # _decode refused every spelling but the canonical one, in either case.
        object.__setattr__(token, "_text", found.upper())
        return token

    @property
    def signed_bytes(self) -> bytes:
        """Bytes 0 to 16: version, kid prefix, batch, index."""
        return self._header

    @property
    def signing_input(self) -> bytes:
        return DOMAIN + self.signed_bytes

    def to_bytes(self) -> bytes:
        return self.signed_bytes + self.signature

    def encode(self) -> str:
        """Upper-case base32 without padding: 130 characters."""
        if self._text is not None:
            return self._text
        return base32(self.to_bytes())

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """Whether ``public_key`` made this signature; never raises for a wrong one."""
        try:
            public_key.verify(self.signature, self.signing_input)
        except InvalidSignature:
            return False
        return True

    def qr_text(self, base_url: str) -> str:
        return qr_text(base_url, self)

    def __str__(self) -> str:
        return self.encode()


def qr_text(base_url: str, token: StampToken | str) -> str:
    """``{BASE}/V/{token}`` with BASE upper-cased; ``token`` may be already encoded.

    Upper case keeps the whole URL in the QR alphanumeric mode (5.5 bits a
    character instead of 8); scheme and host are case-insensitive anyway.
    """
    base = base_url.removesuffix("/").upper()
    text = token if isinstance(token, str) else token.encode()
    return f"{base}/V/{text}"


def base32(data: bytes) -> str:
    """RFC 4648 base32, upper case, without padding; twice as fast as ``base64``'s.

    The standard library encodes in pure Python, which made base32 cost half as
    much as the Ed25519 signature when issuing a batch. Here the bytes become
    one integer, read 15 bits (three characters) at a time from a table. Meant
    for short inputs like a token: each shift copies the whole integer.
    """
    if not data:
        return ""
    bits = len(data) * 8
    pad = -bits % 15
    number = int.from_bytes(data, "big") << pad
    table = _base32_triplets()
    shifts = range(bits + pad - 15, -1, -15)
    return "".join([table[(number >> shift) & 0x7FFF] for shift in shifts])[: -(-bits // 5)]


@functools.cache
def _base32_triplets() -> list[str]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return [
        alphabet[n >> 10] + alphabet[(n >> 5) & 31] + alphabet[n & 31] for n in range(1 << 15)
    ]


def _header(prefix: bytes, batch: int, index: int) -> bytes:
    if not isinstance(prefix, bytes) or len(prefix) != KID_PREFIX_LENGTH:
        raise ValueError(f"a kid prefix is {KID_PREFIX_LENGTH} bytes")
    require_uint32("batch", batch)
    require_uint32("index", index)
    return _HEADER.pack(VERSION, prefix, batch, index)


def require_uint32(name: str, value: int) -> None:
    """Batch and stamp numbers are 4 bytes in the token; raises ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UINT32_MAX:
        raise ValueError(f"{name} must be a whole number from 0 to {UINT32_MAX}")


def _find_token(text: str) -> str:
    if not isinstance(text, str):
        raise MalformedToken("expected text")
    if "/" in text:
        start = max(text.rfind(marker) for marker in _PATH_MARKERS)
        if start < 0:
            raise MalformedToken("a link, but not to /V/<code>")
        # A query or fragment after the path is the scanner's or a tracker's, not ours.
        text = text[start + len("/V/") :].partition("?")[0].partition("#")[0]
    return text.strip()


def _decode(token: str) -> bytes:
    if not token:
        raise MalformedToken("empty")
    if len(token) != TOKEN_LENGTH:
        raise MalformedToken(
            "%(length)s characters where a code has %(expected)s",
            length=len(token),
            expected=TOKEN_LENGTH,
        )
    if not _BASE32.fullmatch(token):
        raise MalformedToken("characters outside base32 (A-Z, 2-7)")
    # int(..., 32) reads base 32 in C once the RFC 4648 alphabet is spelled as
    # Python's digits (0-9a-v): ten times faster than base64.b32decode's loop.
    number = int(token.translate(_TO_PYTHON_DIGITS), 32)
    # 130 characters carry 650 bits for 648: two spellings would decode alike
    # unless the spare bits must be zero.
    spare = TOKEN_LENGTH * 5 - _RAW_LENGTH * 8
    if number & ((1 << spare) - 1):
        raise MalformedToken("not the canonical base32 of a code")
    return (number >> spare).to_bytes(_RAW_LENGTH, "big")
