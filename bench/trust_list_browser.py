"""Verifying a signed trust list of 100 keys in the phone's browser (headless Chromium).

    python bench/trust_list_browser.py [--keys 100] [--runs 10]

Serves the offline verifier from a scratch app and a freshly signed list of N
root-certified keys (bench/trust_list.py builds it), pins its root in the page,
then times static/offline/trust.js's verifyTrustList in Chromium, with WebCrypto
Ed25519 and with the vendored noble-ed25519: median and min in milliseconds.
Exits 1 unless every key is kept and a list with one bit flipped is refused,
with both engines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

from selenium import webdriver
from trust_list import flipped, signed_list
from werkzeug.serving import make_server

from ocop.web import create_app

SCRIPT = """
const [document, flippedDocument, root, runs, engine, done] = arguments;
(async () => {
  const trust = await import("/static/offline/trust.js");
  await trust.chooseEngine(engine === "noble");
  const now = Math.floor(Date.now() / 1000);
  const times = [];
  let kept = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const list = await trust.verifyTrustList(document, [root], now, null);
    times.push(performance.now() - start);
    kept = list.keys.length;
  }
  let refused = false;
  try {
    await trust.verifyTrustList(flippedDocument, [root], now, null);
  } catch (e) { refused = e.code; }
  done({ times, kept, refused });
})().catch((e) => done({ error: String(e) }));
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    document, root = signed_list(args.keys)
    folder = Path(tempfile.mkdtemp(prefix="ocop-bench-"))
    app = create_app(
        {"database_url": f"sqlite:///{folder / 'ocop.db'}", "instance": folder,
         "secret_key": "x" * 40, "rate_limit": None}
    )
    app.extensions["ocop.db"].upgrade()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    service = webdriver.ChromeService("/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(300)
    ok = True
    try:
        driver.get(f"http://127.0.0.1:{httpd.server_port}/kiem-tra")
        print(f"signed trust list, {args.keys} keys, {len(document):,} bytes, in headless Chromium")
        for engine in ("webcrypto", "noble"):
            result = driver.execute_async_script(
                SCRIPT, document, flipped(document), root, args.runs, engine
            )
            if "error" in result:
                print(f"  {engine}: ERROR {result['error']}")
                ok = False
                continue
            times = sorted(result["times"])
            good = result["kept"] == args.keys and result["refused"] == "bad_signature"
            ok = ok and good
            print(f"  {engine:>9}: median {times[len(times) // 2]:.1f} ms, min {times[0]:.1f} ms "
                  f"over {args.runs} runs; {result['kept']} keys kept; flipped bit refused as "
                  f"{result['refused']!r}: {'correct' if good else 'WRONG'}")
    finally:
        driver.quit()
        httpd.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
