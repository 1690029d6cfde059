"""Where the workers keep a scan's fetched pages, on a real Redis: in Redis when the scan's coordinator has no
database (even on a worker that has one), in the database otherwise, read back from both and forgotten
together; and a page an earlier coordinator of the scan handed out, answered before the crawler asks for
it again, is replayed rather than waited for or fetched; such a fetch follows the lease of the batch that
carries it; a coordinator whose scan another took over stops."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

import pytest
from harness.redis import RedisServer

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.coordinator import LEASE_CHECK_INTERVAL, LOST_AFTER, RemotePages
from linkdoctor.distributed.pagestore import (
    STORE_REDIS,
    ScanPages,
    open_page_store,
    owner_key,
    pages_key,
    record_key,
    sent_key,
)
from linkdoctor.distributed.settings import SCAN_BEAT_INTERVAL, BrokerSettings, async_redis
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_to_json
from linkdoctor.engine.fetching import FetchInterrupted, Page
from linkdoctor.models import Category, CheckResult

pytestmark = [pytest.mark.timeout(60)]
REPLAY_TIMEOUT_S = 5.0
TURN_S = 1.0  # real time for the coordinator's listener to take a few turns
FETCHES = 400
AWAITED = 50


class MemoryStore:
    """A database store stand-in: pages by scan, in memory."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, dict[str, Any]]] = {}

    def put(self, scan: str, pages: Mapping[str, dict[str, Any]]) -> None:
        self.pages.setdefault(scan, {}).update(pages)

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        return self.pages.get(scan, {}).get(key)

    def count(self, scan: str) -> tuple[int, int]:
        n = len(self.pages.get(scan, {}))
        return n, n

    def forget(self, scan: str) -> None:
        self.pages.pop(scan, None)

    def close(self) -> None:
        pass


def page_json(url: str) -> dict[str, Any]:
    return page_to_json(Page(CheckResult(url, Category.OK, status=200), body_read=False))


def test_a_scan_whose_coordinator_has_no_database_keeps_its_pages_in_redis_even_on_a_worker_with_one(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url, key_ttl=600)
    client = redis_server.client()
    client.set(record_key(settings.keys, "cli-1"), json.dumps({"store": STORE_REDIS}))
    db = MemoryStore()
    store = ScanPages(client, settings.keys, ttl=settings.key_ttl, db=db)

    store.put("cli-1", {"k1": page_json("http://a.test/1")})  # its coordinator reads Redis
    store.put("site-7", {"k2": page_json("http://a.test/2")})  # no record: the worker's own database

    assert client.hlen(pages_key(settings.keys, "cli-1")) == 1
    assert 0 < client.ttl(pages_key(settings.keys, "cli-1")) <= 600  # expires with the scan's keys
    assert "cli-1" not in db.pages
    assert db.pages["site-7"] == {"k2": page_json("http://a.test/2")}
    assert not client.exists(pages_key(settings.keys, "site-7"))
    assert store.get("cli-1", "k1") == page_json("http://a.test/1")
    assert store.get("cli-1", "k2") is None
    assert store.count("site-7") == (1, 1)
    store.forget("cli-1")
    assert not client.exists(pages_key(settings.keys, "cli-1"))


def test_without_a_database_the_page_store_is_redis(redis_server: RedisServer) -> None:
    store = open_page_store(BrokerSettings(redis_server.url))
    try:
        assert store.kind == STORE_REDIS and store.db is None
        store.put("cli-2", {"k": page_json("http://a.test/")})
        assert store.get("cli-2", "k") == page_json("http://a.test/")
        assert store.count("cli-2") == (1, 1)
    finally:
        store.forget("cli-2")
        store.close()


def never_publish(batch: Batch) -> None:
    raise AssertionError(f"fetched again: {batch.items}")


async def test_a_reply_to_an_earlier_coordinator_that_comes_before_the_crawler_asks_is_replayed(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    keys = settings.keys
    url = "http://a.test/page.html"
    item = FetchItem(url, want_body=True)
    client = redis_server.client()
    client.sadd(keys.seen("cli-3"), item.key)  # the killed coordinator handed it out
    store = open_page_store(settings)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    try:
        async with RemotePages(
            settings, spec, scan="cli-3", redis=redis, publish=never_publish, store=store
        ) as pages:
            reply = {"batch": "old", "worker": "w@test", "pages": {item.key: page_json(url)}}
            client.rpush(keys.replies("cli-3"), json.dumps(reply))
            deadline = asyncio.get_running_loop().time() + REPLAY_TIMEOUT_S
            while client.llen(keys.replies("cli-3")):  # read by the coordinator before the crawler asks
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            page = await asyncio.wait_for(pages.page(url, want_body=True), REPLAY_TIMEOUT_S)
            assert page.result.url == url and page.result.status == 200
            assert pages.replayed == 1 and pages.dispatched == 0
    finally:
        await redis.aclose()
        store.close()


async def test_a_coordinator_keeps_nothing_for_a_fetch_once_it_is_answered(redis_server: RedisServer) -> None:
    """Its memory follows the fetches in flight, not the scan: after hundreds of answered fetches none of
    its tables holds an entry a fetch, and a fetch it sent itself and is asked for again (a retry) is sent,
    not awaited as an earlier coordinator's."""
    settings = BrokerSettings(redis_server.url, queue="answered", batch_wait=0.0)
    keys = settings.keys
    client = redis_server.client()
    published: list[Batch] = []
    store = open_page_store(settings)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    urls = [f"http://a.test/{n}.html" for n in range(FETCHES)]
    try:
        async with RemotePages(
            settings, spec, scan="cli-6", redis=redis, publish=published.append, store=store
        ) as pages:

            async def answer_all(asked: list[asyncio.Task[Page]]) -> None:
                answered = 0
                while not all(task.done() for task in asked):
                    for batch in published[answered:]:
                        reply = {
                            "batch": batch.id,
                            "worker": "w@test",
                            "pages": {item.key: page_json(item.url) for item in batch.items},
                        }
                        client.rpush(keys.replies("cli-6"), json.dumps(reply))
                        answered += 1
                    await asyncio.sleep(0.02)
                await asyncio.wait_for(asyncio.gather(*asked), REPLAY_TIMEOUT_S)

            await answer_all([asyncio.create_task(pages.page(url, want_body=True)) for url in urls])
            await asyncio.sleep(TURN_S)  # the last recordings of sent fetches are done
            held = {
                name: len(value)
                for name, value in vars(pages).items()
                if isinstance(value, (dict, set, list))
            }
            assert max(held.values()) < FETCHES // 10, held

            sent = len(published)
            await answer_all([asyncio.create_task(pages.page(urls[0], want_body=True))])
            assert len(published) == sent + 1 and pages.dispatched == FETCHES + 1  # its own: sent again
            await pages.finish()
    finally:
        await redis.aclose()
        store.close()


async def test_a_fetch_awaited_from_an_earlier_batch_and_asked_for_again_is_sent_not_replayed(
    redis_server: RedisServer,
) -> None:
    """A resumed coordinator awaits the fetches its killed predecessor handed out. Once answered, a redone
    batch's second answer is a duplicate, not a page to replay, and a fetch asked for again is sent at once
    rather than awaited on the long-finished batch."""
    settings = BrokerSettings(redis_server.url, queue="awaited", batch_wait=0.0)
    keys = settings.keys
    client = redis_server.client()
    items = [FetchItem(f"http://a.test/{n}.html", want_body=True) for n in range(AWAITED)]
    client.sadd(keys.seen("cli-7"), *(item.key for item in items))  # the killed coordinator's batch "old"
    client.hset(sent_key(keys, "cli-7"), mapping={item.key: "old" for item in items})
    client.hset(keys.leases("cli-7"), "old", f"{int(time.time() * 1000) + 600_000}|w@test")
    old_reply = {"batch": "old", "worker": "w@test", "pages": {i.key: page_json(i.url) for i in items}}
    published: list[Batch] = []
    store = open_page_store(settings)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    try:
        async with RemotePages(
            settings, spec, scan="cli-7", redis=redis, publish=published.append, store=store
        ) as pages:
            asked = [asyncio.create_task(pages.page(item.url, want_body=True)) for item in items]
            await asyncio.sleep(TURN_S)
            assert published == []  # awaited on the earlier batch
            client.rpush(keys.replies("cli-7"), json.dumps(old_reply))
            client.hdel(keys.leases("cli-7"), "old")
            await asyncio.wait_for(asyncio.gather(*asked), REPLAY_TIMEOUT_S)
            client.rpush(keys.replies("cli-7"), json.dumps(old_reply))  # the batch, redone, answers again
            await asyncio.sleep(TURN_S)

            again = [asyncio.create_task(pages.page(item.url, want_body=True)) for item in items]
            await asyncio.sleep(TURN_S)
            assert pages.replayed == 0
            assert sorted(i.url for b in published for i in b.items) == sorted(i.url for i in items)
            for batch in published:
                reply = {
                    "batch": batch.id,
                    "worker": "w@test",
                    "pages": {i.key: page_json(i.url) for i in batch.items},
                }
                client.rpush(keys.replies("cli-7"), json.dumps(reply))
            await asyncio.wait_for(asyncio.gather(*again), REPLAY_TIMEOUT_S)
            await pages.finish()
    finally:
        await redis.aclose()
        store.close()


class Monotonic:
    """The coordinator's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_fetch_an_earlier_coordinator_handed_out_follows_its_batchs_lease(
    redis_server: RedisServer,
) -> None:
    """Not sent again while the batch carrying it runs under a live lease, however long; sent again at once
    when that lease runs out (the worker died)."""
    settings = BrokerSettings(redis_server.url, queue="lease-tie")
    keys = settings.keys
    url = "http://a.test/slow.html"
    item = FetchItem(url, want_body=True)
    client = redis_server.client()
    client.sadd(keys.seen("cli-4"), item.key)  # the killed coordinator handed it out in batch "old"
    client.hset(sent_key(keys, "cli-4"), item.key, "old")
    now_ms = int(time.time() * 1000)
    client.hset(keys.leases("cli-4"), "old", f"{now_ms + 600_000}|w@test")  # still running
    published: list[Batch] = []
    clock = Monotonic()
    store = open_page_store(settings)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    try:
        async with RemotePages(
            settings, spec, scan="cli-4", redis=redis, publish=published.append, store=store, clock=clock
        ) as pages:
            asked = asyncio.create_task(pages.page(url, want_body=True))
            await asyncio.sleep(settings.batch_wait + TURN_S)
            clock.now += LOST_AFTER + settings.redispatch_after  # long past any re-send delay
            await asyncio.sleep(TURN_S)
            assert published == [] and pages.dispatched == 0  # its batch still runs
            client.hset(keys.leases("cli-4"), "old", f"{now_ms - 1000}|w@test")  # its worker died
            clock.now += LEASE_CHECK_INTERVAL
            await asyncio.sleep(TURN_S)
            assert [b.items for b in published] == [(item,)]
            assert pages.leases_expired == 1 and pages.redispatched == 1
            assert client.hget(sent_key(keys, "cli-4"), item.key) == published[0].id.encode()
            reply = {"batch": published[0].id, "worker": "w2@test", "pages": {item.key: page_json(url)}}
            client.rpush(keys.replies("cli-4"), json.dumps(reply))
            page = await asyncio.wait_for(asked, REPLAY_TIMEOUT_S)
            assert page.result.url == url
            await pages.finish()
    finally:
        await redis.aclose()
        store.close()
    assert list(client.scan_iter(match=f"{keys.namespace}:scan:cli-4:*")) == []


async def test_a_coordinator_whose_scan_another_took_over_stops_and_leaves_the_scan_alone(
    redis_server: RedisServer,
) -> None:
    """A ``check`` frozen past 30 s whose scan a ``--resume`` took over stops at its next beat: two
    coordinators never run one scan, and the one that stops deletes none of the other's keys."""
    settings = BrokerSettings(redis_server.url, queue="taken-over")
    keys = settings.keys
    claim = owner_key(keys, "cli-5")
    client = redis_server.client()
    clock = Monotonic()
    store = open_page_store(settings)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    published: list[Batch] = []
    try:
        async with RemotePages(
            settings,
            spec,
            scan="cli-5",
            redis=redis,
            publish=published.append,
            store=store,
            owner="a",
            clock=clock,
        ) as pages:
            assert client.get(claim) == b"a"
            asked = asyncio.create_task(pages.page("http://a.test/", want_body=True))
            await asyncio.sleep(settings.batch_wait + TURN_S)
            client.set(claim, "b", ex=30)  # the resume that took it over
            client.zadd(keys.running_scans, {"cli-5": time.time()})
            client.hset(keys.leases("cli-5"), "theirs", f"{int(time.time() * 1000) + 60_000}|w@test")
            clock.now += SCAN_BEAT_INTERVAL
            with pytest.raises(FetchInterrupted, match="another coordinator took it over"):
                await asyncio.wait_for(asked, REPLAY_TIMEOUT_S)
    finally:
        await redis.aclose()
        store.close()
    assert client.get(claim) == b"b"
    assert client.zscore(keys.running_scans, "cli-5") is not None
    assert client.hexists(keys.leases("cli-5"), "theirs")


class _BrokenStore(MemoryStore):
    """A store with a page of the scan that it can no longer read."""

    def count(self, scan: str) -> tuple[int, int]:
        return 1, 1

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        raise sqlite3.OperationalError("disk I/O error")


async def test_a_resume_whose_stored_pages_cannot_be_read_stops_resumably(redis_server: RedisServer) -> None:
    """Not a verdict of "internal error" per page: the run stops, and can be resumed once the store is back."""
    settings = BrokerSettings(redis_server.url)
    redis = async_redis(settings)
    spec = FetchSpec.from_config(CheckConfig(), env={})
    try:
        async with RemotePages(
            settings, spec, scan="cli-5", redis=redis, publish=never_publish, store=_BrokenStore()
        ) as pages:
            with pytest.raises(FetchInterrupted, match="cannot read the scan's stored pages"):
                await pages.page("http://a.test/", want_body=True)
    finally:
        await redis.aclose()
