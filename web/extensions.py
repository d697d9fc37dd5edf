"""Flask extensions, created once and bound to each app by :func:`site.init_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

babel = Babel()
# The client address as ProxyFix leaves it: behind OCOP_PROXY_HOPS proxies, the
# real client rather than the proxy.
limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
