"""``--host-interval`` holds as the server sees it, across workers: the gap between any two requests'
arrivals at the server (stamped by the server itself) is never shorter than the interval, whatever the
network's and the workers' jitter."""

from __future__ import annotations

import itertools

import pytest
from harness.redis import RedisServer
from tests.integration.distributed.conftest import StartWorker
from tests.integration.distributed.test_politeness import LEAVES, PAGES, counting_server

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.models import Category

pytestmark = pytest.mark.timeout(240)
INTERVAL_S = 0.05
CLOCK_SLACK_S = 0.001  # the stamps are time.monotonic() of one process: sub-millisecond


async def test_the_host_interval_holds_at_the_server_across_workers(
    redis_server: RedisServer, start_worker: StartWorker
) -> None:
    start_worker("i1@test")
    start_worker("i2@test")
    settings = BrokerSettings(redis_server.url, link_batch=16)
    config = CheckConfig(max_per_host=4, host_interval=INTERVAL_S, retries=0, respect_robots=False)

    async with counting_server() as (counter, url):
        report = await check_distributed(config, collect_inputs([url]), settings)

    assert sum(1 for r in report.results if r.category is Category.OK) == 1 + PAGES + LEAVES
    arrivals = sorted(counter.started)
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) >= PAGES + LEAVES
    assert min(gaps) >= INTERVAL_S - CLOCK_SLACK_S, sorted(gaps)[:5]
