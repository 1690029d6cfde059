"""Distributed runs: a one-off crawl for ``linkdoctor check --broker`` (resumable with ``--resume``, and
partial when interrupted: :mod:`linkdoctor.distributed.resume`), and the scan-job runner that
``linkdoctor serve --broker`` hands to the monitor.

>>> # report = run_sync(check_distributed(config, collect_inputs([url]), BrokerSettings("redis://…")))
>>> # report = run_sync(check_distributed(config, inputs, settings, scan="cli-1f2e", resume=True))
>>> # monitor = Monitor.open(db_url, job_runner=scan_job_runner(settings))
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import replace
from secrets import token_hex
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.app import celery_publisher, create_celery
from linkdoctor.distributed.claim import HeldScan
from linkdoctor.distributed.coordinator import RemotePages, new_scan_key
from linkdoctor.distributed.crawlstate import RedisState
from linkdoctor.distributed.health import in_flight_cap
from linkdoctor.distributed.pagestore import open_page_store
from linkdoctor.distributed.resume import Interrupt, fingerprint, open_scan, owner_id, secrets_of
from linkdoctor.distributed.settings import BrokerSettings, async_redis, sync_redis
from linkdoctor.distributed.wire import FetchSpec
from linkdoctor.engine.cache import ResultCache
from linkdoctor.engine.crawl import Crawler, ResultSink
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from linkdoctor.monitor.scan import ScanJob, ScanOutcome


@asynccontextmanager
async def remote_pages(
    settings: BrokerSettings,
    config: CheckConfig,
    *,
    scan: str,
    env: Mapping[str, str],
    allow_private: tuple[str, ...] | None = None,
    opening: Callable[[Redis, str], Awaitable[None]] | None = None,
    owner: str | None = None,
    linger: bool = False,
    stopped: Callable[[str, float], FetchInterrupted | None] | None = None,
) -> AsyncIterator[RemotePages]:
    """A :class:`RemotePages` on a fresh Redis connection, Celery publisher and page store (the database's
    with ``db_url``, else Redis's). ``opening(redis, store kind)`` runs before any work is handed out;
    ``owner`` names the coordinator in the scan's claim (see :func:`~linkdoctor.distributed.resume.open_scan`),
    which ``linger`` leaves held, with the scan live, when the crawl ends; ``stopped`` stops it at once
    during an outage (see :class:`RemotePages`)."""
    spec = FetchSpec.from_config(config, env=env, allow_private=allow_private)
    app = create_celery(settings)
    store = open_page_store(settings)
    redis = async_redis(settings)  # with the settings' socket timeouts
    try:
        if opening is not None:
            try:
                await opening(redis, store.kind)
            except (RedisError, OSError) as exc:  # one line, as when the coordinator starts
                raise FetchInterrupted(f"cannot reach the broker: {exc}") from exc
        async with RemotePages(
            settings,
            spec,
            scan=scan,
            redis=redis,
            publish=celery_publisher(app, settings),
            store=store,
            owner=owner,
            linger=linger,
            stopped=stopped,
        ) as pages:
            yield pages
    finally:
        await redis.aclose()
        store.close()
        app.close()


async def check_distributed(
    config: CheckConfig,
    inputs: Inputs,
    settings: BrokerSettings,
    *,
    scan: str | None = None,
    resume: bool = False,
    interrupt: Interrupt | None = None,
    held: HeldScan | None = None,
    announce: Callable[[str], None] | None = None,
    on_result: ResultSink | None = None,
    around: Callable[[Crawler], AbstractAsyncContextManager[None]] | None = None,
    frontier: Frontier | None = None,
    cache: ResultCache | None = None,
    allow_private: tuple[str, ...] | None = None,
    env: Mapping[str, str] | None = None,
) -> Report:
    """:func:`~linkdoctor.engine.runner.check_async` with fetching and parsing done by the workers.

    ``resume`` runs the interrupted scan ``scan`` again: what its workers stored is replayed, not fetched
    (a :class:`~linkdoctor.errors.ConfigError` when there is no such scan). ``announce(scan)`` is called
    once the scan is live (its coordinator's first beat is in Redis). With ``interrupt``, SIGINT and
    SIGTERM stop the run with a partial report and the scan's keys kept
    (:class:`~linkdoctor.distributed.resume.Interrupt`). A finished run forgets them, unless the caller
    ``held`` the scan (:class:`~linkdoctor.distributed.claim.HeldScan`, whose key and owner the run takes):
    then the scan stays live and claimed when the crawl ends, and the caller holds it while it writes the
    report and forgets it after (a ``check`` killed while writing can still ``--resume``, replaying every
    page; one started meanwhile is refused)."""
    env = os.environ if env is None else env
    key = held.scan if held is not None else scan or new_scan_key()
    if resume and scan is None:
        raise ValueError("resume needs the scan key")
    if scan is not None and scan != key:
        raise ValueError("the scan held is not the scan run")
    spec = FetchSpec.from_config(config, env=env, allow_private=allow_private)
    owner = held.owner if held is not None else owner_id()

    async def opening(redis: Redis, store: str) -> None:
        mark = await asyncio.to_thread(fingerprint, spec, inputs, secrets=secrets_of(config), salt=key)
        opened = open_scan(redis, settings, key, store=store, fingerprint=mark, resume=resume, owner=owner)
        await (opened if interrupt is None else interrupt.guard(opened))

    # The signals are caught from the start: one during a resume's wait for a dead coordinator ends it.
    with interrupt.installed() if interrupt is not None else nullcontext():
        async with remote_pages(
            settings,
            config,
            scan=key,
            env=env,
            allow_private=allow_private,
            opening=opening,
            owner=owner,
            linger=held is not None,
            stopped=None if interrupt is None else interrupt.stopped_while,
        ) as pages:
            if announce is not None:  # once the scan is live: a check killed from here on can resume it
                announce(key)
            # The crawl keeps work in flight for every live worker slot, not --max-concurrency's fixed count (the
            # workers got their own limits with the spec).
            cap = await asyncio.to_thread(in_flight_cap, settings, config.max_concurrency)
            config = replace(config, max_concurrency=cap)
            # The crawl's links and referrers live in Redis, not here (an earlier run's go first).
            await pages.clear_crawl_state()
            client = sync_redis(settings, encoding_errors="surrogatepass")
            state = RedisState(
                client,
                f"{settings.keys.crawl_state(key)}:{token_hex(4)}",
                keep_all=config.all_referrers,
                ttl=settings.key_ttl,
                outage_grace=settings.outage_grace,
                stopped=None if interrupt is None else interrupt.stopped_while,
            )
            try:
                if interrupt is None:
                    report = await check_async(
                        config,
                        inputs,
                        pages=pages,
                        on_result=on_result,
                        around=around,
                        resume=frontier,
                        cache=cache,
                        state=state,
                    )
                    if held is not None:  # the report, read from the crawl state, is still to come
                        await asyncio.to_thread(held.hold)
                else:
                    interrupt.attach(pages.stop_now)
                    try:
                        report = await check_async(
                            config,
                            inputs,
                            pages=pages,
                            on_result=on_result,
                            around=interrupt.around(around),
                            resume=frontier,
                            cache=cache,
                            state=state,
                        )
                    finally:
                        pages.interrupted = interrupt.signum is not None
                    if held is not None:  # the report, read from the crawl state, is still to come
                        await asyncio.to_thread(held.hold)
                    if pages.interrupted:  # the scan's keys stay: ``--resume`` picks up from here
                        return interrupt.partial(report)
            finally:
                client.close()
            if held is None:  # the results are read from the crawl state before it goes
                report = replace(report, results=tuple(report.results))
                await pages.finish()
    return report


def scan_job_runner(
    settings: BrokerSettings,
    *,
    allow_private: tuple[str, ...] | None = None,
    env: Mapping[str, str] | None = None,
) -> Callable[[ScanJob], ScanOutcome]:
    """A monitor ``job_runner`` that runs each scan job with its fetches on the workers."""
    from linkdoctor.engine.runner import run_sync
    from linkdoctor.monitor.scan import run_scan_job_async

    environ = os.environ if env is None else env

    def run(job: ScanJob) -> ScanOutcome:
        from linkdoctor.monitor.scan import build_config

        config = build_config(job.spec, budget=job.budget, env=environ)
        scan = f"site-{job.scan_id}" if job.scan_id is not None else new_scan_key("site")

        async def go() -> ScanOutcome:
            async with remote_pages(
                settings, config, scan=scan, env=environ, allow_private=allow_private
            ) as pages:
                outcome = await run_scan_job_async(job, env=environ, pages=pages)
                await pages.finish()
            return outcome

        return run_sync(go())

    return run
