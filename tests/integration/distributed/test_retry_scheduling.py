"""Retries never block unrelated work: a worker hands a URL worth another attempt (a 503) back with its
backoff instead of sleeping on it, so its batch ends with the other pages at once; the coordinator sends
that one URL again when its pause is over, as a batch of its own, and the crawler gets its final answer."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from harness.redis import RedisServer

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.coordinator import RemotePages
from linkdoctor.distributed.limiter import RedisHostLimiter
from linkdoctor.distributed.settings import BrokerSettings, async_redis
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_to_json
from linkdoctor.distributed.work import fetch_batch
from linkdoctor.engine.fetching import Page
from linkdoctor.models import Category, CheckResult

pytestmark = [pytest.mark.timeout(60)]
CONFIG = CheckConfig(retries=2, retry_backoff=5.0)
WAIT_S = 10.0


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="fine")

    async def busy(request: web.Request) -> web.Response:
        return web.Response(status=503)

    async def throttled(request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": request.query.get("after", "3")})

    app = web.Application()
    app.router.add_route("*", "/throttled", throttled)
    app.router.add_route("*", "/ok", ok)
    app.router.add_route("*", "/busy", busy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_a_worker_hands_a_url_in_backoff_back_instead_of_waiting_for_it(
    redis_server: RedisServer, server: str
) -> None:
    settings = BrokerSettings(redis_server.url)
    spec = FetchSpec.from_config(CONFIG, env={})
    busy, ok = FetchItem(f"{server}/busy", want_body=False), FetchItem(f"{server}/ok", want_body=False)
    redis = async_redis(settings)
    try:
        fetched = await fetch_batch(
            Batch("s", "b1", spec, (busy, ok)), redis=redis, keys=settings.keys, env={}, rng=random.Random(1)
        )
        again = await fetch_batch(
            Batch("s", "b2", spec, (FetchItem(busy.url, want_body=False, attempt=2),)),
            redis=redis, keys=settings.keys, env={},
        )  # fmt: skip
    finally:
        await redis.aclose()
    assert set(fetched.pages) == {ok.key}  # the good page is answered now, not after the 503's backoff
    ((item, pause),) = fetched.retries
    assert (item.key, item.attempt) == (busy.key, 1)
    assert 0.5 * CONFIG.retry_backoff <= pause <= 1.5 * CONFIG.retry_backoff
    # Out of attempts: the 503 is the answer.
    assert again.retries == ()
    assert again.pages[busy.key].result.status == 503


async def test_a_retry_after_pauses_the_host_for_every_worker_and_sets_the_pause(
    redis_server: RedisServer, server: str
) -> None:
    settings = BrokerSettings(redis_server.url)
    config = CheckConfig(retries=2, max_retry_after=10.0)
    spec = FetchSpec.from_config(config, env={})
    soon = FetchItem(f"{server}/throttled?after=3", want_body=False)
    late = FetchItem(f"{server}/throttled?after=60", want_body=False)
    redis = async_redis(settings)
    try:
        fetched = await fetch_batch(Batch("s", "b1", spec, (soon,)), redis=redis, keys=settings.keys, env={})
        paused = await RedisHostLimiter(redis, settings.keys, config).paused_for_async("127.0.0.1")
        final = await fetch_batch(Batch("s", "b2", spec, (late,)), redis=redis, keys=settings.keys, env={})
    finally:
        await redis.aclose()
    assert [(item.key, pause) for item, pause in fetched.retries] == [(soon.key, 3.0)]
    assert 1.0 < paused <= 3.0  # every worker waits, not only the one that was told
    assert final.retries == ()  # longer than --max-retry-after: the 429 is the answer
    assert final.pages[late.key].result.status == 429


async def test_the_coordinator_sends_a_url_again_alone_once_its_backoff_is_over(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url, batch_wait=0.0)
    spec = FetchSpec.from_config(CONFIG, env={})
    client = redis_server.client()
    published: list[Batch] = []
    redis = async_redis(settings)

    async def next_batch(count: int) -> Batch:
        deadline = time.monotonic() + WAIT_S
        while len(published) < count:
            assert time.monotonic() < deadline, "nothing was published"
            await asyncio.sleep(0.01)
        return published[count - 1]

    def reply(batch: Batch, **fields: object) -> None:
        client.rpush(
            settings.keys.replies("s"), json.dumps({"batch": batch.id, "worker": "w@test", **fields})
        )

    try:
        async with RemotePages(settings, spec, scan="s", redis=redis, publish=published.append) as pages:
            busy = asyncio.create_task(pages.page("http://a.test/busy", want_body=False))
            ok = asyncio.create_task(pages.page("http://a.test/ok", want_body=False))
            first = await next_batch(1)
            assert {i.url for i in first.items} == {"http://a.test/busy", "http://a.test/ok"}
            busy_item = next(i for i in first.items if i.url.endswith("/busy"))
            ok_item = next(i for i in first.items if i.url.endswith("/ok"))
            answer = Page(CheckResult(ok_item.url, Category.OK, status=200))
            retry = FetchItem(busy_item.url, want_body=False, attempt=1)
            reply(first, pages={ok_item.key: page_to_json(answer)}, retry=[[retry.to_json(), 0.3]])

            assert (await asyncio.wait_for(ok, WAIT_S)).result.status == 200  # not held up by the retry
            assert not busy.done()
            second = await next_batch(2)
            assert [(i.url, i.attempt) for i in second.items] == [(busy_item.url, 1)]
            final = Page(CheckResult(busy_item.url, Category.BROKEN, status=503))
            reply(second, pages={busy_item.key: page_to_json(final)})
            assert (await asyncio.wait_for(busy, WAIT_S)).result.status == 503
            assert pages.retries == 1
    finally:
        await redis.aclose()


def test_a_fetch_keeps_its_attempt_count_and_its_key_on_the_wire() -> None:
    item = FetchItem("http://a.test/x", want_body=True, attempt=2)
    back = FetchItem.from_json(item.to_json())
    assert (back.attempt, back.key) == (2, FetchItem("http://a.test/x", want_body=True).key)
    assert FetchItem.from_json(["http://a.test/x", True, None, False]).attempt == 0  # an older coordinator's
