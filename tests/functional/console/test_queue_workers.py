"""The real queue: Redis (database 2) and ``ocop worker`` processes, one of them killed
with SIGKILL in the middle of signing a batch; the next worker resumes it from its
last finished chunk, and every stamp of the batch comes out once and valid."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from ocop.stamps.models import BatchStatus, StampBatch
from ocop.stamps.serial import Serial
from ocop.web import create_app
from ocop.workflows.models import Job, RequestStatus, StampRequest

from ..conftest import TEST_PASSPHRASE
from .conftest import World, post, sign_in
from .test_stamp_requests import LOT, _request_id, _submit

REDIS_URL = "redis://127.0.0.1:6379/2"
COUNT = 200_000
CHUNK = 2_000


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")


@pytest.fixture
def namespace() -> str:
    name = f"ocop-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)


def _env(database_url: str, instance: Path, namespace: str) -> dict[str, str]:
    return {
        **os.environ,
        "OCOP_DATABASE_URL": database_url,
        "OCOP_INSTANCE": str(instance),
        "OCOP_KEY_PASSPHRASE": TEST_PASSPHRASE,
        "OCOP_SECRET_KEY": "test-secret",
        "OCOP_QUEUE_URL": REDIS_URL,
        "OCOP_QUEUE_NAMESPACE": namespace,
        "OCOP_JOB_CHUNK": str(CHUNK),
        "OCOP_JOB_LEASE": "3",
    }


def _worker(env: dict[str, str]) -> subprocess.Popen:
    ocop = Path(sys.executable).with_name("ocop")
    return subprocess.Popen(
        [str(ocop), "worker"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def _csv_job(app: Flask, request_id: int) -> Job:
    with app.extensions["ocop.db"].transaction() as session:
        return session.scalars(
            select(Job).where(Job.request_id == request_id, Job.output == ".csv")
        ).one()


def test_a_worker_killed_mid_batch_is_resumed_by_the_next(
    app: Flask, world: World, database_url: str, instance: Path, namespace: str
) -> None:
    # The web side of this test sends to Redis too: the console only enqueues.
    web = create_app(
        {
            "database_url": database_url, "instance": instance, "secret_key": "test-secret",
            "rate_limit": None, "TESTING": True, "queue_url": REDIS_URL,
            "queue_namespace": namespace, "job_chunk": CHUNK,
        }
    )
    try:
        producer = sign_in(web.test_client(), world, "producer")
        request_id = _request_id(_submit(producer, lot=LOT, count=str(COUNT)))
        officer = sign_in(web.test_client(), world, "authority")
        assert post(officer, f"/console/stamp-requests/{request_id}/approve").status_code == 302
        page = producer.get(f"/console/stamp-requests/{request_id}").get_data(as_text=True)
        assert "Đang chờ trong hàng đợi" in page  # no worker yet: queued, nothing lost

        env = _env(database_url, instance, namespace)
        first = _worker(env)
        try:
            deadline = time.monotonic() + 120
            while _csv_job(web, request_id).chunks_done < 5:
                assert time.monotonic() < deadline, "the first worker never got going"
                time.sleep(0.02)
            _stop(first, signal.SIGKILL)  # mid-batch, mid-chunk: no goodbye
        finally:
            _stop(first, signal.SIGKILL)
        killed = _csv_job(web, request_id)
        assert killed.status == "running" and 5 <= killed.chunks_done < COUNT // CHUNK
        with web.extensions["ocop.db"].transaction() as session:
            batch_id = session.get_one(StampRequest, request_id).batch_id
            assert session.get_one(StampBatch, batch_id).status is BatchStatus.ISSUING

        second = _worker(env)
        try:
            deadline = time.monotonic() + 240
            while True:
                with web.extensions["ocop.db"].transaction() as session:
                    status = session.get_one(StampRequest, request_id).status
                if status is not RequestStatus.SIGNING:
                    break
                assert time.monotonic() < deadline, "the second worker did not finish the batch"
                time.sleep(0.2)
        finally:
            _stop(second)
        assert status is RequestStatus.ISSUED
        done = _csv_job(web, request_id)
        assert done.status == "done" and done.attempts == 2  # resumed, not started again
        assert done.chunks_done == COUNT // CHUNK

        response = producer.get(f"/console/stamp-requests/{request_id}/stamps.csv")
        assert response.status_code == 200
        rows = list(csv.DictReader(response.get_data(as_text=True).splitlines()))
        assert len(rows) == COUNT and len({r["token"] for r in rows}) == COUNT
        # Printed stamps stay inert until the producer activates them, at packing.
        inert = producer.get(f"/api/v1/verify/{rows[0]['token']}").get_json()
        assert inert["status"] == "suspect" and inert["reasons"] == ["not_activated"]
        activated = post(producer, "/console/stamps/activate",
                         {"batch": str(batch_id), "first": "1", "last": str(COUNT)})
        assert activated.status_code == 302
        # Stamps from before the kill, around it, and after: each verifies, with its serial.
        for index in (0, killed.chunks_done * CHUNK - 1, killed.chunks_done * CHUNK, COUNT - 1):
            verdict = producer.get(f"/api/v1/verify/{rows[index]['token']}").get_json()
            assert rows[index]["serial"] == str(Serial(batch_id, index))
            assert verdict["status"] == "genuine" and verdict["serial"] == rows[index]["serial"]
    finally:
        web.extensions["ocop.queue"].close()
        web.extensions["ocop.db"].dispose()
