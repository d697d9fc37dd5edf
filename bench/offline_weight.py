"""The offline verifier's weight: everything a phone fetches to check stamps offline.

    python bench/offline_weight.py                          # an app on a scratch SQLite file
    python bench/offline_weight.py --url http://127.0.0.1:5000   # a running server

Fetches /kiem-tra, then every file its service worker keeps (the list in
static/offline/sw.js: the page in both languages, the manifest, the scripts
including the vendored noble-ed25519, the style sheet, the icon) and /sw.js
itself, as the live app serves them, and prints each size and the total of one
language's page plus everything else. Exits 1 if a file fails to load or the
total is 100 KB (102,400 bytes) or more.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

BUDGET = 100 * 1024


def _client(url: str | None) -> Callable[[str], bytes]:
    if url:
        def fetch(path: str) -> bytes:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=10) as response:
                return response.read()
        return fetch
    from ocop.web import create_app

    folder = Path(tempfile.mkdtemp(prefix="ocop-weight-"))
    app = create_app(
        {"database_url": f"sqlite:///{folder / 'ocop.db'}", "instance": folder,
         "secret_key": "x" * 40, "rate_limit": None}
    )
    app.extensions["ocop.db"].upgrade()
    client = app.test_client()

    def fetch(path: str) -> bytes:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        return response.get_data()
    return fetch


def _shell_files(worker: str) -> list[str]:
    """The FILES array of sw.js: PAGE, `${PAGE}...` and "..." entries."""
    block = re.search(r"const FILES = \[(.*?)\];", worker, re.DOTALL)
    if block is None:
        raise SystemExit("sw.js has no FILES list")
    page = re.search(r'const PAGE = "([^"]+)"', worker)
    assert page is not None
    files = []
    for entry in block.group(1).split(","):
        entry = entry.strip()
        if entry:
            entry = entry.strip('`"').replace("${PAGE}", page.group(1))
            files.append(page.group(1) if entry == "PAGE" else entry)
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="measure a running server instead")
    args = parser.parse_args()
    fetch = _client(args.url)
    worker = fetch("/sw.js")
    files = _shell_files(worker.decode())
    sizes = {"/sw.js": len(worker)}
    for path in files:
        sizes[path] = len(fetch(path))
    one_language = sum(size for path, size in sizes.items() if path != "/kiem-tra?lang=en")
    for path, size in sizes.items():
        print(f"  {size:>7,} B  {path}")
    print(f"offline verifier, one language: {one_language:,} bytes "
          f"({one_language / 1024:.1f} KB; budget {BUDGET // 1024} KB)")
    ok = one_language < BUDGET and "/static/offline/noble-ed25519.js" in sizes
    print(f"  result: {'within budget' if ok else 'OVER BUDGET or incomplete'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
