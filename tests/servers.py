"""A real HTTP server on a free local port, for the tests a browser drives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


@contextmanager
def serving(wsgi: Any, **options: Any) -> Iterator[str]:
    """Serve ``wsgi`` in a thread while the block runs; yields its base URL."""
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi, threaded=True, **options)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
