"""The coordinator: the engine's own crawler, with its fetching and parsing shipped to Celery workers.

:class:`RemotePages` is a :class:`~linkdoctor.engine.fetching.PageSource`. The crawler (scope, dedupe, fragments,
redirects, robots.txt, filters: all of :mod:`linkdoctor.engine.crawl`) asks it for pages as it would ask its own
checker; it gathers the requests into batches — pages to fetch and parse, and links to check grouped by
host — publishes them, and hands each answer back as it arrives. So a distributed scan gives exactly the
results of an in-process one.

Every fetch handed out is recorded, once sent, in the scan's Redis set (keyed by a hash of the fetch). Workers store what
they fetched (in the database when one is configured, else in Redis: :mod:`linkdoctor.distributed.pagestore`),
and a restarted coordinator replays the crawl from those pages; fetches handed out by an earlier coordinator
are awaited, not repeated (their replies, arriving before the crawler asks, are kept for it). Each fetch
handed out is also mapped to its batch (:func:`~linkdoctor.distributed.pagestore.sent_key`), so such a fetch
follows its batch's lease: it is not sent again while that batch runs, and is sent again at once when its
lease runs out.

Failure is noticed in seconds:

* a worker holds a lease on the batch it runs, renewed every few seconds (:mod:`linkdoctor.distributed.work`);
  a lease that runs out (the worker was killed or froze) gets its batch's unanswered fetches sent again at
  once, whatever Celery's visibility timeout; a batch that got neither a lease nor a reply for
  ``LOST_AFTER`` seconds while the queue is empty (lost between the queue and a worker), or for
  ``redispatch_after`` seconds in any case, is sent again too. Duplicate replies are ignored, and replies
  are removed from their list only once read, so a connection that times out loses none.
* a fetch worth another attempt (a 500, a timeout) comes back from its worker with its backoff; the
  coordinator sends it again alone when the pause is over, so it never holds up its batch or its worker.
* every Redis call has a timeout; a broker outage is ridden out for ``outage_grace`` seconds with all state
  kept (publishing, recording and listening are retried), and only a longer one stops the scan, loudly and
  resumably (:class:`FetchInterrupted`): the pages already stored stay, and the next run of the scan replays them.
* the coordinator beats into the sorted set of live scans; one that dies stops counting as running within
  ``SCAN_STALE_AFTER`` seconds (the next coordinator counts it as failed), and its keys expire ``key_ttl``
  after its last beat.
* a stall (no reply for ``STALL_REPORT_AFTER`` seconds) and every re-sent batch are logged as warnings, so
  ``check`` says what it waits for.

>>> # async with RemotePages(settings, spec, scan="cli-1", redis=redis, publish=publish) as pages:
>>> #     report = await check_async(config, inputs, pages=pages)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from linkdoctor.config import Method
from linkdoctor.distributed.claim import BEAT, HOLD_CLAIM, forget_scan
from linkdoctor.distributed.crawlstate import forget_state
from linkdoctor.distributed.pagestore import PageStore, owner_key, pages_key, record_key, sent_key
from linkdoctor.distributed.resume import ScanTakenOver
from linkdoctor.distributed.settings import SCAN_BEAT_INTERVAL, SCAN_STALE_AFTER, BrokerSettings
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_from_json
from linkdoctor.engine.fetching import FetchAborted, FetchInterrupted, Page
from linkdoctor.urls import host_of

Publish = Callable[[Batch], None]
T = TypeVar("T")
_PAGES = ""  # the group of page fetches; link checks are grouped by host
LEASE_CHECK_INTERVAL = 1.0
STALL_REPORT_AFTER = 10.0
LOST_AFTER = 15.0
REPLIES_PER_READ = 100
# The listener's blocking wait for a reply: a reply ends it at once, and closing the scan waits for it to
# end (a whole second, when it was 1 s, of every run), so it is short.
LISTEN_WAIT_S = 0.1
_RETRY_PAUSE = 1.0
log = logging.getLogger("linkdoctor.distributed")

# KEYS: leases, replies. Leases that ran out (by the Redis clock) are removed and returned as
# [batch, "deadline|worker", ...], with every live batch id after them: {expired, live}. While replies wait
# in the list nothing is expired (a finished batch's reply may be among them).
_LEASES = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local waiting = redis.call('LLEN', KEYS[2]) > 0
local expired, live = {}, {}
for i = 1, #all, 2 do
  local deadline = tonumber(string.match(all[i + 1], '^(%d+)')) or 0
  if deadline < now and not waiting then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(expired, all[i])
    table.insert(expired, all[i + 1])
  else
    table.insert(live, all[i])
  end
end
return {expired, live}
"""


class _PublishFailed(Exception):
    """The broker refused or did not take a batch (kombu's errors, whatever their class)."""


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
        store: PageStore | None = None,
        owner: str | None = None,
        linger: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        stopped: Callable[[str, float], FetchInterrupted | None] | None = None,
    ) -> None:
        self.settings = settings
        # Asked while the broker is away: the error that stops the scan at once (a signal arrived), or None.
        self._stopped = stopped or (lambda what, since: None)
        self._down_at = 0.0  # when the outage's first failed call began, by time.monotonic() (as signals are)
        # This coordinator's name in the scan's claim (``check --broker``): it stops if another takes the scan.
        self.owner = owner
        self._taken_over = False
        # The scan stays live and claimed when the crawl ends: its ``check`` holds it until the report is
        # written (:class:`~linkdoctor.distributed.claim.HeldScan`).
        self._linger = linger
        self.spec = spec
        self.scan = scan
        self._redis = redis
        self._publish = publish
        self._store = store
        self._clock = clock
        self._wall_clock = wall_clock
        self._keys = settings.keys
        # Pages answered to an earlier coordinator's batches before the crawl asked (as many as it had in
        # flight); the rest of what it stored is read from the store when asked for (``_replaying``).
        self._stored: dict[str, dict[str, Any]] = {}
        self._replaying = False
        self._futures: dict[str, asyncio.Future[Page]] = {}
        # fetch key → (item, when sent or awaited, id of the batch carrying it, maybe an earlier coordinator's;
        # "" when unknown)
        self._outstanding: dict[str, tuple[FetchItem, float, str]] = {}
        self._batches: dict[str, tuple[FetchItem, ...]] = {}
        # Every batch this coordinator sends carries this prefix, so it tells its own fetches from an earlier
        # coordinator's by the batch a fetch is mapped to, not by a set of every fetch key it ever sent; the
        # earlier one's it awaited are few (what it had in flight when it died), and kept by key.
        self._run = secrets.token_hex(4)
        self._awaited: set[str] = set()
        self._open: dict[str, list[FetchItem]] = {}
        self._backoff: dict[str, asyncio.TimerHandle] = {}  # fetches waiting to be tried again
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._failure: FetchAborted | None = None
        self._down_since: float | None = None
        self._closing = False
        self._last_reply = clock()
        self._last_report = 0.0
        self._leases = redis.register_script(_LEASES)
        self._beat = redis.register_script(BEAT)
        self._hold_claim = redis.register_script(HOLD_CLAIM)
        self.dispatched = 0
        self.replayed = 0
        self.redispatched = 0
        self.leases_expired = 0
        self.retries = 0
        self.dead_scans_cleaned = 0
        self.interrupted = False  # stopped by a signal: resumable, neither finished nor failed

    async def __aenter__(self) -> Self:
        try:
            if self._store is not None:  # a resume: its stored pages are read as the crawl asks for them
                self._replaying = (await asyncio.to_thread(self._store.count, self.scan))[0] > 0
            await self._heartbeat()
            await self._redis.hincrby(self._keys.counters, "scans_started", 1)
        except (RedisError, OSError) as exc:
            raise FetchInterrupted(f"cannot reach the broker: {exc}") from exc
        self._listener = asyncio.create_task(self._listen())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        for handle in self._backoff.values():
            handle.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            # The listener ends at its next turn (its blocking read waits LISTEN_WAIT_S); cancelling a
            # blocking redis-py read can hang, so it is cancelled only if it does not end in time.
            await asyncio.wait({self._listener}, timeout=self.settings.socket_timeout + 2)
            self._listener.cancel()
        if self._taken_over:  # the scan's keys are another coordinator's now
            return
        if self._down_since is not None:  # stopped by the outage (or a signal during it): this would time out
            return
        with contextlib.suppress(RedisError, OSError):
            outcome = "scans_finished" if exc is None and self._failure is None else "scans_failed"
            outcome = "scans_interrupted" if self.interrupted else outcome
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(self._keys.counters, outcome, 1)
                pipe.delete(self._keys.leases(self.scan))
                if not self._linger:
                    pipe.zrem(self._keys.running_scans, self.scan)
                    pipe.delete(owner_key(self._keys, self.scan))
                await pipe.execute()

    async def clear_crawl_state(self) -> None:
        """Delete what an earlier run of this scan kept of its crawl: a resumed scan crawls again, from
        the pages its workers stored."""
        await forget_state(self._redis, self._keys.crawl_state(self.scan))

    async def finish(self) -> None:
        """Forget the scan's Redis keys and stored pages (call once its results are safe)."""
        await forget_scan(self._redis, self._keys, self.scan, self._store)

    # --- the PageSource --------------------------------------------------------------------------
    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page:
        if self._failure is not None:
            raise self._failure
        item = FetchItem(url, want_body, None if method is None else method.value, raw)
        stored = self._stored.pop(item.key, None)
        if stored is None and self._replaying and self._store is not None:
            try:  # an outage is ridden out as the broker's is; a database store's error stops resumably
                stored = await self._broker(
                    "reading a stored page", partial(asyncio.to_thread, self._store.get, self.scan, item.key)
                )
            except FetchAborted:
                raise
            except Exception as exc:
                raise FetchInterrupted(f"cannot read the scan's stored pages: {exc}") from exc
            late = self._stored.pop(item.key, None)  # answered to an earlier batch meanwhile
            stored = stored or late
        if stored is not None:
            self.replayed += 1
            return page_from_json(stored)
        future = self._futures.get(item.key)
        if future is None:
            future = self._futures[item.key] = asyncio.get_running_loop().create_future()
            self._add(item)
        return await asyncio.shield(future)

    # --- the broker, with its outages ridden out ---------------------------------------------------
    async def _broker(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, retried while the broker is away, for ``outage_grace`` seconds from the outage's start
        (shared by every caller); then :class:`FetchInterrupted`."""
        while True:
            if self._failure is not None:
                raise self._failure
            started = time.monotonic()
            try:
                result = await call()
            except (RedisError, OSError, _PublishFailed) as exc:
                if self._closing:  # redis-py may turn the cancellation of a blocking read into an error
                    raise asyncio.CancelledError from exc
                now = self._clock()
                if self._down_since is None:
                    self._down_since = now
                    # A frozen broker is noticed a socket timeout late: a signal since the failed call began
                    # came during the outage.
                    self._down_at = started
                    log.warning(
                        "scan %s: the broker is unreachable (%s); retrying for up to %.0f s",
                        self.scan,
                        exc,
                        self.settings.outage_grace,
                    )
                if (stop := self._stopped("the broker was out of reach", self._down_at)) is not None:
                    raise stop from exc
                if now - self._down_since > self.settings.outage_grace:
                    raise FetchInterrupted(f"lost the broker while {what}: {exc}") from exc
                await asyncio.sleep(_RETRY_PAUSE)
                continue
            if self._down_since is not None:
                log.warning(
                    "scan %s: the broker is back after %.0f s", self.scan, self._clock() - self._down_since
                )
                self._down_since = None
                self._last_reply = self._clock()  # the outage is no stall of the workers
            return result

    # --- batching --------------------------------------------------------------------------------
    def _add(self, item: FetchItem) -> None:
        group = _group(item)
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
            fresh, earlier = await self._broker("handing out work", lambda: self._claim(items))
            now = self._clock()
            for item in items:
                if item.key in earlier:  # tied to the lease of the batch that carries it
                    self._outstanding[item.key] = (item, now, earlier[item.key])
            if fresh:
                batch_id = await self._send(tuple(fresh))
                await self._broker("recording work", lambda: self._mark_sent(fresh, batch_id))
        except FetchAborted as failure:
            self._fail(failure)

    async def _claim(self, items: list[FetchItem]) -> tuple[list[FetchItem], dict[str, str]]:
        """The fetches to send, and those an earlier coordinator of this scan already sent (its reply or
        stored row is still to come), to be awaited rather than sent again, by fetch key → the id of the
        batch that carries it. A fetch enters the scan's set only once it was sent (:meth:`_mark_sent`): a
        coordinator killed between the two leaves it out, so the next one sends it again rather than wait
        for a batch that was never published."""
        keys = [item.key for item in items]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.smismember(self._keys.seen(self.scan), keys)
            pipe.hmget(sent_key(self._keys, self.scan), keys)
            present, batches = await pipe.execute()
        fresh, earlier = [], {}
        for item, sent, batch in zip(items, present, batches, strict=True):
            batch_id = _text(batch) if batch else ""
            if not sent or self._mine(batch_id) or item.key in self._awaited or self._store is None:
                fresh.append(item)
            else:
                earlier[item.key] = batch_id
                self._awaited.add(item.key)
        return fresh, earlier

    def _mine(self, batch_id: str) -> bool:
        """Whether this coordinator sent the batch ``batch_id`` (not an earlier one of the scan)."""
        return batch_id.startswith(f"{self._run}.")

    def _replayable(self, key: str, batch_id: str) -> bool:
        """Whether an answer nobody waits for is an earlier coordinator's fetch the crawler has yet to ask
        for (kept for replay), not a late duplicate of one answered already (a redone batch's)."""
        return self._store is not None and not self._mine(batch_id) and key not in self._awaited

    async def _mark_sent(self, items: list[FetchItem] | tuple[FetchItem, ...], batch_id: str) -> None:
        """Record ``items`` as handed out, in ``batch_id``: in the scan's set, and mapped to the batch."""
        seen, sent = self._keys.seen(self.scan), sent_key(self._keys, self.scan)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(seen, *(item.key for item in items))
            pipe.hset(sent, mapping=dict.fromkeys((item.key for item in items), batch_id))
            pipe.expire(seen, self.settings.key_ttl)
            pipe.expire(sent, self.settings.key_ttl)
            await pipe.execute()

    async def _send(self, items: tuple[FetchItem, ...]) -> str:
        """Publish ``items`` as one new batch (off the event loop: kombu blocks), retried through outages;
        the batch's id."""
        batch = Batch(self.scan, f"{self._run}.{secrets.token_hex(6)}", self.spec, items)
        now = self._clock()
        self._batches[batch.id] = items
        for item in items:
            self._outstanding[item.key] = (item, now, batch.id)
        await self._broker("publishing work", lambda: self._publish_in_thread(batch))
        self.dispatched += len(items)
        return batch.id

    async def _publish_in_thread(self, batch: Batch) -> None:
        try:
            await asyncio.to_thread(self._publish, batch)
        except (RedisError, OSError):
            raise
        except Exception as exc:  # kombu's connection errors: the broker is away
            raise _PublishFailed(str(exc)) from exc

    # --- replies, leases, beats ---------------------------------------------------------------------
    async def _listen(self) -> None:
        key = self._keys.replies(self.scan)
        checked = beat = self._clock()
        try:
            while not self._closing:
                # The beat comes first: a coordinator that froze learns whether the scan is still its own
                # (:meth:`_heartbeat`) before it takes replies another coordinator of the scan waits for.
                now = self._clock()
                if now - beat >= SCAN_BEAT_INTERVAL:
                    beat = now
                    await self._broker("marking the scan alive", self._heartbeat)
                for reply in await self._broker("reading replies", lambda: self._take_replies(key)):
                    self._on_reply(json.loads(reply))
                now = self._clock()
                if now - checked >= LEASE_CHECK_INTERVAL:
                    checked = now
                    live = await self._check_leases()
                    await self._redispatch_overdue(live)
                    self._report_stall()
        except FetchAborted as failure:
            self._fail(failure)

    async def _take_replies(self, key: str) -> list[bytes | str]:
        """The replies waiting, removed only once read. A destructive blocking pop would lose the reply
        it pops when its connection timed out meanwhile (a frozen broker executes the pop on thaw and
        writes into a closed socket); reading, then trimming what was read, loses nothing: a reply read
        twice is ignored. When none wait, a blocking rotation of the list onto itself (which removes
        nothing) waits for the next one."""
        replies: list[bytes | str] = await self._redis.lrange(key, 0, REPLIES_PER_READ - 1)
        if replies:
            await self._redis.ltrim(key, len(replies), -1)
            return replies
        # BLMOVE takes seconds with decimals (Redis 6); redis-py passes them on, though its stubs say int.
        await self._redis.blmove(key, key, LISTEN_WAIT_S, "LEFT", "RIGHT")  # type: ignore[arg-type]
        return []

    async def _heartbeat(self) -> None:
        """Mark the scan alive (cleaning dead coordinators' scans) and keep its keys for ``key_ttl``. A
        coordinator whose claim another holds (it froze past ``SCAN_STALE_AFTER`` and a ``--resume`` took the
        scan over) stops, leaving the scan's keys alone."""
        if self.owner is not None:
            claim = [owner_key(self._keys, self.scan)]
            if not int(await self._hold_claim(keys=claim, args=[self.owner, int(SCAN_STALE_AFTER)])):
                self._taken_over = True
                raise ScanTakenOver(
                    f"scan {self.scan}: another coordinator took it over (this one was silent for more than "
                    f"{SCAN_STALE_AFTER:.0f} s); stopping without touching it"
                )
        now = self._wall_clock()
        cleaned = int(
            await self._beat(
                keys=[self._keys.running_scans, self._keys.counters],
                args=[self.scan, now, now - SCAN_STALE_AFTER],
            )
        )
        self.dead_scans_cleaned += cleaned
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in (
                self._keys.replies(self.scan),
                self._keys.seen(self.scan),
                self._keys.leases(self.scan),
                pages_key(self._keys, self.scan),
                record_key(self._keys, self.scan),
                sent_key(self._keys, self.scan),
            ):
                pipe.expire(key, self.settings.key_ttl)
            await pipe.execute()

    def _on_reply(self, reply: dict[str, Any]) -> None:
        if "error" in reply:
            self._fail(FetchAborted(f"worker {reply.get('worker', '?')}: {reply['error']}"))
            return
        self._last_reply = self._clock()
        batch_id = str(reply.get("batch", ""))
        self._batches.pop(batch_id, None)
        for key, data in reply.get("pages", {}).items():
            self._outstanding.pop(key, None)
            future = self._futures.pop(key, None)
            if future is not None and not future.done():  # a redone batch answers twice: first one wins
                future.set_result(page_from_json(data))
            elif future is None and self._replayable(key, batch_id):
                self._stored[key] = data
        loop = asyncio.get_running_loop()
        for data, pause in reply.get("retry", []):
            item = FetchItem.from_json(data)
            if item.key in self._backoff or item.key not in self._futures:
                continue  # a redone batch asked already, or the fetch was answered
            self._outstanding.pop(item.key, None)  # not in flight while it waits: nothing to re-send
            self._backoff[item.key] = loop.call_later(float(pause), self._retry, item)
            self.retries += 1

    def _retry(self, item: FetchItem) -> None:
        """A fetch's backoff is over: it joins the next batch (it never held up the others meanwhile)."""
        self._backoff.pop(item.key, None)
        future = self._futures.get(item.key)
        if future is not None and not future.done() and self._failure is None:
            self._add(item)

    async def _check_leases(self) -> set[str]:
        """Send again the unanswered fetches of every batch whose lease ran out; the ids of leased batches."""
        keys = [self._keys.leases(self.scan), self._keys.replies(self.scan)]
        expired, live = await self._broker("reading leases", lambda: self._leases(keys=keys))
        for i in range(0, len(expired), 2):
            batch_id = _text(expired[i])
            holder = _text(expired[i + 1]).partition("|")[2] or "?"
            items = self._batches.pop(batch_id, None)
            if items is None:  # an earlier coordinator's batch: its fetches this one awaits
                items = tuple(item for item, _sent, batch in self._outstanding.values() if batch == batch_id)
            left = [item for item in items if self._outstanding.get(item.key, (None, 0.0, ""))[2] == batch_id]
            self.leases_expired += 1
            if left:
                log.warning(
                    "scan %s: worker %s stopped renewing its lease on a batch; sending its %d fetches again",
                    self.scan,
                    holder,
                    len(left),
                )
                await self._resend(left)
        return {_text(batch_id) for batch_id in live}

    async def _redispatch_overdue(self, leased: set[str]) -> None:
        """Send again what got neither a lease nor a reply for ``redispatch_after`` seconds (one an earlier
        coordinator sent), or for ``LOST_AFTER`` seconds while the queue is empty: such a batch is neither
        waiting in the queue nor running, so it was lost between them (a worker's pop the broker executed
        after the worker's connection had timed out)."""
        queued = await self._broker("reading the queue", lambda: self._redis.llen(self.settings.queue))
        wait = self.settings.redispatch_after if queued else min(LOST_AFTER, self.settings.redispatch_after)
        deadline = self._clock() - wait
        overdue = [
            item
            for item, sent, batch in self._outstanding.values()
            if sent < deadline and batch not in leased
        ]
        if overdue:
            log.warning("scan %s: %d fetches got no answer; sending them again", self.scan, len(overdue))
            await self._resend(overdue)

    async def _resend(self, items: list[FetchItem]) -> None:
        groups: dict[str, list[FetchItem]] = {}
        for item in items:
            groups.setdefault(_group(item), []).append(item)
        for group, members in groups.items():
            limit = self._limit(group)
            for start in range(0, len(members), limit):
                batch = tuple(members[start : start + limit])
                batch_id = await self._send(batch)
                await self._broker("recording work", partial(self._mark_sent, batch, batch_id))
        self.redispatched += len(items)

    def _report_stall(self) -> None:
        now = self._clock()
        if not self._outstanding or now - self._last_reply < STALL_REPORT_AFTER:
            return
        if now - self._last_report < STALL_REPORT_AFTER:
            return
        self._last_report = now
        log.warning(
            "scan %s: waiting for the workers: %d fetches outstanding, no answer for %.0f s",
            self.scan,
            len(self._outstanding),
            now - self._last_reply,
        )

    def stop_now(self, failure: FetchAborted) -> None:
        """Fail every fetch waited for with ``failure`` (the run ends); what the workers stored stays."""
        self._fail(failure)

    def _fail(self, failure: FetchAborted) -> None:
        if self._failure is None:
            self._failure = failure
        for future in self._futures.values():
            if not future.done():
                future.set_exception(self._failure)
        self._futures.clear()


def _group(item: FetchItem) -> str:
    return _PAGES if item.want_body or item.raw else host_of(item.url)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
