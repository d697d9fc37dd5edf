"""What a shopper's phone downloads for the verify page: HTML and CSS, photos apart.

    .venv/bin/python bench/verify_page_weight.py

Runs ``ocop demo --no-serve`` in a temporary instance (SQLite), opens the first
demo stamp's page in Vietnamese and in English through the test client, and
weighs the HTML and every style sheet it links, raw and gzip-compressed (what a
slow connection actually carries). Images are listed apart: a photo is loaded
lazily, and only the variant the phone's width asks for. Exits 1 if the page is
not the genuine verdict or links something from elsewhere.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

from ocop.web import create_app
from ocop.web.cli import main as ocop


def _weigh(client, url: str) -> tuple[int, int, int, int, list[str]]:
    page = client.get(url)
    html = page.get_data()
    if page.status_code != 200 or b"verdict-genuine" not in html:
        sys.exit(f"{url}: not the genuine verdict ({page.status_code})")
    text = html.decode()
    sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    images = re.findall(r'<img[^>]* src="([^"]+)"', text)
    for link in sheets + images:
        if "//" in link:
            sys.exit(f"{url}: links {link} from elsewhere")
    css = b"".join(client.get(s).get_data() for s in sheets)
    variants = sorted(set(re.findall(r'srcset="([^"]+)"', text)))
    for srcset in variants:
        for candidate in srcset.split(","):
            url, width = candidate.split()
            size = len(client.get(url).get_data())
            print(f"  photo variant {width}: {size:,} B (lazy, not counted)")
    return len(html), len(gzip.compress(html)), len(css), len(gzip.compress(css)), images


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("OCOP_KEY_PASSPHRASE", "bench passphrase for the page weight")
        Path(tmp, "instance").mkdir()
        app = create_app(
            {
                "instance": Path(tmp, "instance"),
                "database_url": f"sqlite:///{tmp}/instance/ocop.db",
                "secret_key": "bench", "rate_limit": None, "TESTING": True}
        )
        result = app.test_cli_runner().invoke(ocop, ["demo", "--no-serve"])
        if result.exit_code != 0:
            sys.exit(result.output)
        url = re.search(r"https?://\S+/V/[A-Z2-7]{130}", result.output, re.IGNORECASE)
        assert url is not None, result.output
        path = "/V/" + url.group(0).rsplit("/V/", 1)[1]
        client = app.test_client()
        for lang in ("vi", "en"):
            html, html_gz, css, css_gz, images = _weigh(client, f"{path}?lang={lang}")
            print(
                f"verify page ({lang}): HTML {html:,} B ({html_gz:,} B gzip), "
                f"CSS {css:,} B ({css_gz:,} B gzip), HTML+CSS {html + css:,} B "
                f"({html_gz + css_gz:,} B gzip); images linked: {len(images)}"
            )
        app.extensions["ocop.queue"].close()


if __name__ == "__main__":
    main()
