"""``ocop worker``: it needs a broker to take jobs from, says so, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from ocop.trace.db import Database
from ocop.web.cli import main

from .conftest import TEST_PASSPHRASE


def test_without_a_queue_url_the_worker_explains_and_exits(runner) -> None:
    result = runner.invoke(main, ["worker"])
    assert result.exit_code == 2
    assert "OCOP_QUEUE_URL" in result.output and "Traceback" not in result.output


def test_a_bad_queue_url_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "OCOP_INSTANCE": str(tmp_path), "OCOP_QUEUE_URL": "http://nope"}
    ocop = Path(sys.executable).with_name("ocop")
    result = subprocess.run(
        [str(ocop), "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "OCOP_QUEUE_URL must be a redis:// or amqp:// URL" in result.stderr
    assert "Traceback" not in result.stderr


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/2", socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_the_worker_runs_until_sigterm(database_url: str, clean_database, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        # A database of its own: a worker killed mid-write (if this test times out)
        # must not leave the suite's shared SQLite file locked or half-written.
        database_url = f"sqlite:///{tmp_path / 'worker.db'}"
        own = Database.from_url(database_url)
        own.upgrade()
        own.dispose()
    env = {
        **os.environ,
        "OCOP_INSTANCE": str(tmp_path),
        "OCOP_DATABASE_URL": database_url,
        "OCOP_KEY_PASSPHRASE": TEST_PASSPHRASE,
        "OCOP_QUEUE_URL": "redis://127.0.0.1:6379/2",
        "OCOP_QUEUE_NAMESPACE": f"ocop-test-{os.getpid()}-{time.monotonic_ns()}",
    }
    ocop = Path(sys.executable).with_name("ocop")
    worker = subprocess.Popen(
        [str(ocop), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = worker.stdout.readline()
        assert "running jobs from redis://127.0.0.1:6379/2" in line
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert "Stopping" in out
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
