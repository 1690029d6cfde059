"""The Redis host limiter, shared by limiters that stand for different workers: one cap, one interval and
one pause per host across all of them."""

from __future__ import annotations

import asyncio
import itertools
import time

from harness.redis import RedisServer
from redis.asyncio import Redis

from linkdoctor.config import CheckConfig, HostSettings
from linkdoctor.distributed.limiter import RedisHostLimiter
from linkdoctor.distributed.settings import Keys

KEYS = Keys("test")


async def test_two_workers_share_one_cap_per_host(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url)
    config = CheckConfig(max_per_host=3)
    limiters = [RedisHostLimiter(redis, KEYS, config), RedisHostLimiter(redis, KEYS, config)]
    in_flight = peak = 0

    async def request(limiter: RedisHostLimiter) -> None:
        nonlocal in_flight, peak
        async with limiter.slot("a.example"):
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.02)
            in_flight -= 1

    await asyncio.wait_for(asyncio.gather(*(request(limiters[i % 2]) for i in range(30))), timeout=30)
    await redis.aclose()
    assert peak == 3


async def test_a_host_interval_spaces_requests_of_all_workers(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url)
    config = CheckConfig(host_settings=(HostSettings(("slow.example",), interval=0.1),))
    limiters = [RedisHostLimiter(redis, KEYS, config), RedisHostLimiter(redis, KEYS, config)]
    started: list[float] = []

    async def request(limiter: RedisHostLimiter) -> None:
        async with limiter.slot("slow.example"):
            started.append(time.monotonic())

    await asyncio.wait_for(asyncio.gather(*(request(limiters[i % 2]) for i in range(6))), timeout=30)
    await redis.aclose()
    gaps = [b - a for a, b in zip(sorted(started), sorted(started)[1:], strict=False)]
    assert min(gaps) >= 0.08


async def test_a_pause_from_one_worker_holds_the_other(redis_server: RedisServer) -> None:
    redis = Redis.from_url(redis_server.url)
    config = CheckConfig()
    first, second = RedisHostLimiter(redis, KEYS, config), RedisHostLimiter(redis, KEYS, config)
    await first.pause_async("busy.example", 0.5)
    began = time.monotonic()
    async with second.slot("busy.example"):
        waited = time.monotonic() - began
    assert await second.paused_for_async("busy.example") == 0
    await redis.aclose()
    assert waited >= 0.4


async def test_a_host_interval_counts_from_the_end_of_the_previous_request(redis_server: RedisServer) -> None:
    """A slow request (one that lands late at the server) delays the next by the whole interval after it."""
    redis = Redis.from_url(redis_server.url)
    config = CheckConfig(max_per_host=4, host_settings=(HostSettings(("slow.example",), interval=0.1),))
    limiters = [RedisHostLimiter(redis, KEYS, config), RedisHostLimiter(redis, KEYS, config)]
    spans: list[tuple[float, float]] = []

    async def request(limiter: RedisHostLimiter) -> None:
        async with limiter.slot("slow.example"):
            began = time.monotonic()
            await asyncio.sleep(0.15)  # longer than the interval: only the release can space the next one
            spans.append((began, time.monotonic()))

    await asyncio.wait_for(asyncio.gather(*(request(limiters[i % 2]) for i in range(4))), timeout=30)
    await redis.aclose()
    spans.sort()
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(spans)]
    assert min(gaps) >= 0.08  # from each end to the next start, not from start to start
