"""Who is scanning: which device and which network, or a machine not to be counted.

Copy detection (stamps/copies.py, docs/copy-detection.md) counts a *sighting*
when a device new to a stamp scans it from a network new to it. Here is what
those two are, as keyed hashes (HMAC-SHA256 under the server secret), so that
nothing stored can be matched against an address or a cookie without the key:

- **network**: the client address's /24 (IPv4) or /48 (IPv6) prefix. A home,
  a shop or an office is one network; one client cannot be many.
- **device**: the device cookie when the browser keeps one. Without it (the
  in-app browsers of Zalo and Facebook, QR scanner apps), the network prefix,
  the User-Agent and the Vietnamese calendar day: the same phone scanning
  again that day is the same device, and is offered that value as its cookie,
  so a browser that does keep it stays the same device afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

from flask import Response, current_app, g, request

from ocop.stamps import ScanContext
from ocop.trace.db import vietnam_today

DEVICE_COOKIE = "ocop_device"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
# Link previewers and crawlers fetch the page without anyone holding the stamp.
_MACHINES = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|curl|wget|python-|httpx|"
    r"go-http|okhttp|java/|libwww|monitor|uptime|scan(?:ner)?bot",
    re.IGNORECASE,
)
# A User-Agent is the browser's word; only so much of it is worth hashing.
_AGENT_CHARS = 512


def is_person() -> bool:
    if request.method != "GET":
        return False
    agent = request.headers.get("User-Agent", "")
    return bool(agent) and not _MACHINES.search(agent)


def network_prefix(address: str | None) -> str:
    """The /24 or /48 an address belongs to, as text; the address itself when unparsable."""
    address = address or ""
    if "." in address and ":" not in address:
        head, dot, _last = address.rpartition(".")
        return f"{head}.0/24" if dot else address
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return network_prefix(str(parsed.ipv4_mapped))
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


def _prefix() -> str:
    if "network_prefix" not in g:
        g.network_prefix = network_prefix(request.remote_addr)
    return g.network_prefix


def _keyed(label: bytes, value: str, length: int = 32) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, label + value.encode(), hashlib.sha256).hexdigest()[:length]


def device_id() -> str:
    """The device's id: its cookie, or what stands for one without it (see above)."""
    if "device_id" not in g:
        cookie = request.cookies.get(DEVICE_COOKIE, "")
        g.device_new = not _DEVICE_ID.match(cookie)
        if g.device_new:
            agent = request.headers.get("User-Agent", "")[:_AGENT_CHARS]
            day = vietnam_today().isoformat()
            # 32 hex characters: a value the cookie pattern accepts back.
            g.device_id = _keyed(b"anon:", f"{_prefix()}|{agent}|{day}")
        else:
            g.device_id = cookie
    return g.device_id


def device_hash() -> str:
    # Keyed, so the stored hash cannot be matched against cookies by anyone
    # without the server secret; the raw id never reaches the database.
    return _keyed(b"device:", device_id(), 40)


def network_hash() -> str:
    return _keyed(b"network:", _prefix())


def scan_context() -> ScanContext | None:
    """How to count this request's scan; None when it should not be counted."""
    if not is_person():
        return None
    return ScanContext(device=device_hash(), network=network_hash())


def set_device_cookie(response: Response) -> Response:
    if g.get("device_new"):
        response.set_cookie(
            DEVICE_COOKIE,
            g.device_id,
            max_age=2 * 365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def client_hash() -> str:
    """A keyed hash of the client address, for abuse limits without keeping addresses."""
    return _keyed(b"client:", request.remote_addr or "", 40)
