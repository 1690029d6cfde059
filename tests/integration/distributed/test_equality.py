"""A distributed scan gives exactly the result set of an in-process scan: categories, diagnoses and
referrers, on a 3,000-page site, with two real workers, real Redis and real PostgreSQL."""

from __future__ import annotations

import pytest
from harness.redis import RedisServer
from harness.sites import GeneratedSite
from tests.integration.distributed.conftest import StartWorker

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import CheckResult, Report

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
CONFIG = CheckConfig(retries=0)

Row = tuple[str, str, int | None, int | None, str | None, str, tuple[tuple[str, int | None, str], ...]]


def comparable(result: CheckResult) -> Row:
    """Everything a result says, except how long it took."""
    return (
        result.url,
        result.category.value,
        result.status,
        result.precise_status,
        None if result.diagnosis is None else result.diagnosis.code,
        result.final_url,
        tuple((r.url, r.line, r.text) for r in result.referrers),
    )


def result_set(report: Report) -> set[Row]:
    return {comparable(r) for r in report.results}


async def test_distributed_scan_equals_in_process_scan(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    start_worker("w1@test")
    start_worker("w2@test")
    settings = BrokerSettings(redis_server.url, db_url=pg_url)
    inputs = collect_inputs([big_site.base_url])

    distributed = await check_distributed(CONFIG, inputs, settings, scan="equality")
    local = await check_async(CONFIG, collect_inputs([big_site.base_url]))

    assert local.summary.pages_crawled >= 3000
    assert distributed.summary.pages_crawled == local.summary.pages_crawled
    assert result_set(distributed) == result_set(local)
    assert FetchStore.open(pg_url).count("equality") == (0, 0)  # a finished scan leaves no rows behind


async def test_both_workers_took_part(
    big_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    start_worker("w1@test")
    start_worker("w2@test")
    settings = BrokerSettings(redis_server.url, db_url=pg_url)

    await check_distributed(CONFIG, collect_inputs([big_site.base_url]), settings)

    client = redis_server.client()
    batches = {
        name: int(client.hget(f"linkdoctor:worker:{name}", "batches") or 0) for name in ("w1@test", "w2@test")
    }
    assert all(count > 0 for count in batches.values()), batches
