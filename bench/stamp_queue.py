"""A big stamp request through the queue, against ``ocop stamps issue`` in the same run.

    .venv/bin/python bench/stamp_queue.py [--count 1000000] [--database-url URL]

Two ``ocop worker`` processes on Redis database 2 (a namespace of this run's own)
sign and write a request's CSV and PDF (one job each, in parallel); the script
reports the time to each file, the peak memory of each worker (its process tree,
the QR encoder processes included), then ``ocop stamps issue`` writes the same
count to CSV and to PDF for the ratio. While the jobs run, ``/healthz`` and one
verify are timed against a gunicorn serving the same instance, as a ratio to
the same requests while idle. Everything runs on this machine: ratios, not
absolute times, are what carry over.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import redis
from sqlalchemy import select

BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/2"
PORT = 5417


def _env(instance: Path, database_url: str, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "OCOP_INSTANCE": str(instance),
        "OCOP_DATABASE_URL": database_url,
        "OCOP_KEY_PASSPHRASE": "bench passphrase, not a secret",
        "OCOP_SECRET_KEY": "bench",
        "OCOP_PIN_SECRET": "bench pin secret, sixteen+",
        "OCOP_QUEUE_URL": REDIS_URL,
        "OCOP_QUEUE_NAMESPACE": namespace,
        "OCOP_RATE_LIMIT": "off",
        "OCOP_BASE_URL": f"http://127.0.0.1:{PORT}",
    }


def _ocop(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "ocop"), *args], env=env, check=True, capture_output=True, text=True
    ).stdout


class Peak(threading.Thread):
    """Samples a process tree's resident memory until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            self.stopped.wait(0.2)


def _latency(url: str, n: int = 20) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    namespace = f"ocop-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder) / "instance"
        database_url = args.database_url or f"sqlite:///{instance / 'ocop.db'}"
        env = _env(instance, database_url, namespace)
        _ocop(env, "demo", "--no-serve")
        try:
            run(env, instance, database_url, args.count)
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"{namespace}*"):
                client.delete(key)


def run(env: dict[str, str], instance: Path, database_url: str, count: int) -> None:
    os.environ.update(env)
    from ocop.trace.db import Database
    from ocop.trace.queries import find_lot, find_organisation
    from ocop.web import create_app
    from ocop.workflows.access import Actor
    from ocop.workflows.models import Job, RequestStatus, StampRequest, User
    from ocop.workflows.stamp_requests import approve_request, submit_request

    app = create_app()
    database: Database = app.extensions["ocop.db"]
    lot_code = "BC-2026-1115"
    with database.transaction() as session:
        lot = find_lot(session, lot_code)
        producer = find_organisation(session, "1001187342")
        request, _ = submit_request(
            session, lot, producer, count=str(count), pin=False, layout="a4-5x8", note=None,
            nonce=uuid.uuid4().hex, actor="bench", maximum=count,
        )
        request_id = request.id
        officer = session.scalars(select(User).where(User.email == "admin@ocop.local")).one()
        actor = Actor.of(officer)
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PORT}", "ocop.web:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    workers: list[subprocess.Popen] = []
    try:
        _wait_for(f"http://127.0.0.1:{PORT}/healthz")
        demo_pdf = next((instance / "demo").glob("stamps-*.pdf"))
        verify_url = _first_stamp_url(env, demo_pdf)
        idle = (_latency(f"http://127.0.0.1:{PORT}/healthz"), _latency(verify_url))

        workers = [
            subprocess.Popen([str(BIN / "ocop"), "worker"], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        peaks = [Peak(w.pid) for w in workers]
        for peak in peaks:
            peak.start()
        start = time.perf_counter()
        approve_request(database, app.config["OCOP"].keystore(), request_id, actor=actor,
                        queue=app.extensions["ocop.queue"], chunk_size=20_000)
        finished: dict[str, float] = {}
        busy = []
        while len(finished) < 2:
            with database.transaction() as session:
                for job in session.scalars(select(Job).where(Job.request_id == request_id)):
                    if job.status == "done" and job.output not in finished:
                        finished[job.output] = time.perf_counter() - start
                        print(f"queue {job.output}: {finished[job.output]:.1f} s", flush=True)
                    assert job.status not in ("failed", "cancelled"), job.error
            if len(busy) < 3 and not finished:
                busy.append((_latency(f"http://127.0.0.1:{PORT}/healthz", 10),
                             _latency(verify_url, 10)))
            time.sleep(0.5)
        with database.transaction() as session:
            assert session.get_one(StampRequest, request_id).status is RequestStatus.ISSUED
        for n, peak in enumerate(peaks, 1):
            peak.stopped.set()
            print(f"worker {n} peak RSS {peak.peak / 2**20:.0f} MiB", flush=True)
    finally:
        for process in (*workers, gunicorn):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)

    direct = {}
    for suffix in (".csv", ".pdf"):
        out = instance / f"direct{suffix}"
        begin = time.perf_counter()
        _ocop(env, "stamps", "issue", "--lot", lot_code, "--count", str(count), "--out", str(out))
        direct[suffix] = time.perf_counter() - begin
        print(f"ocop stamps issue {suffix}: {direct[suffix]:.1f} s", flush=True)

    print(f"{count:,} stamps, 2 workers, chunks of 20,000; SQLite or PostgreSQL: "
          f"{database_url.split(':')[0]}")
    for suffix in (".csv", ".pdf"):
        ratio = finished[suffix] / direct[suffix]
        print(f"  {suffix[1:].upper()}: queue {finished[suffix]:.1f} s "
              f"({count / finished[suffix]:,.0f} stamps/s), ocop stamps issue "
              f"{direct[suffix]:.1f} s ({count / direct[suffix]:,.0f} stamps/s): "
              f"ratio {ratio:.2f}x")
    for n, peak in enumerate(peaks, 1):
        print(f"  worker {n}: peak RSS {peak.peak / 2**20:.0f} MiB (with its encoder processes)")
    health = statistics.median(b[0] for b in busy) / idle[0]
    verify = statistics.median(b[1] for b in busy) / idle[1]
    print(f"  /healthz while the jobs run: {health:.2f}x idle "
          f"({idle[0] * 1e3:.1f} ms idle); one verify: {verify:.2f}x idle "
          f"({idle[1] * 1e3:.1f} ms idle)")


def _first_stamp_url(env: dict[str, str], pdf: Path) -> str:
    import pypdfium2
    import zxingcpp

    image = pypdfium2.PdfDocument(str(pdf))[0].render(scale=300 / 72).to_pil()
    text = zxingcpp.read_barcodes(image)[0].text
    token = text.rsplit("/", 1)[1]
    return f"http://127.0.0.1:{PORT}/api/v1/verify/{token}"


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


if __name__ == "__main__":
    main()
