"""``kill -9`` of a worker in the middle of a batch loses nothing: the batch is redone by the other worker,
the scan completes with the same result set as an in-process scan, and no stored row is duplicated."""

from __future__ import annotations

import asyncio
import time

import pytest
from harness.redis import RedisServer
from harness.sites import GeneratedSite
from tests.integration.distributed.conftest import StartWorker
from tests.integration.distributed.test_equality import CONFIG, result_set

from linkdoctor.distributed.run import remote_pages
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
BUSY_TIMEOUT_S = 60.0


async def test_killed_worker_loses_nothing_and_duplicates_nothing(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    victim = start_worker("victim@test", visibility_timeout=5.0)
    start_worker("survivor@test", visibility_timeout=5.0)
    settings = BrokerSettings(redis_server.url, db_url=pg_url, visibility_timeout=5.0, redispatch_after=30.0)
    store = FetchStore.open(pg_url)
    client = redis_server.client()

    async with remote_pages(settings, CONFIG, scan="kill", env={}) as pages:
        scan = asyncio.create_task(check_async(CONFIG, collect_inputs([big_site.base_url]), pages=pages))
        # Both workers hold a batch (each takes one at a time): the victim dies in the middle of one.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while client.hlen("unacked") < 2 or client.hget("linkdoctor:worker:victim@test", "batches") is None:
            assert time.monotonic() < deadline, "the workers never got busy together"
            assert not scan.done(), "the scan ended before the worker could be killed"
            await asyncio.sleep(0.01)
        victim.kill()
        killed_at = pages.dispatched
        distributed: Report = await asyncio.wait_for(scan, timeout=240)
        rows, distinct = store.count("kill")
        await pages.finish()

    local = await check_async(CONFIG, collect_inputs([big_site.base_url]))
    assert killed_at < pages.dispatched  # the scan was far from done when the worker died
    assert result_set(distributed) == result_set(local)
    assert rows == distinct  # one row per fetch, however often a batch ran
    assert distinct >= local.summary.pages_crawled
