"""The worker's side of a batch: fetch and parse every item with the engine's own checker, under the shared
Redis limiter, then store the pages (idempotently) and tell the coordinator.

The worker builds its :class:`CheckConfig` from the batch's :class:`~linkdoctor.distributed.wire.FetchSpec`
and its own environment (client certificate files and key passwords are the worker's), so key material never
crosses the broker. A batch that cannot run here (a certificate file missing on this machine) replies with
the error, and the coordinator stops the scan with it.

While it runs a batch the worker holds a lease on it in the scan's lease hash, renewed every
``lease_ttl / 4`` seconds: a worker killed or frozen mid-batch lets its lease run out, and the coordinator
sends the batch again within seconds. The reply and the lease's release are one transaction, so the
coordinator sees either a live lease or the reply. A broker or database error is never the batch's end: the
batch is run again (its writes are idempotent) until it succeeds or the outage outlasts ``outage_grace``,
and then, once the broker answers (:func:`await_broker`: Celery hands the message back through it),
:class:`BatchDeferred` tells Celery to put it back rather than acknowledge it. A batch of a scan that is
over (its coordinator finished) is skipped.

>>> # await run_batch(batch, redis=redis, keys=settings.keys, store=store, worker="w1@host")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError

from linkdoctor.config import CheckConfig, Method
from linkdoctor.distributed.limiter import RedisHostLimiter
from linkdoctor.distributed.pagestore import PageStore
from linkdoctor.distributed.settings import DEFAULT_LEASE_TTL, DEFAULT_OUTAGE_GRACE, Keys
from linkdoctor.distributed.wire import Batch, FetchItem, FetchSpec, page_to_json
from linkdoctor.engine.check import HttpChecker, is_retryable, retry_after_seconds
from linkdoctor.engine.fetching import LocalPages, Page
from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
from linkdoctor.engine.http.ssrf import SSRFGuard, parse_networks
from linkdoctor.engine.transport import Answer, BodyLimit, Transport
from linkdoctor.errors import LinkdoctorError
from linkdoctor.models import Category, CheckResult
from linkdoctor.tls.context import TLSContextFactory
from linkdoctor.urls import host_of

log = logging.getLogger("linkdoctor.distributed")
# The errors of a store or broker that is away for a while: the batch is run again, never given up.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, DBAPIError)
_RETRY_FIRST = 0.5
_RETRY_MAX = 5.0
_AWAIT_EVERY = 1.0  # a PING to a frozen broker takes its socket timeout; to a closed port, nothing
_AWAIT_LOG_EVERY = 30.0

# KEYS: leases. ARGV: batch id, lease ms, worker, key ttl s. The deadline is on the Redis clock.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], (now + tonumber(ARGV[2])) .. '|' .. ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return now
"""
# KEYS: running scans, leases. ARGV: scan, then _HOLD's. Takes the lease only while the scan runs (one round
# trip where a check, then the lease, took two); 0 when the scan is over.
_START = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], ARGV[2], (now + tonumber(ARGV[3])) .. '|' .. ARGV[4])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
return 1
"""


class BatchDeferred(Exception):
    """The broker or the database stayed away longer than the grace: the batch goes back, unacknowledged."""


def _guard(spec: FetchSpec) -> SSRFGuard | None:
    """The SSRF guard when the scan came from the server."""
    if spec.allow_private is None:
        return None
    return SSRFGuard(parse_networks(spec.allow_private))


class _RetryAfterSeen:
    """A transport that notes each URL's last ``Retry-After`` header (the checker keeps no headers) and,
    when the answer is one to retry, pauses the host for every worker at once, as the in-process checker
    does, not once the batch is over."""

    def __init__(self, transport: Transport, limiter: RedisHostLimiter, config: CheckConfig) -> None:
        self._transport = transport
        self._limiter = limiter
        self._config = config
        self.retry_after: dict[str, str] = {}

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | bool,
        body_limit: BodyLimit,
    ) -> Answer:
        answer = await self._transport.send(method, url, headers=headers, tls=tls, body_limit=body_limit)
        if "retry-after" in answer.headers:
            self.retry_after[url] = answer.headers["retry-after"]
            seconds = retry_after_seconds(answer.headers["retry-after"], time.time())
            retryable = is_retryable(CheckResult(url, Category.BROKEN, status=answer.status))
            wait = retryable and self._config.retries and seconds is not None
            if wait and seconds is not None and seconds <= self._config.max_retry_after:
                self._limiter.pause(host_of(url), seconds)
        return answer


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a batch came to: pages by fetch key, and the items to try again after a pause (seconds)."""

    pages: dict[str, Page]
    retries: tuple[tuple[FetchItem, float], ...] = ()


class _Kit:
    """The fetching gear of one fetch spec: the run's config, one HTTP session (its connection pool and DNS
    cache), the TLS contexts and the shared host limiter, with the number of batches using it."""

    def __init__(self, config: CheckConfig, transport: AiohttpTransport, limiter: RedisHostLimiter) -> None:
        self.config = config
        self.transport = transport
        self.tls = TLSContextFactory(config)
        self.limiter = limiter
        self.users = 0

    async def close(self) -> None:
        try:
            await self.transport.close()
        finally:
            self.tls.close()


class FetchKits:
    """What a worker process keeps from one batch to the next, per fetch spec (one per scan's options): the
    HTTP session with its connection pool and DNS cache, the TLS contexts, and the Redis host limiter.
    Opening them for every batch cost a new session, a new TCP connection per request and new Redis
    connections. At most ``keep`` specs are kept; the least recently used one no batch is using is closed.

    >>> # kits = FetchKits(redis, keys, os.environ)
    >>> # fetched = await fetch_batch(batch, redis=redis, keys=keys, env=os.environ, kits=kits)
    """

    def __init__(self, redis: Redis, keys: Keys, env: Mapping[str, str], *, keep: int = 8) -> None:
        self._redis = redis
        self._keys = keys
        self._env = env
        self._keep = max(1, keep)
        self._kits: dict[FetchSpec, _Kit] = {}  # in order of last use

    def __len__(self) -> int:
        return len(self._kits)

    def __contains__(self, spec: object) -> bool:
        return spec in self._kits

    @contextlib.asynccontextmanager
    async def use(self, spec: FetchSpec) -> AsyncIterator[_Kit]:
        kit = self._kits.pop(spec, None)
        if kit is None:
            config = spec.to_config(env=self._env)  # a LinkdoctorError (a missing file) is the batch's
            kit = _Kit(
                config,
                AiohttpTransport(config, guard=_guard(spec)),
                RedisHostLimiter(self._redis, self._keys, config),
            )
        self._kits[spec] = kit
        kit.users += 1
        try:
            await self._trim()
            yield kit
        finally:
            kit.users -= 1

    async def _trim(self) -> None:
        idle = [spec for spec, kit in self._kits.items() if kit.users == 0]
        for spec in idle[: max(0, len(self._kits) - self._keep)]:
            await self._kits.pop(spec).close()

    async def aclose(self) -> None:
        kits, self._kits = list(self._kits.values()), {}
        for kit in kits:
            await kit.close()


async def fetch_batch(
    batch: Batch,
    *,
    redis: Redis,
    keys: Keys,
    env: Mapping[str, str],
    rng: random.Random | None = None,
    kits: FetchKits | None = None,
) -> Fetched:
    """Fetch and parse every item of ``batch`` once. An item whose answer is worth another attempt (a 503, a
    timeout) and that has attempts left is handed back with its backoff instead of waited for here: the
    coordinator sends it again when its pause is over, and this worker's slot goes to other work. ``kits``
    (kept by the worker process) saves opening a session per batch; without it one is opened and closed."""
    rng = rng or random.Random()
    if kits is None:
        own = FetchKits(redis, keys, env, keep=1)
        try:
            return await fetch_batch(batch, redis=redis, keys=keys, env=env, rng=rng, kits=own)
        finally:
            await own.aclose()
    async with kits.use(batch.spec) as kit:
        config, limiter = kit.config, kit.limiter
        once = replace(config, retries=0)
        seen = _RetryAfterSeen(kit.transport, limiter, config)
        pages = LocalPages(HttpChecker(seen, once, limiter=limiter, tls=kit.tls))
        try:  # the first failure (the broker gone) cancels the rest: the batch is run again whole
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        pages.page(
                            i.url,
                            want_body=i.want_body,
                            method=None if i.method is None else Method(i.method),
                            raw=i.raw,
                        )
                    )
                    for i in batch.items
                ]
        except BaseExceptionGroup as failures:
            raise failures.exceptions[0] from None
        done: dict[str, Page] = {}
        retries: list[tuple[FetchItem, float]] = []
        for item, task in zip(batch.items, tasks, strict=True):
            page = task.result()
            pause = None
            if item.attempt < config.retries and is_retryable(page.result):
                pause = await _pause_before_retry(page, item, config, seen, limiter, rng)
            if pause is None:
                done[item.key] = page
            else:
                retries.append((replace(item, attempt=item.attempt + 1), pause))
    return Fetched(done, tuple(retries))


async def _pause_before_retry(
    page: Page,
    item: FetchItem,
    config: CheckConfig,
    seen: _RetryAfterSeen,
    limiter: RedisHostLimiter,
    rng: random.Random,
) -> float | None:
    """Seconds until ``item`` is tried again, as the in-process checker would wait: a ``Retry-After``
    pauses the whole host for every worker (one longer than ``max_retry_after`` makes the answer final:
    ``None``); otherwise the exponential backoff with jitter."""
    url = page.result.final_url or item.url
    retry_after = retry_after_seconds(seen.retry_after.get(url), time.time())
    if retry_after is not None:
        if retry_after > config.max_retry_after:
            return None
        await limiter.pause_async(host_of(url), retry_after)
        return retry_after
    return float(config.retry_backoff * 2.0**item.attempt * (0.5 + rng.random()))


async def run_batch(
    batch: Batch,
    *,
    redis: Redis,
    keys: Keys,
    store: PageStore | None,
    worker: str,
    key_ttl: int,
    env: Mapping[str, str] | None = None,
    lease_ttl: float = DEFAULT_LEASE_TTL,
    outage_grace: float = DEFAULT_OUTAGE_GRACE,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    kits: FetchKits | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Run one batch end to end; returns the number of fetches made. Safe to run twice. Raises
    :class:`BatchDeferred` when the broker or the database stays away longer than ``outage_grace``, once
    the broker answers (see :func:`await_broker`; at once when ``stopping()``, the worker shutting down).
    ``kits``: the worker process's sessions, kept across batches."""
    started = clock()
    delay = _RETRY_FIRST
    while True:
        try:
            return await _run_once(
                batch,
                redis=redis,
                keys=keys,
                store=store,
                worker=worker,
                key_ttl=key_ttl,
                env=os.environ if env is None else env,
                lease_ttl=lease_ttl,
                kits=kits,
            )
        except OUTAGE_ERRORS as exc:
            if clock() - started > outage_grace:
                await await_broker(redis, stopping=stopping, sleep=sleep, clock=clock)
                raise BatchDeferred(f"batch {batch.id} of scan {batch.scan}: {exc}") from exc
            log.warning(
                "batch %s of scan %s: %s; running it again in %.1f s", batch.id, batch.scan, exc, delay
            )
            await sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)


async def await_broker(
    redis: Redis,
    *,
    stopping: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Return once the broker answers a ``PING``, or at once when ``stopping()``.

    A task hands its message back to Celery (reject or acknowledge) through the broker. Handed back while the
    broker is away, the reject fails ("Couldn't reject … TimeoutError") and the worker's consumer takes no
    message again, even after the broker is back (measured: a 60 s freeze left both workers idle for the 5
    minutes a scan then waited). A worker can take no other work meanwhile, so it waits here, logging every
    ``_AWAIT_LOG_EVERY`` seconds."""
    started = logged = clock()
    while not stopping():
        try:
            await redis.ping()
            return
        except OUTAGE_ERRORS as exc:
            if clock() - logged >= _AWAIT_LOG_EVERY:
                logged = clock()
                log.warning(
                    "the broker has not answered for %.0f s (%s); waiting for it", logged - started, exc
                )
        await sleep(_AWAIT_EVERY)


async def _run_once(
    batch: Batch,
    *,
    redis: Redis,
    keys: Keys,
    store: PageStore | None,
    worker: str,
    key_ttl: int,
    env: Mapping[str, str],
    lease_ttl: float,
    kits: FetchKits | None,
) -> int:
    hold = redis.register_script(_HOLD)
    lease_args: list[str | int] = [batch.id, int(lease_ttl * 1000), worker, key_ttl]
    start = redis.register_script(_START)
    if not await start(keys=[keys.running_scans, keys.leases(batch.scan)], args=[batch.scan, *lease_args]):
        log.info("batch %s: scan %s is over; skipped", batch.id, batch.scan)
        return 0
    done = asyncio.Event()
    renewer = asyncio.create_task(_renew(hold, keys.leases(batch.scan), lease_args, lease_ttl / 4, done))
    reply: dict[str, Any] = {"batch": batch.id, "worker": worker}
    pages: dict[str, Page] = {}
    try:
        try:
            fetched = await fetch_batch(batch, redis=redis, keys=keys, env=env, kits=kits)
        except LinkdoctorError as exc:
            reply["error"] = str(exc)
        else:
            pages = fetched.pages
            reply["pages"] = {key: page_to_json(page) for key, page in pages.items()}
            if fetched.retries:
                reply["retry"] = [[item.to_json(), round(pause, 3)] for item, pause in fetched.retries]
            if store is not None:  # durable before the coordinator hears of it
                await asyncio.to_thread(store.put, batch.scan, reply["pages"])
    finally:
        # Stopped before the reply releases the lease, so no late renewal brings it back. Not cancelled:
        # redis-py may turn a cancelled command into an error.
        done.set()
        await renewer
    await _reply(redis, keys, batch, reply, key_ttl, worker=worker, pages=list(pages.values()))
    return 0 if "error" in reply else len(batch.items)


async def _renew(hold: Any, leases: str, args: list[str | int], every: float, done: asyncio.Event) -> None:
    """Renew the batch's lease every ``every`` seconds until ``done``; a failed renewal is tried again at the
    next beat."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), every)
        if done.is_set():
            return
        try:
            await hold(keys=[leases], args=args)
        except OUTAGE_ERRORS as exc:
            log.warning("cannot renew the lease on batch %s: %s", args[0], exc)


async def _reply(
    redis: Redis,
    keys: Keys,
    batch: Batch,
    reply: dict[str, Any],
    ttl: int,
    *,
    worker: str = "",
    pages: Collection[Page] = (),
) -> None:
    """Push the reply and release the lease in one transaction; fetches handed back for a retry leave the
    scan's set of sent fetches (they are not done). The cluster's counters for ``pages`` ride in the same
    round trip, after the reply: a counter that fails (a key of the wrong type) is logged, never a reason to
    run the batch again; the reply's own commands must succeed."""
    key = keys.replies(batch.scan)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(reply))
        pipe.expire(key, ttl)
        pipe.hdel(keys.leases(batch.scan), batch.id)
        if reply.get("retry"):  # not done: a coordinator resuming the scan must send these again
            pipe.srem(keys.seen(batch.scan), *(FetchItem.from_json(data).key for data, _ in reply["retry"]))
        needed = len(pipe)
        if "error" not in reply:
            _count(pipe, keys, worker, pages)
        answers = await pipe.execute(raise_on_error=False)
    for answer in answers[:needed]:
        if isinstance(answer, Exception):
            raise answer
    for answer in answers[needed:]:
        if isinstance(answer, Exception):
            log.warning("batch %s: a counter was not updated: %s", batch.id, answer)
            break


def _count(pipe: Any, keys: Keys, worker: str, pages: Collection[Page]) -> None:
    """Cluster-wide counters for the dashboard and /metrics, queued on ``pipe``."""
    results = [page.result for page in pages]
    now = time.time()
    pipe.hincrby(keys.counters, "checks", len(results))
    pipe.hincrby(keys.counters, "batches", 1)
    pipe.hincrby(keys.counters, "pages", sum(1 for p in pages if p.extraction is not None))
    pipe.hincrby(keys.worker_stats(worker), "checks", len(results))
    pipe.hincrby(keys.worker_stats(worker), "batches", 1)
    pipe.expire(keys.worker_stats(worker), 24 * 3600)
    bucket = keys.rate_bucket(now)
    pipe.incrby(bucket, len(results))
    pipe.expire(bucket, 3600)
    for result in results:
        if result.category in (Category.BROKEN, Category.UNVERIFIED) and result.diagnosis is not None:
            pipe.hincrby(keys.diagnoses, result.diagnosis.code, 1)
