"""The worker's side of a batch: fetch and parse every item with the engine's own checker, under the shared
Redis limiter, then store the pages (idempotently) and tell the coordinator.

The worker builds its :class:`CheckConfig` from the batch's :class:`~linkdoctor.distributed.wire.FetchSpec`
and its own environment (client certificate files and key passwords are the worker's), so key material never
crosses the broker. A batch that cannot run here (a certificate file missing on this machine) replies with
the error, and the coordinator stops the scan with it.

>>> # await run_batch(batch, redis=redis, keys=settings.keys, store=store, worker="w1@host")
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Collection, Mapping
from typing import Any

from redis.asyncio import Redis

from linkdoctor.config import Method
from linkdoctor.distributed.limiter import RedisHostLimiter
from linkdoctor.distributed.settings import Keys
from linkdoctor.distributed.store import FetchStore
from linkdoctor.distributed.wire import Batch, FetchSpec, page_to_json
from linkdoctor.engine.check import HttpChecker
from linkdoctor.engine.fetching import LocalPages, Page
from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
from linkdoctor.engine.http.ssrf import SSRFGuard, parse_networks
from linkdoctor.errors import LinkdoctorError
from linkdoctor.models import Category
from linkdoctor.tls.context import TLSContextFactory


def _guard(spec: FetchSpec) -> SSRFGuard | None:
    """The SSRF guard when the scan came from the server."""
    if spec.allow_private is None:
        return None
    return SSRFGuard(parse_networks(spec.allow_private))


async def fetch_batch(batch: Batch, *, redis: Redis, keys: Keys, env: Mapping[str, str]) -> dict[str, Page]:
    """Fetch and parse every item of ``batch``; pages by fetch key."""
    config = batch.spec.to_config(env=env)
    tls = TLSContextFactory(config)
    try:
        async with AiohttpTransport(config, guard=_guard(batch.spec)) as transport:
            limiter = RedisHostLimiter(redis, keys, config)
            pages = LocalPages(HttpChecker(transport, config, limiter=limiter, tls=tls))
            fetched = await asyncio.gather(
                *(
                    pages.page(
                        i.url,
                        want_body=i.want_body,
                        method=None if i.method is None else Method(i.method),
                        raw=i.raw,
                    )
                    for i in batch.items
                )
            )
    finally:
        tls.close()
    return {item.key: page for item, page in zip(batch.items, fetched, strict=True)}


async def run_batch(
    batch: Batch,
    *,
    redis: Redis,
    keys: Keys,
    store: FetchStore | None,
    worker: str,
    key_ttl: int,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run one batch end to end; returns the number of fetches made. Safe to run twice."""
    reply: dict[str, Any] = {"batch": batch.id, "worker": worker}
    try:
        pages = await fetch_batch(batch, redis=redis, keys=keys, env=os.environ if env is None else env)
    except LinkdoctorError as exc:
        reply["error"] = str(exc)
        await _reply(redis, keys.replies(batch.scan), reply, key_ttl)
        return 0
    payload = {key: page_to_json(page) for key, page in pages.items()}
    if store is not None:
        await asyncio.to_thread(store.put, batch.scan, payload)  # durable before the coordinator hears of it
    reply["pages"] = payload
    await _reply(redis, keys.replies(batch.scan), reply, key_ttl)
    await _count(redis, keys, worker, list(pages.values()))
    return len(pages)


async def _reply(redis: Redis, key: str, reply: dict[str, Any], ttl: int) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(reply))
        pipe.expire(key, ttl)
        await pipe.execute()


async def _count(redis: Redis, keys: Keys, worker: str, pages: Collection[Page]) -> None:
    """Cluster-wide counters for the dashboard and /metrics."""
    results = [page.result for page in pages]
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
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
        await pipe.execute()
