"""The public verifier under load: gunicorn (gunicorn.conf.py, 2 workers), wrk on loopback.

OCOP_THREADS=1 runs one thread per worker (sync-like), for comparison.

For each database it loads the demo, issues 2,000 stamps, starts gunicorn with
the rate limiter on (budgets too large to be hit, so its cost is measured), and
measures with wrk (2 threads x 16 connections, --seconds each):
- a trivial route of the same app (/healthz), the baseline;
- GET /api/v1/verify/<token> and the HTML page /V/<token>, each request a
  different stamp, as a phone would send it (no cookie: every scan is counted);
  every answer must carry the expected verdict, and the scans the database
  counted must lie between the answers wrk read and the requests it sent;
then:
- an exact count: 8 client threads send 2,000 scans; the database's counters
  must equal the requests sent, one for one;
- a 1,000-code bulk POST /api/v1/verify with a distributor's API token (median of 5);
- single scans while 4 anonymous clients loop on 1,000-code bulk checks: the
  bulk budget (1,000 codes a minute per client) answers them 429 and scans
  keep their latency.

    python bench/verifier_http.py                       # SQLite
    python bench/verifier_http.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/verifier_http.py --scan-sync-commit off   # PostgreSQL: relaxed scan commits
Needs wrk (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from ocop.trace.db import Database, load_models, scratch_schema

PHONE = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Mobile Safari/537.36"
REPO = Path(__file__).resolve().parents[1]


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


# Counts per wrk thread what it sent and which answers carried the expected
# verdict; done() prints the totals as one JSON line.
LUA = """
local paths = {%(paths)s}
local expect = %(expect)s
local n = 0
sent, good, bad = 0, 0, 0  -- globals: done() reads them with thread:get
local threads = {}
function setup(thread) table.insert(threads, thread) end
function request()
  n = n %% #paths + 1
  sent = sent + 1
  return wrk.format('GET', paths[n])
end
function response(status, headers, body)
  if status == 200 and string.find(body, expect, 1, true) then good = good + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local s, g, b = 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("sent"); g = g + t:get("good"); b = b + t:get("bad")
  end
  io.write(string.format('COUNTS {"sent": %%d, "good": %%d, "bad": %%d}\\n', s, g, b))
end
"""


def lua_script(folder: Path, name: str, paths: list[str], expect: str) -> Path:
    script = folder / f"{name}.lua"
    listed = ",".join(json.dumps(p) for p in paths)
    script.write_text(LUA % {"paths": listed, "expect": json.dumps(expect)})
    return script


def wrk(url: str, lua: Path | None, seconds: int, *, strict: bool = True) -> dict[str, float]:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-H", f"User-Agent: {PHONE}"]
    if lua is not None:
        args += ["-s", str(lua)]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    if strict and ("Non-2xx" in out or "Socket errors" in out):
        raise SystemExit(f"errors under load:\n{out}")
    timeouts = re.search(r"timeout (\d+)", out)
    result = {"rate": rate, "p99": float(p99.group(1)) * scale}
    result["timeouts"] = float(timeouts.group(1)) if timeouts else 0.0
    counts = re.search(r"COUNTS (\{.*\})", out)
    if counts:
        result.update(json.loads(counts.group(1)))
        if result["bad"]:
            raise SystemExit(f"{result['bad']:.0f} answers without the expected verdict:\n{out}")
    return result


class Counters:
    """The database's own count of scans, read between phases."""

    def __init__(self, url: str) -> None:
        load_models()
        from ocop.stamps.models import StampScan

        self.database = Database.from_url(url)
        self.model = StampScan

    def total(self) -> int:
        with self.database.transaction() as session:
            return session.scalar(select(func.coalesce(func.sum(self.model.count), 0)))

    def settle(self) -> int:
        """The total once in-flight requests have finished (it stops moving)."""
        last = -1
        while True:
            now = self.total()
            if now == last:
                return now
            last = now
            time.sleep(0.5)


def exact_count(base: str, tokens: list[str], counters: Counters, threads: int = 8) -> int:
    """Scans sent one by one from ``threads`` clients; every answer checked."""
    before = counters.settle()
    host, port = base.removeprefix("http://").split(":")
    work = [f"/api/v1/verify/{t}" for t in tokens]
    errors: list[str] = []

    def client(paths: list[str]) -> None:
        for path in paths:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            connection.request("GET", path, headers={"User-Agent": PHONE})
            answer = connection.getresponse()
            body = answer.read()
            connection.close()
            if answer.status != 200 or json.loads(body)["status"] != "genuine":
                errors.append(f"{answer.status} {body[:200]!r}")

    pool = [
        threading.Thread(target=client, args=(work[i::threads],)) for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} scans without a genuine verdict: {errors[:3]}")
    counted = counters.settle() - before
    if counted != len(work):
        raise SystemExit(f"sent {len(work)} scans, the database counted {counted}")
    return counted


def bulk(base: str, tokens: list[str], api_token: str) -> float:
    body = json.dumps({"codes": tokens[:1000]}).encode()
    times = []
    for _ in range(5):
        request = urllib.request.Request(
            f"{base}/api/v1/verify",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_token}"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            results = json.load(response)["results"]
        times.append(time.perf_counter() - start)
        assert len(results) == 1000 and results[0]["status"] in ("genuine", "suspect")
    return statistics.median(times)


def flood(base: str, tokens: list[str], lua: Path, seconds: int) -> tuple[dict[str, float], int]:
    """Single scans measured while 4 anonymous clients loop on 1,000-code bulk checks."""
    body = json.dumps({"codes": tokens[:1000]}).encode()
    stop = threading.Event()
    refused = [0]

    def loop() -> None:
        while not stop.is_set():
            request = urllib.request.Request(
                f"{base}/api/v1/verify", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request) as response:
                    response.read()
            except urllib.error.HTTPError as error:
                error.read()
                if error.code == 429:
                    refused[0] += 1
                    time.sleep(0.05)

    pool = [threading.Thread(target=loop) for _ in range(4)]
    for thread in pool:
        thread.start()
    try:
        scans = wrk(base, lua, seconds, strict=False)
    finally:
        stop.set()
        for thread in pool:
            thread.join()
    return scans, refused[0]


def api_token_for_bench(env: dict[str, str], url: str) -> str:
    """A token of the demo's distributor, made in the database directly."""
    from sqlalchemy import select as sql_select

    from ocop.trace.models import Organisation, OrgKind
    from ocop.workflows.api_tokens import create_token

    database = Database.from_url(url)
    with database.transaction() as session:
        org = session.scalars(
            sql_select(Organisation).where(Organisation.kind == OrgKind.DISTRIBUTOR)
        ).first()
        _token, text = create_token(session, org, "bench", created_by="bench")
    database.dispose()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--scan-sync-commit", default="on", choices=["on", "off"])
    parser.add_argument(
        "--limit-storage", default="memory://", help="e.g. redis://127.0.0.1:6379/1"
    )
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
            # On, so that its cost is in every figure; too large to refuse anything.
            "OCOP_RATE_LIMIT": "100000000/minute",
            "OCOP_BULK_TOKEN_LIMIT": "100000000/minute",
            "OCOP_BASE_URL": f"http://127.0.0.1:{port}",
            "OCOP_BIND": f"127.0.0.1:{port}",
            "OCOP_WORKERS": "2",
            # No recycling mid-run: a recycled gthread worker drops its clients'
            # keep-alive connections, which wrk counts as timeouts (a browser retries).
            "OCOP_MAX_REQUESTS": "0",
            "OCOP_SCAN_SYNC_COMMIT": args.scan_sync_commit,
            "OCOP_RATE_LIMIT_STORAGE": args.limit_storage,
        }
        if url:
            env["OCOP_DATABASE_URL"] = url
        run(env, str(bin_dir / "ocop"), "demo", "--no-serve")
        lots = json.loads(run(env, str(bin_dir / "ocop"), "trace", "lots", "--json"))
        lot = next(item["code"] for item in lots if item["stampable"])
        out = work / "stamps.csv"
        run(env, str(bin_dir / "ocop"), "stamps", "issue", "--lot", lot, "--count", "4000",
            "--out", str(out))
        tokens = [row["token"] for row in csv.DictReader(out.open())]
        database_url = url or f"sqlite:///{work / 'instance' / 'ocop.db'}"
        api_token = api_token_for_bench(env, database_url)
        counters = Counters(database_url)
        server = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py"),
             "--log-level", "warning", "ocop.web:create_app()"],
            env=env,
            stdout=subprocess.DEVNULL,  # the access log: one line per request
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
            api_lua = lua_script(
                work, "api", [f"/api/v1/verify/{t}" for t in tokens[:2000]], '"status":"genuine"'
            )
            page_lua = lua_script(
                work, "page", [f"/V/{t}" for t in tokens[:2000]], "verdict-genuine"
            )
            # Warm both workers' caches and connections, as a running server has them.
            wrk(base, api_lua, 1)
            wrk(base, page_lua, 1)
            trivial = wrk(f"{base}/healthz", None, args.seconds)
            before = counters.settle()
            api = wrk(base, api_lua, args.seconds)
            after_api = counters.settle()
            page = wrk(base, page_lua, args.seconds)
            after_page = counters.settle()
            for name, result, counted in (
                ("API", api, after_api - before),
                ("page", page, after_page - after_api),
            ):
                if not result["good"] <= counted <= result["sent"]:
                    raise SystemExit(
                        f"{name}: wrk read {result['good']:.0f} answers and sent "
                        f"{result['sent']:.0f} requests, the database counted {counted}"
                    )
                result["counted"] = counted
            exact = exact_count(base, tokens[2000:4000], counters)
            bulk_s = bulk(base, tokens, api_token)
            flooded, refused = flood(base, tokens, api_lua, max(3, args.seconds // 2))
            sync = "" if args.scan_sync_commit == "on" else ", scan commits not synchronous"
            sync += f", limits in {args.limit_storage.split(':')[0]}"
            threads = os.environ.get("OCOP_THREADS", "4")
            print(
                f"{engine}, gunicorn 2 workers x {threads} threads, "
                f"wrk 2 threads x 16 connections{sync}"
            )
            print(f"  trivial /healthz       {trivial['rate']:8.0f} req/s  p99 "
                  f"{trivial['p99']:6.1f} ms")
            for label, result in (("GET /api/v1/verify/..", api), ("GET /V/.. (HTML)", page)):
                print(
                    f"  {label:<22} {result['rate']:8.0f} req/s  p99 {result['p99']:6.1f} ms"
                    f"  ratio {result['rate'] / trivial['rate']:.2f}"
                    f"  (answered {result['good']:.0f}, counted {result['counted']}, "
                    f"sent {result['sent']:.0f})"
                )
            print(f"  exact count            {exact} scans sent by 8 clients, {exact} counted")
            print(f"  POST 1,000-code bulk   {bulk_s * 1000:8.0f} ms (median of 5, API token)")
            print(
                f"  scans during a flood   {flooded['rate']:8.0f} req/s  p99 "
                f"{flooded['p99']:6.1f} ms  (4 anonymous bulk loops, {refused} answered 429, "
                f"{flooded['timeouts']:.0f} scans timed out)"
            )
        finally:
            server.terminate()
            server.wait(10)
            counters.database.dispose()


if __name__ == "__main__":
    main()
