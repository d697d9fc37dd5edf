"""The task queue: Dramatiq, on Redis (or RabbitMQ) in production, in-process otherwise.

Why Dramatiq (bench/queue_choice.py has the figures): it costs a few
milliseconds a task, needs only the Redis a deployment already runs for its
shared rate limits (or RabbitMQ), runs workers on any number of machines, and
its own stub broker with an in-process worker thread gives the embedded mode
``ocop demo`` needs on SQLite, from the same code. None of the three queues
measured (Dramatiq, RQ, Procrastinate) ran a job again soon after its worker
was killed with SIGKILL, so resuming is ours anyway (:mod:`.jobs`): the
message is only a job id, and a sweep in every worker resends jobs whose lease
lapsed or whose message was lost, and asks for the daily jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import dramatiq
from dramatiq.brokers.stub import StubBroker

from ocop.trace.db import vietnam_today

from . import jobs
from .certificate_jobs import schedule_daily

log = logging.getLogger(__name__)

QUEUE_NAME = "ocop-jobs"
SWEEP_SECONDS = 15.0
_DAY_MS = 24 * 3600 * 1000


class QueueUnavailable(Exception):
    """The broker cannot be reached."""


class TaskQueue:
    """Jobs' ids through a Dramatiq broker, and the workers that run them.

    ``url`` ``None`` is the embedded mode: a stub broker in this process, whose
    worker thread starts with the first job sent (or :meth:`start_embedded`).
    """

    def __init__(
        self,
        url: str | None,
        context: Callable[[], jobs.JobContext],
        *,
        namespace: str = "ocop",
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.sweep_seconds = sweep_seconds
        self.url = url
        self.embedded = url is None
        self._context_factory = context
        self._lock = threading.Lock()
        self._worker: dramatiq.Worker | None = None
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()
        self.broker = _broker(url, namespace)
        self.actor = dramatiq.Actor(
            self._perform,
            broker=self.broker,
            actor_name="ocop_run_job",
            queue_name=QUEUE_NAME,
            priority=0,
            # Jobs resume by chunks, not by retries: a short retry covers a database
            # blip; a job runs as long as it must (a million PDF labels take minutes).
            options={"max_retries": 3, "min_backoff": 1000, "max_backoff": 30_000,
                     "time_limit": _DAY_MS, "max_age": 7 * _DAY_MS},
        )

    # -- sending

    def enqueue(self, job_id: int) -> bool:
        if self.embedded:
            self.start_embedded()
        try:
            self.actor.send(job_id)
        # The broker's client raises its own errors (redis, pika) as well as Dramatiq's:
        # whatever the reason the message was not taken, the job waits in our table.
        except Exception as error:
            log.warning("the queue is unavailable (%s); job %s waits", error, job_id)
            return False
        return True

    # -- working

    def context(self) -> jobs.JobContext:
        # Built for each job, cheaply: it carries the settings in force when the job runs.
        return self._context_factory()

    def _perform(self, job_id: int) -> None:
        jobs.run_job(self.context(), job_id)

    def start_worker(self, threads: int = 1) -> None:
        """Run jobs in this process (``threads`` at once) and sweep now and then."""
        with self._lock:
            if self._worker is not None:
                return
            self._worker = dramatiq.Worker(
                self.broker, queues={QUEUE_NAME}, worker_threads=threads, worker_timeout=200
            )
            self._worker.start()
            self._stop.clear()
            self._sweeper = threading.Thread(
                target=self._sweep_forever, name="ocop-job-sweeper", daemon=True
            )
            self._sweeper.start()

    def start_embedded(self) -> None:
        if self.embedded:
            self.start_worker(threads=1)

    def sweep(self) -> list[int]:
        """Resend lapsed and lost jobs, and ask for today's daily jobs; their ids."""
        context = self.context()
        with context.database.transaction() as session:
            ids = jobs.recover(session)
            daily = schedule_daily(session, vietnam_today())
        if daily is not None:
            ids.append(daily)
        for job_id in ids:
            self.enqueue(job_id)  # one the queue refuses now waits for the next sweep
        return ids

    def _sweep_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:  # the database or the broker is down: try at the next sweep
                log.exception("job sweep failed")
            self._stop.wait(self.sweep_seconds)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every job sent so far has run (the embedded mode; tests)."""
        if isinstance(self.broker, StubBroker):
            self.broker.join(QUEUE_NAME, timeout=int(timeout * 1000), fail_fast=True)
        if self._worker is not None:
            self._worker.join()

    def stop_worker(self, grace: float | None = None) -> None:
        """Stop this process's worker and sweeper; the next job sent starts them again.

        ``grace``: seconds to wait for the jobs in hand (Dramatiq's default is ten
        minutes). A worker told to stop need not wait long: a job it leaves is resumed
        from its last chunk by another worker once the lease lapses.
        """
        self._stop.set()
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            if grace is None:
                worker.stop()
            else:
                worker.stop(timeout=int(grace * 1000))
        if self._sweeper is not None:
            self._sweeper.join(5)
            self._sweeper = None

    def close(self, grace: float | None = None) -> None:
        self.stop_worker(grace)
        self.broker.close()


def _broker(url: str | None, namespace: str) -> dramatiq.Broker:
    if url is None:
        return StubBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        # The broker's own recovery of a dead worker's messages is a bonus: ours is
        # the lease (jobs.recover), which does not depend on it.
        return RedisBroker(url=url, namespace=namespace, heartbeat_timeout=30_000)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError("OCOP_QUEUE_URL must start with redis://, rediss:// or amqp://")


__all__ = ["QUEUE_NAME", "TaskQueue"]
