"""Distributed runs: a one-off crawl for ``linkdoctor check --broker``, and the scan-job runner that
``linkdoctor serve --broker`` hands to the monitor.

>>> # report = run_sync(check_distributed(config, collect_inputs([url]), BrokerSettings("redis://…")))
>>> # monitor = Monitor.open(db_url, job_runner=scan_job_runner(settings))
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.app import celery_publisher, create_celery
from linkdoctor.distributed.coordinator import RemotePages, new_scan_key
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.wire import FetchSpec
from linkdoctor.engine.cache import ResultCache
from linkdoctor.engine.crawl import Crawler, ResultSink
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

if TYPE_CHECKING:
    from linkdoctor.monitor.scan import ScanJob, ScanOutcome


@asynccontextmanager
async def remote_pages(
    settings: BrokerSettings,
    config: CheckConfig,
    *,
    scan: str,
    env: Mapping[str, str],
    allow_private: tuple[str, ...] | None = None,
) -> AsyncIterator[RemotePages]:
    """A :class:`RemotePages` on a fresh Redis connection, Celery publisher and (with ``db_url``) store."""
    from redis.asyncio import Redis

    from linkdoctor.distributed.store import FetchStore

    spec = FetchSpec.from_config(config, env=env, allow_private=allow_private)
    app = create_celery(settings)
    store = FetchStore.open(settings.db_url) if settings.db_url else None
    redis = Redis.from_url(settings.broker_url)
    try:
        async with RemotePages(
            settings, spec, scan=scan, redis=redis, publish=celery_publisher(app, settings), store=store
        ) as pages:
            yield pages
    finally:
        await redis.aclose()
        if store is not None:
            store.close()
        app.close()


async def check_distributed(
    config: CheckConfig,
    inputs: Inputs,
    settings: BrokerSettings,
    *,
    scan: str | None = None,
    on_result: ResultSink | None = None,
    around: Callable[[Crawler], AbstractAsyncContextManager[None]] | None = None,
    resume: Frontier | None = None,
    cache: ResultCache | None = None,
    allow_private: tuple[str, ...] | None = None,
    env: Mapping[str, str] | None = None,
) -> Report:
    """:func:`~linkdoctor.engine.runner.check_async` with fetching and parsing done by the workers. A ``scan`` key
    of an interrupted run picks up what its workers already stored."""
    env = os.environ if env is None else env
    async with remote_pages(
        settings, config, scan=scan or new_scan_key(), env=env, allow_private=allow_private
    ) as pages:
        report = await check_async(
            config, inputs, pages=pages, on_result=on_result, around=around, resume=resume, cache=cache
        )
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
