"""``/metrics`` counts as in progress the batches a worker really works on: those under a live lease. A
``kill -9``'d worker's batch stays unacknowledged in Celery until the visibility timeout (300 s), but it stops
counting once its lease lapses; a lapsed lease of another scan never counts."""

from __future__ import annotations

import time

import pytest
from harness.ports import Endpoint
from harness.redis import RedisServer
from tests.integration.distributed.conftest import StartWorker

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.app import celery_publisher, create_celery
from linkdoctor.distributed.health import read_health
from linkdoctor.distributed.settings import DEFAULT_LEASE_TTL, BrokerSettings
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec

pytestmark = [pytest.mark.timeout(90)]
WAIT_S = 20.0


def wait_until(condition: object, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_killed_worker_s_batch_stops_counting_as_in_progress_once_its_lease_lapses(
    redis_server: RedisServer, silent_server: Endpoint, start_worker: StartWorker
) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    client.zadd(settings.keys.running_scans, {"m1": time.time()})
    victim = start_worker("victim@test")
    spec = FetchSpec.from_config(CheckConfig(timeout=60, retries=0), env={})
    app = create_celery(settings)
    try:  # the server never answers: the batch runs until the worker dies
        celery_publisher(app, settings)(Batch("m1", "b1", spec, (FetchItem(silent_server.url("/"), False),)))
    finally:
        app.close()

    wait_until(lambda: read_health(client, settings).in_progress == 1, "the batch never counted")
    victim.kill()
    killed = time.monotonic()
    assert read_health(client, settings).in_progress == 1  # its lease still runs

    wait_until(
        lambda: read_health(client, settings).in_progress == 0,
        "a dead worker's batch still counts",
        timeout=DEFAULT_LEASE_TTL + 5,
    )
    assert time.monotonic() - killed >= DEFAULT_LEASE_TTL / 2
    assert client.hlen("unacked") == 1  # Celery still holds the message: it is no measure of the work


def test_each_worker_counts_the_batches_it_holds_a_live_lease_on(
    redis_server: RedisServer, silent_server: Endpoint, start_worker: StartWorker
) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    client.zadd(settings.keys.running_scans, {"m2": time.time()})
    start_worker("busy@test", pool="threads", concurrency=2)
    spec = FetchSpec.from_config(CheckConfig(timeout=30, retries=0), env={})
    app = create_celery(settings)
    try:
        publish = celery_publisher(app, settings)
        for n in (1, 2):
            publish(Batch("m2", f"b{n}", spec, (FetchItem(silent_server.url(f"/{n}"), False),)))
    finally:
        app.close()

    wait_until(lambda: read_health(client, settings).in_progress == 2, "two batches at once never counted")
    (worker,) = read_health(client, settings).workers
    assert (worker.name, worker.in_progress) == ("busy@test", 2)
    assert client.hget(settings.keys.worker_stats("busy@test"), "slots") == b"2"  # what it beats


def test_only_live_leases_of_running_scans_count(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    keys = settings.keys
    client = redis_server.client()
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    client.zadd(keys.running_scans, {"a": time.time(), "b": time.time()})
    client.hset(keys.leases("a"), mapping={"a1": f"{now_ms + 10_000}|w1@t", "a2": f"{now_ms - 1}|w2@t"})
    client.hset(keys.leases("b"), mapping={"b1": f"{now_ms + 10_000}|w1@t"})
    client.hset(keys.leases("gone"), mapping={"g1": f"{now_ms + 10_000}|w2@t"})  # not a running scan
    client.hset("unacked", mapping={"x1": "{}", "x2": "{}", "x3": "{}"})

    assert read_health(client, settings).in_progress == 2
