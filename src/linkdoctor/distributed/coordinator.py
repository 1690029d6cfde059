"""The coordinator: the engine's own crawler, with its fetching and parsing shipped to Celery workers.

:class:`RemotePages` is a :class:`~linkdoctor.engine.fetching.PageSource`. The crawler (scope, dedupe, fragments,
redirects, robots.txt, filters: all of :mod:`linkdoctor.engine.crawl`) asks it for pages as it would ask its own
checker; it gathers the requests into batches — pages to fetch and parse, and links to check grouped by
host — publishes them, and hands each answer back as it arrives. So a distributed scan gives exactly the
results of an in-process one.

Every fetch handed out is recorded, once sent, in the scan's Redis set (keyed by a hash of the fetch). Workers store what
they fetched in the database when one is configured, and a restarted coordinator replays the crawl from
those rows; fetches handed out by an earlier coordinator are awaited, not repeated. A batch without a reply
for ``redispatch_after`` seconds is sent again (its worker died and the broker has not redelivered it yet);
duplicate replies are ignored. A lost broker stops the scan loudly and resumably (:class:`FetchInterrupted`):
the pages already stored stay, and the next run of the scan replays them.

>>> # async with RemotePages(settings, spec, scan="cli-1", redis=redis, publish=publish) as pages:
>>> #     report = await check_async(config, inputs, pages=pages)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from redis.asyncio import Redis
from redis.exceptions import RedisError

from linkdoctor.config import Method
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_from_json
from linkdoctor.engine.fetching import FetchAborted, FetchInterrupted, Page
from linkdoctor.urls import host_of

Publish = Callable[[Batch], None]
_PAGES = ""  # the group of page fetches; link checks are grouped by host
_BROKER_RETRIES = 10


def new_scan_key(prefix: str = "cli") -> str:
    """A fresh key naming one distributed scan in Redis and in the store."""
    return f"{prefix}-{secrets.token_hex(8)}"


class RemotePages:
    """A page source whose fetches run on the workers. Use it as an async context manager."""

    def __init__(
        self,
        settings: BrokerSettings,
        spec: FetchSpec,
        *,
        scan: str,
        redis: Redis,
        publish: Publish,
        store: FetchStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.scan = scan
        self._redis = redis
        self._publish = publish
        self._store = store
        self._clock = clock
        self._keys = settings.keys
        self._stored: dict[str, dict[str, Any]] = {}
        self._futures: dict[str, asyncio.Future[Page]] = {}
        self._outstanding: dict[str, tuple[FetchItem, float]] = {}
        self._mine: set[str] = set()
        self._open: dict[str, list[FetchItem]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._failure: FetchAborted | None = None
        self.dispatched = 0
        self.replayed = 0
        self.redispatched = 0

    async def __aenter__(self) -> Self:
        if self._store is not None:
            self._stored = await asyncio.to_thread(self._store.load, self.scan)
        try:
            await self._redis.sadd(self._keys.running_scans, self.scan)
            await self._redis.hincrby(self._keys.counters, "scans_started", 1)
        except (RedisError, OSError) as exc:
            raise FetchInterrupted(f"cannot reach the broker: {exc}") from exc
        self._listener = asyncio.create_task(self._listen())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in (self._listener, *self._tasks):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (self._listener, *self._tasks) if t), return_exceptions=True)
        with contextlib.suppress(RedisError):
            await self._redis.srem(self._keys.running_scans, self.scan)
            outcome = "scans_finished" if exc is None and self._failure is None else "scans_failed"
            await self._redis.hincrby(self._keys.counters, outcome, 1)

    async def finish(self) -> None:
        """Forget the scan's Redis keys and stored pages (call once its results are safe)."""
        await self._redis.delete(self._keys.replies(self.scan), self._keys.seen(self.scan))
        if self._store is not None:
            await asyncio.to_thread(self._store.forget, self.scan)

    # --- the PageSource --------------------------------------------------------------------------
    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page:
        if self._failure is not None:
            raise self._failure
        item = FetchItem(url, want_body, None if method is None else method.value, raw)
        stored = self._stored.pop(item.key, None)
        if stored is not None:
            self.replayed += 1
            return page_from_json(stored)
        future = self._futures.get(item.key)
        if future is None:
            future = self._futures[item.key] = asyncio.get_running_loop().create_future()
            self._add(item)
        return await asyncio.shield(future)

    # --- batching --------------------------------------------------------------------------------
    def _add(self, item: FetchItem) -> None:
        group = _PAGES if item.want_body or item.raw else host_of(item.url)
        items = self._open.setdefault(group, [])
        items.append(item)
        if len(items) >= self._limit(group):
            self._spawn(self._dispatch(self._open.pop(group)))
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.settings.batch_wait, self._flush)

    def _limit(self, group: str) -> int:
        return self.settings.page_batch if group == _PAGES else self.settings.link_batch

    def _flush(self) -> None:
        self._timer = None
        for group in list(self._open):
            self._spawn(self._dispatch(self._open.pop(group)))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, items: list[FetchItem]) -> None:
        try:
            fresh = await self._claim(items)
            now = self._clock()
            for item in items:
                self._outstanding[item.key] = (item, now)
            if fresh:
                self._send(fresh)
                await self._mark_sent(fresh)
        except (RedisError, OSError) as exc:
            self._fail(FetchInterrupted(f"lost the broker while handing out work: {exc}"))
        except Exception as exc:  # kombu's connection errors: the broker is gone
            self._fail(FetchInterrupted(f"cannot publish to the broker: {exc}"))

    async def _claim(self, items: list[FetchItem]) -> list[FetchItem]:
        """The fetches to send. One an earlier coordinator of this scan already sent (its reply or stored
        row is still to come) is awaited rather than sent again. A fetch enters the scan's set only once it
        was sent (:meth:`_mark_sent`): a coordinator killed between the two leaves it out, so the next one
        sends it again rather than wait for a batch that was never published."""
        present = await self._redis.smismember(self._keys.seen(self.scan), [item.key for item in items])
        fresh = []
        for item, sent in zip(items, present, strict=True):
            if not sent or item.key in self._mine or self._store is None:
                fresh.append(item)
            self._mine.add(item.key)
        return fresh

    async def _mark_sent(self, items: list[FetchItem]) -> None:
        seen = self._keys.seen(self.scan)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(seen, *(item.key for item in items))
            pipe.expire(seen, self.settings.key_ttl)
            await pipe.execute()

    def _send(self, items: list[FetchItem]) -> None:
        self.dispatched += len(items)
        self._publish(Batch(self.scan, secrets.token_hex(8), self.spec, tuple(items)))

    # --- replies ---------------------------------------------------------------------------------
    async def _listen(self) -> None:
        key = self._keys.replies(self.scan)
        failures = 0
        while True:
            try:
                popped = await self._redis.blpop([key], timeout=1)
                failures = 0
            except (RedisError, OSError) as exc:
                failures += 1
                if failures > _BROKER_RETRIES:
                    self._fail(FetchInterrupted(f"lost the broker: {exc}"))
                    return
                await asyncio.sleep(1)
                continue
            if popped is not None:
                self._on_reply(json.loads(popped[1]))
            self._redispatch_overdue()

    def _on_reply(self, reply: dict[str, Any]) -> None:
        if "error" in reply:
            self._fail(FetchAborted(f"worker {reply.get('worker', '?')}: {reply['error']}"))
            return
        for key, data in reply.get("pages", {}).items():
            self._outstanding.pop(key, None)
            future = self._futures.pop(key, None)
            if future is not None and not future.done():  # a redone batch answers twice: first one wins
                future.set_result(page_from_json(data))

    def _redispatch_overdue(self) -> None:
        deadline = self._clock() - self.settings.redispatch_after
        overdue = [item for item, sent in self._outstanding.values() if sent < deadline]
        if not overdue:
            return
        now = self._clock()
        groups: dict[str, list[FetchItem]] = {}
        for item in overdue:
            self._outstanding[item.key] = (item, now)
            groups.setdefault(_PAGES if item.want_body or item.raw else host_of(item.url), []).append(item)
        try:
            for group, items in groups.items():
                limit = self._limit(group)
                for start in range(0, len(items), limit):
                    self._send(items[start : start + limit])
        except Exception as exc:  # kombu's connection errors: the broker is gone
            self._fail(FetchInterrupted(f"cannot publish to the broker: {exc}"))
            return
        self.redispatched += len(overdue)

    def _fail(self, failure: FetchAborted) -> None:
        if self._failure is None:
            self._failure = failure
        for future in self._futures.values():
            if not future.done():
                future.set_exception(self._failure)
        self._futures.clear()
