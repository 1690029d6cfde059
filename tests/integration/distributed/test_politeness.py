"""Politeness holds across workers: with a per-host limit of 4, the server never has more than 4 requests
from all workers together in flight (counted at the server), and a Retry-After pauses the host for all."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from harness.redis import RedisServer
from tests.integration.distributed.conftest import StartWorker
from tests.support.aiohttp_site import serving

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.models import Category

pytestmark = pytest.mark.timeout(180)
LEAVES = 240
PAGES = 8
DELAY_S = 0.03
RETRY_AFTER_S = 2


@dataclass
class CountingServer:
    """Pages linking to many leaves; every answer takes ``DELAY_S``; in-flight requests are counted."""

    in_flight: int = 0
    peak: int = 0
    served: int = 0
    started: list[float] = field(default_factory=list)
    throttle: str | None = None  # this path answers 429 with Retry-After once
    throttled_at: float | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.served += 1
        self.started.append(time.monotonic())
        try:
            await asyncio.sleep(DELAY_S)
            path = request.path
            if path == self.throttle and self.throttled_at is None:
                self.throttled_at = time.monotonic()
                return web.Response(status=429, headers={"Retry-After": str(RETRY_AFTER_S)})
            if path == "/":
                links = "".join(f'<a href="/page-{i}.html">p{i}</a>' for i in range(PAGES))
                return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")
            if path.startswith("/page-"):
                page = int(path.removeprefix("/page-").removesuffix(".html"))
                links = "".join(f'<a href="/leaf-{n}.txt">l{n}</a>' for n in range(page, LEAVES, PAGES))
                return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")
            if path.startswith("/leaf-"):
                return web.Response(text="leaf", content_type="text/plain")
            return web.Response(status=404, text="no")
        finally:
            self.in_flight -= 1


@asynccontextmanager
async def counting_server() -> AsyncIterator[tuple[CountingServer, str]]:
    counter = CountingServer()
    async with serving(counter.handle) as base:
        yield counter, base


async def test_per_host_limit_holds_across_all_workers(
    redis_server: RedisServer, start_worker: StartWorker
) -> None:
    start_worker("p1@test")
    start_worker("p2@test")
    settings = BrokerSettings(redis_server.url, link_batch=64)
    config = CheckConfig(max_per_host=4, retries=0, respect_robots=False)

    async with counting_server() as (counter, url):
        report = await check_distributed(config, collect_inputs([url]), settings)

    assert sum(1 for r in report.results if r.category is Category.OK) == 1 + PAGES + LEAVES
    assert counter.peak <= 4
    assert counter.peak >= 3  # the workers did push: the cap, not a lack of work, held them


async def test_retry_after_from_one_worker_pauses_the_host_for_all(
    redis_server: RedisServer, start_worker: StartWorker
) -> None:
    start_worker("r1@test")
    start_worker("r2@test")
    settings = BrokerSettings(redis_server.url, link_batch=16)
    config = CheckConfig(max_per_host=4, retries=1, respect_robots=False)

    async with counting_server() as (counter, url):
        counter.throttle = "/leaf-40.txt"
        report = await check_distributed(config, collect_inputs([url]), settings)

    assert counter.throttled_at is not None
    paused = [
        t
        for t in counter.started
        if counter.throttled_at + 0.2 < t < counter.throttled_at + RETRY_AFTER_S - 0.2
    ]
    assert paused == []
    assert sum(1 for r in report.results if r.category is Category.OK) == 1 + PAGES + LEAVES
