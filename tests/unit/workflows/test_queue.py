"""The queue adapter: which broker a URL names, and a broker that does not answer."""

from __future__ import annotations

import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from ocop.workflows.queue import TaskQueue


def _never():  # the context is built only when a job runs; these tests run none
    raise AssertionError("no job should run")


def test_no_url_is_the_embedded_mode():
    queue = TaskQueue(None, _never)
    try:
        assert queue.embedded and isinstance(queue.broker, StubBroker)
    finally:
        queue.close()


def test_a_redis_url_is_a_redis_broker_under_its_namespace():
    queue = TaskQueue("redis://127.0.0.1:6379/2", _never, namespace="ocop-unit")
    try:
        assert not queue.embedded and isinstance(queue.broker, RedisBroker)
        assert queue.broker.namespace == "ocop-unit"
    finally:
        queue.close()


def test_a_url_naming_no_broker_is_refused():
    with pytest.raises(ValueError, match="OCOP_QUEUE_URL"):
        TaskQueue("http://127.0.0.1:6379", _never)


def test_a_broker_that_does_not_answer_is_reported_not_raised():
    queue = TaskQueue("redis://127.0.0.1:5419/2", _never)  # nothing listens there
    try:
        assert queue.enqueue(1) is False
    finally:
        queue.close()
