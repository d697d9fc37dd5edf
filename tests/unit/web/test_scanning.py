"""Network prefixes: what one network is, for copy detection."""

from __future__ import annotations

import pytest

from ocop.web.proxies import TrustedProxyFix, parse_networks
from ocop.web.scanning import network_prefix


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("113.161.40.7", "113.161.40.0/24"),
        ("113.161.40.250", "113.161.40.0/24"),
        ("2402:800:6371:1234:5678::1", "2402:800:6371::/48"),
        ("::ffff:14.232.77.9", "14.232.77.0/24"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_prefix(address, prefix):
    assert network_prefix(address) == prefix


def test_forwarded_for_is_read_only_from_trusted_peers():
    seen = []

    def app(environ, start_response):
        seen.append(environ["REMOTE_ADDR"])
        return []

    fixed = TrustedProxyFix(app, 1, parse_networks("10.0.0.0/8"))
    for peer in ("10.0.0.2", "45.76.10.3", "garbage"):
        fixed({"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": "100.1.1.1"}, None)
    assert seen == ["100.1.1.1", "45.76.10.3", "garbage"]
