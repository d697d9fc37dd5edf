"""The public verifier under load: gunicorn with 2 workers, wrk on loopback.

For each database it loads the demo, issues 2,000 stamps, starts gunicorn, and
measures with wrk (16 connections, 10 s each):
- a trivial route of the same app (/healthz), the baseline;
- GET /api/v1/verify/<token> and the HTML page /V/<token>, each request a
  different stamp, as a phone would send it (so every scan is counted: a write);
and then times a 1,000-code bulk POST /api/v1/verify (median of 5).

An ``invalid`` verdict is a 200 too, and the cheaper path: so a sample of stamps
is verified before and after each run and must come back genuine (or suspect for
having been scanned by many devices) with its own serial; every bulk result is
checked the same way; a socket error or a non-2xx answer under load fails the
run. Any mismatch stops it with exit status 1.

    python bench/verifier_http.py                       # SQLite
    python bench/verifier_http.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/verifier_http.py --seconds 1 --count 50  # a quick smoke run
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
import urllib.error
import urllib.request
from pathlib import Path

from checks import expect

from ocop.trace.db import scratch_schema

PHONE = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Mobile Safari/537.36"
# The checks' own requests say they are a machine, so they count no scan.
CHECKER = "ocop-bench-check (python-urllib)"
SAMPLE = 25


def free_port() -> int:
    # Four digits at most: the base URL must fit the stamp's QR symbol (21 characters).
    for port in range(8100, 9999):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port from 8100 to 9999")


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
    expect("Non-2xx" not in out, f"non-2xx answers under load on {url}:\n{out}")
    expect("Socket errors" not in out, f"socket errors under load on {url}:\n{out}")
    return rate, float(p99.group(1)) * scale


def expect_stamp(result: dict, serial: str, where: str) -> None:
    """A verdict on one of our stamps: genuine, or suspect only for its many scanners."""
    status, reasons = result.get("status"), result.get("reasons")
    expect(
        status == "genuine" or (status == "suspect" and reasons == ["scan_limit_exceeded"]),
        f"{where}: stamp {serial} came back {status} {reasons}",
    )
    got = result.get("serial")
    expect(got == serial, f"{where}: stamp {serial} came back as {got}")


def get(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"User-Agent": CHECKER})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def check_sample(base: str, rows: list[dict[str, str]], when: str) -> None:
    """A spread of the stamps through the API and the page: each one genuine and itself."""
    step = max(1, len(rows) // SAMPLE)
    for row in rows[::step]:
        status, body = get(f"{base}/api/v1/verify/{row['token']}")
        expect(status == 200, f"{when}: GET /api/v1/verify/ answered {status}")
        expect_stamp(json.loads(body), row["serial"], f"{when}, API")
        status, page = get(f"{base}/V/{row['token']}")
        expect(status == 200, f"{when}: GET /V/ answered {status}")
        expect(row["serial"] in page, f"{when}: the page of stamp {row['serial']} lacks its serial")
        expect(
            "Tem chính hãng" in page or "Cần lưu ý" in page,
            f"{when}: the page of stamp {row['serial']} shows no genuine or suspect verdict",
        )


def lua_paths(folder: Path, prefix: str, tokens: list[str]) -> Path:
    script = folder / f"{prefix.strip('/').replace('/', '_')}.lua"
    paths = ",".join(json.dumps(f"{prefix}{t}") for t in tokens)
    script.write_text(
        f"local paths = {{{paths}}}\nlocal n = 0\n"
        "request = function()\n  n = n % #paths + 1\n"
        "  return wrk.format('GET', paths[n])\nend\n"
    )
    return script


def bulk(base: str, rows: list[dict[str, str]]) -> float:
    rows = rows[:1000]
    body = json.dumps({"codes": [row["token"] for row in rows]}).encode()
    times = []
    for _ in range(5):
        request = urllib.request.Request(
            f"{base}/api/v1/verify", data=body, headers={"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            results = json.load(response)["results"]
        times.append(time.perf_counter() - start)
        expect(len(results) == len(rows), f"bulk: {len(results)} results for {len(rows)} codes")
        for row, result in zip(rows, results, strict=True):
            expect_stamp(result, row["serial"], "bulk")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--count", type=int, default=2000, help="stamps to verify (2000)")
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
            str(args.count),
            "--out",
            str(out),
        )
        rows = list(csv.DictReader(out.open()))
        expect(len(rows) == args.count, f"issued {len(rows)} stamps, not {args.count}")
        tokens = [row["token"] for row in rows]
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
            check_sample(base, rows, "before the load")
            trivial, trivial_p99 = wrk(f"{base}/healthz", None, args.seconds)
            api, api_p99 = wrk(base, lua_paths(work, "/api/v1/verify/", tokens), args.seconds)
            check_sample(base, rows, "after GET /api/v1/verify/")
            page, page_p99 = wrk(base, lua_paths(work, "/V/", tokens), args.seconds)
            check_sample(base, rows, "after GET /V/")
            bulk_s = bulk(base, rows)
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
