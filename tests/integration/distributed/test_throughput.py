"""What keeps the distributed mode's per-batch overhead down, on a real Redis: a worker process keeps its
HTTP session (connection pool, DNS cache) from one batch to the next, per scan's fetch options, and closes
the least recently used one beyond its bound; closing a scan does not wait out a long blocking read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from harness.ports import free_port
from harness.redis import RedisServer

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.coordinator import RemotePages
from linkdoctor.distributed.settings import BrokerSettings, async_redis
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec
from linkdoctor.distributed.work import FetchKits, fetch_batch

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

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", ports
    finally:
        await runner.cleanup()


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
