"""What keeps the distributed mode's per-batch overhead down, on a real Redis: a worker process keeps its
HTTP session (connection pool, DNS cache) from one batch to the next, per scan's fetch options, and closes
the least recently used one beyond its bound; a batch costs the broker two round trips besides its host
limiter's (the lease taken only while the scan runs; the reply, the lease's release and the counters);
closing a scan does not wait out a long blocking read; the coordinator keeps work in flight for every batch
slot of the live workers, not a fixed count."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio.connection
from aiohttp import web
from harness.ports import free_port
from harness.redis import RedisServer
from tests.support.aiohttp_site import serving

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.coordinator import RemotePages
from linkdoctor.distributed.health import STALE_AFTER, Heartbeat, in_flight_cap
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings, async_redis
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec
from linkdoctor.distributed.work import FetchKits, fetch_batch, run_batch
from linkdoctor.engine.inputs import Inputs

pytestmark = [pytest.mark.timeout(60)]


@pytest.fixture
async def peer_ports() -> AsyncIterator[tuple[str, set[int]]]:
    """A server answering every path, noting the client port of each connection it serves."""
    ports: set[int] = set()

    async def answer(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            ports.add(int(peer[1]))
        return web.Response(text="<html><body><a href='/x'>x</a></body></html>", content_type="text/html")

    async with serving(answer) as base:
        yield base.rstrip("/"), ports


def batch(n: int, base: str, spec: FetchSpec) -> Batch:
    return Batch("s", f"b{n}", spec, (FetchItem(f"{base}/{n}", want_body=True),))


async def test_a_worker_s_batches_share_one_http_session_and_its_connections(
    redis_server: RedisServer, peer_ports: tuple[str, set[int]]
) -> None:
    base, ports = peer_ports
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(retries=0), env={})
    redis = async_redis(settings)
    kits = FetchKits(redis, settings.keys, {})
    try:
        for n in range(3):  # one after another, as a worker takes them
            fetched = await fetch_batch(
                batch(n, base, spec), redis=redis, keys=settings.keys, env={}, kits=kits
            )
            assert [p.result.status for p in fetched.pages.values()] == [200]
        assert len(ports) == 1  # one kept-alive connection, not one per batch
        assert len(kits) == 1
    finally:
        await kits.aclose()
        await redis.aclose()


async def test_without_kept_sessions_each_batch_opens_its_own_connection(
    redis_server: RedisServer, peer_ports: tuple[str, set[int]]
) -> None:
    base, ports = peer_ports
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(retries=0), env={})
    redis = async_redis(settings)
    try:
        for n in range(3):
            await fetch_batch(batch(n, base, spec), redis=redis, keys=settings.keys, env={})
    finally:
        await redis.aclose()
    assert len(ports) == 3  # what the kept session saves


async def test_a_worker_keeps_a_bounded_number_of_sessions_closing_the_least_recently_used(
    redis_server: RedisServer, peer_ports: tuple[str, set[int]]
) -> None:
    base, _ = peer_ports
    settings = BrokerSettings(redis_server.url)
    specs = [FetchSpec.from_config(CheckConfig(retries=0, timeout=10 + n), env={}) for n in range(3)]
    redis = async_redis(settings)
    kits = FetchKits(redis, settings.keys, {}, keep=2)
    try:
        for n, spec in enumerate(specs):
            await fetch_batch(batch(n, base, spec), redis=redis, keys=settings.keys, env={}, kits=kits)
        assert [spec in kits for spec in specs] == [False, True, True]
        async with kits.use(specs[1]), kits.use(specs[2]), kits.use(specs[0]):
            assert len(kits) == 3  # all in use: none is closed under a batch
        async with kits.use(specs[0]):
            assert [spec in kits for spec in specs] == [True, False, True]  # the least recently used went
    finally:
        await kits.aclose()
        await redis.aclose()


class _Spy:
    """A Redis client noting the timeout of every blocking wait for a reply."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self.waits: list[float] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)

    async def blmove(self, first: str, second: str, wait: float, src: str, dest: str) -> Any:
        self.waits.append(wait)
        return await self._redis.blmove(first, second, wait, src, dest)


async def test_a_batch_costs_two_broker_round_trips_besides_its_host_limiter_s(
    redis_server: RedisServer, peer_ports: tuple[str, set[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = peer_ports
    settings = BrokerSettings(redis_server.url)
    redis_server.client().zadd(settings.keys.running_scans, {"s": time.time()})
    spec = FetchSpec.from_config(CheckConfig(retries=0, respect_robots=False), env={})
    items = tuple(FetchItem(f"{base}/{n}", want_body=True) for n in range(4))
    sends: list[int] = []
    real = redis.asyncio.connection.AbstractConnection.send_packed_command

    async def counted(self: Any, command: Any, check_health: bool = True) -> None:
        sends.append(1)  # one packed send: one round trip (a pipeline sends all its commands at once)
        await real(self, command, check_health)

    monkeypatch.setattr(redis.asyncio.connection.AbstractConnection, "send_packed_command", counted)
    client = async_redis(settings)
    kits = FetchKits(client, settings.keys, {})
    try:
        for n in range(2):  # the first batch loads the scripts; the second is measured
            sends.clear()
            run = Batch("s", f"b{n}", spec, items)
            assert (
                await run_batch(
                    run, redis=client, keys=settings.keys, store=None, worker="w", key_ttl=60, kits=kits
                )
                == 4
            )
    finally:
        await kits.aclose()
        await client.aclose()
    limiter = 2 * len(items)  # a slot taken and given back per request
    assert len(sends) == limiter + 2
    counters = redis_server.client().hgetall(settings.keys.counters)
    assert int(counters[b"checks"]) == 8 and int(counters[b"batches"]) == 2  # counted with the reply


async def test_the_coordinator_s_wait_for_replies_is_short_so_closing_a_scan_never_waits_a_second(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    redis = async_redis(settings)
    spy = _Spy(redis)
    try:
        async with RemotePages(settings, spec, scan="w", redis=spy, publish=lambda _: None):  # type: ignore[arg-type]
            await asyncio.sleep(0.3)
    finally:
        await redis.aclose()
    assert spy.waits and max(spy.waits) < 0.5


def test_the_in_flight_cap_follows_the_batch_slots_of_the_live_workers(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    assert in_flight_cap(settings, 128) == 128  # no worker: --max-concurrency
    Heartbeat(client, settings, "a@test", slots=8).beat()
    Heartbeat(client, settings, "b@test", slots=4).beat()
    Heartbeat(client, settings, "gone@test", slots=64, clock=lambda: time.time() - STALE_AFTER - 1).beat()
    assert in_flight_cap(settings, 128) == 2 * 12 * settings.page_batch  # two batches per live slot
    assert in_flight_cap(settings, 1000) == 1000  # never below --max-concurrency
    assert in_flight_cap(BrokerSettings(f"redis://127.0.0.1:{free_port()}/0"), 7) == 7  # no broker


async def test_the_coordinator_keeps_work_in_flight_for_every_live_worker_slot(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    Heartbeat(client, settings, "big@test", slots=8).beat()  # beats, takes nothing: the work stays queued
    config = CheckConfig(max_concurrency=4, respect_robots=False, retries=0)
    inputs = Inputs(links=tuple((f"http://127.0.0.1:9/{n}", "list.txt", n) for n in range(400)))
    run = asyncio.create_task(check_distributed(config, inputs, settings, scan="cap", env={}))
    try:
        deadline = time.monotonic() + 20
        while client.scard(settings.keys.seen("cap")) < 2 * 8 * settings.page_batch:
            assert time.monotonic() < deadline, f"{client.scard(settings.keys.seen('cap'))} fetches in flight"
            assert not run.done()
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert client.scard(settings.keys.seen("cap")) == 2 * 8 * settings.page_batch  # and no more
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
