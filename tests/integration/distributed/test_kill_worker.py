"""``kill -9`` of a whole worker in the middle of a batch, with default settings (retries on, Celery's 300 s
visibility timeout): the batch's lease runs out, the coordinator sends it again within seconds, and the scan
finishes within the in-process time plus 60 s with the result set of an in-process scan, nothing lost and
no stored row duplicated."""

from __future__ import annotations

import asyncio
import time

import pytest
from harness.redis import RedisServer
from harness.sites import GeneratedSite
from tests.integration.distributed.conftest import StartWorker
from tests.integration.distributed.test_equality import result_set

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import remote_pages
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(420)]
BUSY_TIMEOUT_S = 60.0
SLACK_S = 60.0
DEFAULTS = CheckConfig()


async def test_a_killed_worker_s_batch_returns_in_seconds_and_nothing_is_lost_or_duplicated(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    started = time.monotonic()
    local = await check_async(DEFAULTS, collect_inputs([big_site.base_url]))
    in_process_s = time.monotonic() - started

    victim = start_worker("victim@test")
    start_worker("survivor@test")
    settings = BrokerSettings(redis_server.url, db_url=pg_url)
    store = FetchStore.open(pg_url)
    client = redis_server.client()
    leases = settings.keys.leases("kill")

    started = time.monotonic()
    async with remote_pages(settings, DEFAULTS, scan="kill", env={}) as pages:
        scan = asyncio.create_task(check_async(DEFAULTS, collect_inputs([big_site.base_url]), pages=pages))
        # The victim dies holding a batch (its lease is in the scan's lease hash).
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while not any(b"|victim@test" in holder for holder in client.hvals(leases)):
            assert time.monotonic() < deadline, "the victim never held a batch"
            assert not scan.done(), "the scan ended before the worker could be killed"
            await asyncio.sleep(0.01)
        victim.kill()
        killed_at = pages.dispatched
        distributed: Report = await asyncio.wait_for(scan, timeout=in_process_s + SLACK_S + 30)
        distributed_s = time.monotonic() - started
        rows, distinct = store.count("kill")
        await pages.finish()

    assert killed_at < pages.dispatched  # the scan was far from done when the worker died
    assert pages.leases_expired >= 1  # the batch came back through its lease, not the visibility timeout
    assert result_set(distributed) == result_set(local)
    assert len(distributed.results) == len(local.results)  # no result twice
    assert rows == distinct  # one row per fetch, however often a batch ran
    assert distinct >= local.summary.pages_crawled
    assert distributed_s <= in_process_s + SLACK_S, (distributed_s, in_process_s)
