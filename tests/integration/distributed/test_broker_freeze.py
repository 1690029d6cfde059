"""A frozen broker (``SIGSTOP`` of redis-server for 20 s) mid-scan, with default settings: every Redis call
times out instead of hanging, the coordinator and the workers ride the outage out keeping all state, and the
scan finishes within 90 s of ``SIGCONT`` with the result set of an in-process scan, nothing lost and nothing
duplicated. Frozen for longer than the outage grace, the coordinator stops resumably, and every worker takes
work again once the broker is back."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from harness.redis import RedisServer
from harness.sites import GeneratedSite
from tests.integration.distributed.conftest import StartWorker
from tests.integration.distributed.test_equality import result_set

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import remote_pages
from linkdoctor.distributed.settings import DEFAULT_OUTAGE_GRACE, BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(420)]
FREEZE_AFTER_ROWS = 300
BUSY_TIMEOUT_S = 90.0
FREEZE_S = 20.0
FINISH_AFTER_THAW_S = 90.0
LONG_FREEZE_S = DEFAULT_OUTAGE_GRACE + 15.0  # a batch in flight outlasts its grace while the broker is away
DEFAULTS = CheckConfig()


async def freeze_mid_scan(
    redis_server: RedisServer, store: FetchStore, key: str, scan: asyncio.Task[Report], seconds: float
) -> None:
    """``SIGSTOP`` Redis for ``seconds`` once the workers stored FREEZE_AFTER_ROWS pages of scan ``key``."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while (await asyncio.to_thread(store.count, key))[0] < FREEZE_AFTER_ROWS:
        assert time.monotonic() < deadline, "the workers never stored enough pages"
        assert not scan.done(), "the scan ended before the broker could be frozen"
        await asyncio.sleep(0.05)
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)


async def test_a_frozen_broker_stalls_the_scan_only_while_it_is_frozen(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    start_worker("f1@test")
    start_worker("f2@test")
    settings = BrokerSettings(redis_server.url, db_url=pg_url)
    store = FetchStore.open(pg_url)

    async with remote_pages(settings, DEFAULTS, scan="freeze", env={}) as pages:
        scan = asyncio.create_task(check_async(DEFAULTS, collect_inputs([big_site.base_url]), pages=pages))
        await freeze_mid_scan(redis_server, store, "freeze", scan, FREEZE_S)
        thawed = time.monotonic()
        assert not scan.done(), "the scan ended while the broker was frozen"
        distributed: Report = await asyncio.wait_for(scan, timeout=FINISH_AFTER_THAW_S + 60)
        after_thaw_s = time.monotonic() - thawed
        rows, distinct = store.count("freeze")
        await pages.finish()

    local = await check_async(DEFAULTS, collect_inputs([big_site.base_url]))
    assert result_set(distributed) == result_set(local)
    assert len(distributed.results) == len(local.results)  # no result twice
    assert rows == distinct
    assert after_thaw_s <= FINISH_AFTER_THAW_S, after_thaw_s


async def test_workers_take_work_again_after_a_freeze_longer_than_the_outage_grace(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    names = ("g1@test", "g2@test")
    for name in names:
        start_worker(name)  # solo: the pool whose consumer a failed reject left deaf to the queue
    settings = BrokerSettings(redis_server.url, db_url=pg_url)
    store = FetchStore.open(pg_url)
    client = redis_server.client()
    async with remote_pages(settings, DEFAULTS, scan="long", env={}) as pages:
        scan = asyncio.create_task(check_async(DEFAULTS, collect_inputs([big_site.base_url]), pages=pages))
        await freeze_mid_scan(redis_server, store, "long", scan, LONG_FREEZE_S)
        with pytest.raises(FetchInterrupted, match="lost the broker"):  # resumably, after its grace
            await asyncio.wait_for(scan, timeout=FINISH_AFTER_THAW_S)
    before = {name: int(client.hget(settings.keys.worker_stats(name), "batches") or 0) for name in names}

    # Both workers' batches outlasted the grace during the freeze; handed back to a broker that was away,
    # the reject failed and neither worker took a batch again (a scan then waited 5 minutes for an answer).
    async with remote_pages(settings, DEFAULTS, scan="after", env={}) as pages:
        distributed = await asyncio.wait_for(
            check_async(DEFAULTS, collect_inputs([big_site.base_url]), pages=pages),
            timeout=FINISH_AFTER_THAW_S,
        )
        await pages.finish()
    after = {name: int(client.hget(settings.keys.worker_stats(name), "batches") or 0) for name in names}
    local = await check_async(DEFAULTS, collect_inputs([big_site.base_url]))
    assert result_set(distributed) == result_set(local)
    assert all(after[name] > before[name] for name in names), (before, after)
