"""The public verifier under load: gunicorn with 2 workers, wrk on loopback.

For each database it loads the demo, issues 2,000 stamps, starts gunicorn, and
measures with wrk (16 connections, 10 s each):
- a trivial route of the same app (/healthz), the baseline;
- GET /api/v1/verify/<token> and the HTML page /V/<token>, each request a
  different stamp, as a phone would send it (so every scan is counted: a write);
and then times a 1,000-code bulk POST /api/v1/verify (median of 5).

    python bench/verifier_http.py                       # SQLite
    python bench/verifier_http.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ocop.trace.db import scratch_schema

PHONE = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Mobile Safari/537.36"


def free_port() -> int:
    # Four digits at most: the base URL must fit the stamp's QR symbol (21 characters).
    for port in range(5301, 5321):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port from 5301 to 5320")


def run(env: dict[str, str], *args: str) -> str:
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout


def wrk(url: str, lua: Path | None, seconds: int) -> tuple[float, float]:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"User-Agent: {PHONE}"]
    if lua is not None:
        args += ["-s", str(lua)]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    if "Non-2xx" in out:
        raise SystemExit(f"errors under load:\n{out}")
    return rate, float(p99.group(1)) * scale


def lua_paths(folder: Path, prefix: str, tokens: list[str]) -> Path:
    script = folder / f"{prefix.strip('/').replace('/', '_')}.lua"
    paths = ",".join(json.dumps(f"{prefix}{t}") for t in tokens)
    script.write_text(
        f"local paths = {{{paths}}}\nlocal n = 0\n"
        "request = function()\n  n = n % #paths + 1\n"
        "  return wrk.format('GET', paths[n])\nend\n"
    )
    return script


def bulk(base: str, tokens: list[str]) -> float:
    body = json.dumps({"codes": tokens[:1000]}).encode()
    times = []
    for _ in range(5):
        request = urllib.request.Request(
            f"{base}/api/v1/verify", data=body, headers={"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            results = json.load(response)["results"]
        times.append(time.perf_counter() - start)
        assert len(results) == 1000 and results[0]["status"] in ("genuine", "suspect")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    bin_dir = Path(sys.executable).parent
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = ""
        if args.database_url:
            url = stack.enter_context(scratch_schema(args.database_url, "ocop_bench"))
        port = free_port()
        env = {
            **os.environ,
            "OCOP_INSTANCE": str(work / "instance"),
            "OCOP_KEY_PASSPHRASE": "bench passphrase, not secret",
            "OCOP_RATE_LIMIT": "off",
            "OCOP_BASE_URL": f"http://127.0.0.1:{port}",
        }
        if url:
            env["OCOP_DATABASE_URL"] = url
        run(env, str(bin_dir / "ocop"), "demo", "--no-serve")
        lots = json.loads(run(env, str(bin_dir / "ocop"), "trace", "lots", "--json"))
        lot = next(item["code"] for item in lots if item["stampable"])
        out = work / "stamps.csv"
        run(
            env,
            str(bin_dir / "ocop"),
            "stamps",
            "issue",
            "--lot",
            lot,
            "--count",
            "2000",
            "--out",
            str(out),
        )
        tokens = [row["token"] for row in csv.DictReader(out.open())]
        server = subprocess.Popen(
            [
                str(bin_dir / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "ocop.web:create_app()",
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            engine = "PostgreSQL" if url else "SQLite"
            trivial, trivial_p99 = wrk(f"{base}/healthz", None, args.seconds)
            api, api_p99 = wrk(base, lua_paths(work, "/api/v1/verify/", tokens), args.seconds)
            page, page_p99 = wrk(base, lua_paths(work, "/V/", tokens), args.seconds)
            bulk_s = bulk(base, tokens)
            print(f"{engine}, gunicorn 2 workers, wrk 2 threads x 16 connections")
            print(f"  trivial /healthz       {trivial:8.0f} req/s  p99 {trivial_p99:6.1f} ms")
            print(
                f"  GET /api/v1/verify/..  {api:8.0f} req/s  p99 {api_p99:6.1f} ms"
                f"  ratio {api / trivial:.2f}"
            )
            print(
                f"  GET /V/.. (HTML)       {page:8.0f} req/s  p99 {page_p99:6.1f} ms"
                f"  ratio {page / trivial:.2f}"
            )
            print(f"  POST 1,000-code bulk   {bulk_s * 1000:8.0f} ms (median of 5)")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
