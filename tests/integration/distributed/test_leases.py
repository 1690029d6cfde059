"""Failure in seconds, piece by piece, on a real Redis: a worker holds a renewed lease on the batch it runs
and releases it with its reply; a batch of a scan that is over is skipped; a broker outage longer than the
grace puts the batch back instead of acknowledging it, once the broker answers again; a dead coordinator's
scan stops counting as running and the next coordinator counts it as failed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time

import pytest
from harness.ports import Endpoint
from harness.redis import RedisServer
from redis.asyncio import Redis

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.app import create_celery
from linkdoctor.distributed.coordinator import LOST_AFTER, RemotePages
from linkdoctor.distributed.health import read_health
from linkdoctor.distributed.settings import SCAN_TASK, BrokerSettings, async_redis
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec
from linkdoctor.distributed.work import BatchDeferred, await_broker, run_batch

pytestmark = [pytest.mark.timeout(60)]
SETTINGS_TIMEOUT_S = 1.0
FETCH_TIMEOUT_S = 1.5
LEASE_S = 0.4
THAW_AFTER_S = 2.5


def batch_of(scan: str, url: str) -> Batch:
    spec = FetchSpec.from_config(CheckConfig(timeout=FETCH_TIMEOUT_S, retries=0), env={})
    return Batch(scan, "b1", spec, (FetchItem(url, want_body=False),))


def never_publish(batch: Batch) -> None:
    raise AssertionError("nothing is published here")


async def test_a_batch_holds_a_renewed_lease_while_it_runs_and_releases_it_with_its_reply(
    redis_server: RedisServer, silent_server: Endpoint
) -> None:
    settings = BrokerSettings(redis_server.url)
    keys = settings.keys
    client = redis_server.client()
    client.zadd(keys.running_scans, {"s1": time.time()})
    redis = async_redis(settings)
    try:
        run = asyncio.create_task(
            run_batch(
                batch_of("s1", silent_server.url("/slow")),
                redis=redis,
                keys=keys,
                store=None,
                worker="w@test",
                key_ttl=60,
                lease_ttl=LEASE_S,
            )
        )
        deadlines = set()
        while not run.done():  # the server never answers: the fetch takes its whole timeout
            lease = client.hget(keys.leases("s1"), "b1")
            if lease is not None:
                text = lease.decode() if isinstance(lease, bytes) else str(lease)
                deadline, _, holder = text.partition("|")
                assert holder == "w@test"
                deadlines.add(int(deadline))
            await asyncio.sleep(0.05)
        assert await run == 1
    finally:
        await redis.aclose()
    assert len(deadlines) >= 3  # renewed, not set once
    assert client.hget(keys.leases("s1"), "b1") is None  # released with the reply
    (reply,) = client.lrange(keys.replies("s1"), 0, -1)
    assert json.loads(reply)["batch"] == "b1"


async def test_a_batch_of_a_scan_that_is_over_is_skipped(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    redis = async_redis(settings)
    try:
        done = await run_batch(
            batch_of("finished", "http://127.0.0.1:9/"), redis=redis, keys=settings.keys, store=None,
            worker="w@test", key_ttl=60,
        )  # fmt: skip
    finally:
        await redis.aclose()
    assert done == 0
    assert redis_server.client().llen(settings.keys.replies("finished")) == 0


async def test_a_broker_outage_longer_than_the_grace_puts_the_batch_back_only_once_the_broker_answers(
    closed_port: int,
) -> None:
    settings = BrokerSettings(f"redis://127.0.0.1:{closed_port}/0", connect_timeout=SETTINGS_TIMEOUT_S)
    pauses: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    redis = async_redis(settings)
    try:
        with pytest.raises(BatchDeferred, match="scan gone"):
            await run_batch(
                batch_of("gone", "http://127.0.0.1:9/"), redis=redis, keys=settings.keys, store=None,
                worker="w@test", key_ttl=60, outage_grace=20.0, sleep=sleep, clock=lambda: now[0],
                stopping=lambda: now[0] >= 90.0,  # the worker told to stop, the broker still away
            )  # fmt: skip
    finally:
        await redis.aclose()
    assert pauses[:4] == [0.5, 1.0, 2.0, 4.0]  # backing off, run again each time
    # Handed back through a broker that is away, Celery's reject fails and its consumer takes no message
    # again: past the grace the worker waits for the broker, a PING a second, until it must stop.
    assert now[0] >= 90.0
    assert pauses[-5:] == [1.0] * 5


async def test_a_worker_waiting_for_the_broker_goes_on_once_it_answers(redis_server: RedisServer) -> None:
    redis = async_redis(BrokerSettings(redis_server.url, socket_timeout=1.0))
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        waiting = asyncio.create_task(await_broker(redis))
        await asyncio.sleep(2.5)
        assert not waiting.done()  # frozen: every PING times out
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    try:
        thawed = time.monotonic()
        await asyncio.wait_for(waiting, timeout=10)
        assert time.monotonic() - thawed < 5.0
        stopped = time.monotonic()
        os.kill(redis_server.process.pid, signal.SIGSTOP)
        try:
            await asyncio.wait_for(await_broker(redis, stopping=lambda: True), timeout=5)
        finally:
            os.kill(redis_server.process.pid, signal.SIGCONT)
        assert time.monotonic() - stopped < 1.0  # a worker shutting down does not wait
    finally:
        await redis.aclose()


def test_a_scan_job_is_handed_back_to_celery_only_once_the_broker_answers(redis_server: RedisServer) -> None:
    app = create_celery(BrokerSettings(redis_server.url, socket_timeout=1.0))
    pid = redis_server.process.pid
    os.kill(pid, signal.SIGSTOP)
    thaw = threading.Timer(THAW_AFTER_S, os.kill, (pid, signal.SIGCONT))
    started = time.monotonic()
    thaw.start()
    try:
        with pytest.raises(ValueError, match="not a scan job"):
            app.tasks[SCAN_TASK]({"scan_id": "nope"})
    finally:
        thaw.cancel()
        os.kill(pid, signal.SIGCONT)
        app.close()
    assert time.monotonic() - started >= THAW_AFTER_S  # acknowledged through the broker: waited for it


async def test_every_redis_client_of_the_distributed_mode_times_out(redis_server: RedisServer) -> None:
    redis: Redis = async_redis(BrokerSettings(redis_server.url, socket_timeout=2.5, connect_timeout=1.5))
    try:
        kwargs = redis.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (2.5, 1.5)
    finally:
        await redis.aclose()


async def test_a_dead_coordinator_s_scan_stops_counting_as_running_and_counts_as_failed(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    client = redis_server.client()
    redis = async_redis(settings)
    try:
        # A coordinator whose last beat was 100 s ago: killed without a chance to say so.
        dead = RemotePages(
            settings,
            spec,
            scan="dead",
            redis=redis,
            publish=never_publish,
            wall_clock=lambda: time.time() - 100,
        )
        await dead.__aenter__()
        assert dead._listener is not None
        dead._listener.cancel()
        assert read_health(client, settings).scans_running == 0  # silent too long: not running

        async with RemotePages(settings, spec, scan="alive", redis=redis, publish=never_publish) as alive:
            health = read_health(client, settings)
            assert (health.scans_running, health.scans_failed) == (1, 1)
            assert alive.dead_scans_cleaned == 1
            assert client.zrange(settings.keys.running_scans, 0, -1) == [b"alive"]
        health = read_health(client, settings)
        assert (health.scans_running, health.scans_finished, health.scans_failed) == (0, 1, 1)
        assert client.zcard(settings.keys.running_scans) == 0
    finally:
        await redis.aclose()


async def test_replies_leave_their_list_only_once_read(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    client = redis_server.client()
    key = settings.keys.replies("r")
    redis = async_redis(settings)
    try:
        pages = RemotePages(settings, spec, scan="r", redis=redis, publish=never_publish)
        client.rpush(key, "1", "2", "3")
        assert sorted(await pages._take_replies(key)) == [b"1", b"2", b"3"]
        assert client.llen(key) == 0
        waiting = asyncio.create_task(pages._take_replies(key))  # nothing there: waits without taking
        await asyncio.sleep(0.2)
        client.rpush(key, "4")
        assert await asyncio.wait_for(waiting, 5) == []
        assert client.lrange(key, 0, -1) == [b"4"]  # still there for the next read
    finally:
        await redis.aclose()


async def test_a_batch_neither_queued_nor_leased_is_sent_again_after_seconds(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    published: list[Batch] = []
    now = [1000.0]
    redis = async_redis(settings)
    try:
        pages = RemotePages(
            settings, spec, scan="l", redis=redis, publish=published.append, clock=lambda: now[0]
        )
        await pages._send((FetchItem("http://a.test/", want_body=True),))
        now[0] += LOST_AFTER - 1
        await pages._redispatch_overdue(set())
        assert len(published) == 1  # not yet
        redis_server.client().rpush(settings.queue, "someone else's batch")
        now[0] += 2
        await pages._redispatch_overdue(set())
        assert len(published) == 1  # the queue is not empty: it may still be waiting there
        redis_server.client().delete(settings.queue)
        await pages._redispatch_overdue({published[0].id})
        assert len(published) == 1  # a worker holds its lease: it runs
        await pages._redispatch_overdue(set())
        assert [i.url for i in published[1].items] == ["http://a.test/"]  # lost: sent again
    finally:
        await redis.aclose()
