"""Which task queue: overhead per task, and what a SIGKILL mid-task does, for Dramatiq
(Redis), RQ (Redis) and Procrastinate (PostgreSQL), each with one worker process.

    .venv/bin/pip install 'dramatiq[redis]' rq procrastinate
    .venv/bin/python bench/queue_choice.py [--tasks 300] [--kill-wait 40]

Redis database 2 and a scratch PostgreSQL schema are used and cleaned up. Each
task does one Redis INCR so that "done" is counted the same way for all three.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import redis

REDIS = "redis://127.0.0.1:6379/2"
PG = os.environ.get("OCOP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUN = uuid.uuid4().hex[:8]
PY = sys.executable

TASKS = textwrap.dedent(
    f"""
    import os, time, redis
    R = redis.Redis.from_url({REDIS!r})
    RUN = {RUN!r}

    def work(kind, sleep=0.0):
        if sleep:
            R.incr(f"qc:{{RUN}}:{{kind}}:started")
            time.sleep(sleep)
        R.incr(f"qc:{{RUN}}:{{kind}}:done")
    """
)

DRAMATIQ = TASKS + textwrap.dedent(
    f"""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    broker = RedisBroker(url={REDIS!r}, namespace="qc-{RUN}", heartbeat_timeout=5000,
                         maintenance_chance=50)
    dramatiq.set_broker(broker)

    @dramatiq.actor(max_retries=0, time_limit=3_600_000)
    def task(kind, sleep=0.0):
        work(kind, sleep)
    """
)

RQ = TASKS + textwrap.dedent(
    """
    def task(kind, sleep=0.0):
        work(kind, sleep)
    """
)

PROCRASTINATE = TASKS + textwrap.dedent(
    """
    import procrastinate
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=os.environ["QC_PG"]))

    @app.task(name="task")
    def task(kind, sleep=0.0):
        work(kind, sleep)
    """
)


def counter(r: redis.Redis, kind: str, what: str = "done") -> int:
    return int(r.get(f"qc:{RUN}:{kind}:{what}") or 0)


def wait_for(r: redis.Redis, kind: str, n: int, limit: float, what: str = "done") -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if counter(r, kind, what) >= n:
            return time.perf_counter() - start
        time.sleep(0.002)
    return None


class Backend:
    name = ""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env

    def worker(self) -> subprocess.Popen:
        raise NotImplementedError

    def enqueue(self, kind: str, sleep: float = 0.0) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Dramatiq(Backend):
    name = "dramatiq (redis)"

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        super().__init__(folder, env)
        (folder / "qc_dramatiq.py").write_text(DRAMATIQ)
        sys.path.insert(0, str(folder))
        import qc_dramatiq

        self.module = qc_dramatiq

    def worker(self) -> subprocess.Popen:
        args = [PY, "-m", "dramatiq", "qc_dramatiq", "--processes", "1", "--threads", "1"]
        return subprocess.Popen(args, cwd=self.folder, env=self.env, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def enqueue(self, kind: str, sleep: float = 0.0) -> None:
        self.module.task.send(kind, sleep)

    def close(self) -> None:
        r = redis.Redis.from_url(REDIS)
        for key in r.scan_iter(f"qc-{RUN}*"):
            r.delete(key)


class Rq(Backend):
    name = "rq (redis)"

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        super().__init__(folder, env)
        (folder / "qc_rq.py").write_text(RQ)
        sys.path.insert(0, str(folder))
        import qc_rq
        from rq import Queue

        self.module = qc_rq
        self.queue = Queue(f"qc-{RUN}", connection=redis.Redis.from_url(REDIS))

    def worker(self) -> subprocess.Popen:
        args = [PY, "-m", "rq.cli", "worker", "--url", REDIS, f"qc-{RUN}"]
        return subprocess.Popen(
            args, cwd=self.folder, env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def enqueue(self, kind: str, sleep: float = 0.0) -> None:
        self.queue.enqueue(self.module.task, kind, sleep, job_timeout=3600)

    def close(self) -> None:
        self.queue.empty()


class Procrastinate(Backend):
    name = "procrastinate (postgresql)"

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        import psycopg

        self.schema = f"qc_{RUN}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        conninfo = f"{PG}?options=-csearch_path%3D{self.schema}"
        env = {**env, "QC_PG": conninfo}
        os.environ["QC_PG"] = conninfo
        super().__init__(folder, env)
        (folder / "qc_procrastinate.py").write_text(PROCRASTINATE)
        sys.path.insert(0, str(folder))
        import qc_procrastinate

        self.module = qc_procrastinate
        self.module.app.open()
        self.module.app.schema_manager.apply_schema()

    def worker(self) -> subprocess.Popen:
        args = [PY, "-m", "procrastinate", "--app=qc_procrastinate.app", "worker",
                "--concurrency", "1"]
        return subprocess.Popen(args, cwd=self.folder, env=self.env, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def enqueue(self, kind: str, sleep: float = 0.0) -> None:
        self.module.task.defer(kind=kind, sleep=sleep)

    def close(self) -> None:
        import psycopg

        self.module.app.close()
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def measure(backend: Backend, tasks: int, kill_wait: float) -> None:
    r = redis.Redis.from_url(REDIS)
    worker = backend.worker()
    try:
        backend.enqueue("warm")
        assert wait_for(r, "warm", 1, 30) is not None, "worker did not start"
        latencies = []
        for n in range(1, 31):
            start = time.perf_counter()
            backend.enqueue("one")
            assert wait_for(r, "one", n, 10) is not None
            latencies.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(tasks):
            backend.enqueue(f"many-{backend.name}")
        enqueued = time.perf_counter() - start
        took = wait_for(r, f"many-{backend.name}", tasks, 120)
        print(f"{backend.name}:")
        print(f"  one task, enqueue to done: median {statistics.median(latencies) * 1e3:.1f} ms")
        print(f"  {tasks} tasks: enqueue {enqueued / tasks * 1e3:.2f} ms each, "
              f"all done after {took:.2f} s ({took / tasks * 1e3:.2f} ms a task)")
        kind = f"kill-{backend.name}"
        backend.enqueue(kind, 3.0)
        assert wait_for(r, kind, 1, 30, "started") is not None
        # The worker and every child: Dramatiq runs tasks in child processes, and
        # RQ's work horse leaves the worker's process group (setsid).
        for child in psutil.Process(worker.pid).children(recursive=True):
            child.kill()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        killed_at = time.perf_counter()
        worker = backend.worker()
        again = wait_for(r, kind, 1, kill_wait)
        if again is None:
            print(f"  SIGKILL mid-task: not run again within {kill_wait:.0f} s "
                  f"(started {counter(r, kind, 'started')}x)")
        else:
            print(f"  SIGKILL mid-task: run again and finished "
                  f"{time.perf_counter() - killed_at:.1f} s after the kill")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--kill-wait", type=float, default=40)
    parser.add_argument("--only", choices=["dramatiq", "rq", "procrastinate"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PYTHONPATH": folder}
        for cls in (Dramatiq, Rq, Procrastinate):
            if args.only and not cls.__name__.lower().startswith(args.only):
                continue
            measure(cls(Path(folder), env), args.tasks, args.kill_wait)
    r = redis.Redis.from_url(REDIS)
    for key in r.scan_iter(f"qc:{RUN}:*"):
        r.delete(key)


if __name__ == "__main__":
    main()
