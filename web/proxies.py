"""Client addresses behind reverse proxies, believed only from the proxies themselves.

``X-Forwarded-For`` is whatever the sender wrote. With ``OCOP_PROXY_HOPS=1`` and
no proxy in front, a client could name any address per request and so walk
past every per-client limit, and pass for many networks to copy detection.
The header is read only on connections from ``OCOP_TRUSTED_PROXIES``
(loopback and private networks by default): a client connecting from the
internet is what its own address says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_TRUSTED = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.168.1.5"`` as networks; raises ``ValueError`` naming a bad one."""
    networks = []
    for item in text.replace(";", ",").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{item.strip()!r} is not an address or a network") from None
    return tuple(networks)


class TrustedProxyFix:
    """:class:`ProxyFix` applied only to requests whose peer is a trusted proxy."""

    def __init__(self, app: Any, hops: int, trusted: Iterable[Network]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.trusted: Sequence[Network] = tuple(trusted)
        self._known: dict[str, bool] = {}

    def _is_trusted(self, peer: str) -> bool:
        known = self._known.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
            except ValueError:
                known = False
            else:
                known = any(address in network for network in self.trusted)
            if len(self._known) < 10_000:
                self._known[peer] = known
        return known

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._is_trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
