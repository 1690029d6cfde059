"""The engine's budget and resume (``CheckConfig.max_checks``, ``Crawler.frontier()``, ``run(resume=…)``) on
the generated nginx site: a crawl cut into budgeted pieces ends with the same report as one full crawl."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from harness.sites import GeneratedSite

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Report

CONFIG = CheckConfig(max_concurrency=8, retries=0, timeout=5.0)
MAX_ORDER_REFETCHES = 2


async def budgeted_run(
    site: GeneratedSite, config: CheckConfig, resume: Frontier | None
) -> tuple[Report, Frontier, int]:
    seen: list[Crawler] = []

    @asynccontextmanager
    async def capture(crawler: Crawler) -> AsyncIterator[None]:
        seen.append(crawler)
        yield

    report = await check_async(config, collect_inputs([site.base_url]), around=capture, resume=resume)
    return report, seen[0].frontier(), seen[0].checks


def essentials(report: Report) -> set[tuple[str, str, int | None, tuple[str, ...]]]:
    return {
        (r.url, r.category.value, r.status, tuple(sorted({ref.url for ref in r.referrers})))
        for r in report.results
    }


async def test_a_budget_stops_new_checks_and_leaves_a_frontier(generated_site: GeneratedSite) -> None:
    report, frontier, checks = await budgeted_run(generated_site, replace(CONFIG, max_checks=20), None)
    assert checks == 20
    assert frontier.pending > 0
    full = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    assert 0 < len(report.results) < len(full.results)


async def test_resuming_in_budgeted_pieces_equals_one_full_crawl(generated_site: GeneratedSite) -> None:
    full = await check_async(CONFIG, collect_inputs([generated_site.base_url]))
    config = replace(CONFIG, max_checks=25)
    frontier: Frontier | None = None
    total_checks = 0
    for _piece in range(100):  # bounded: the site needs far fewer pieces
        report, frontier, checks = await budgeted_run(generated_site, config, frontier)
        total_checks += checks
        frontier = Frontier.from_json(frontier.to_json())  # what the monitor stores and loads
        if frontier.pending == 0:
            break
    assert frontier is not None and frontier.pending == 0
    assert essentials(report) == essentials(full)
    unbudgeted_checks = (await budgeted_run(generated_site, CONFIG, None))[2]
    # Nothing was checked twice. A page checked without its body (it was no crawl target when its turn
    # came) is fetched once more when a #fragment link to it turns up later: whether that happens depends
    # on the order pages finish in, in either run, so the counts may differ by such a refetch or two.
    assert abs(total_checks - unbudgeted_checks) <= MAX_ORDER_REFETCHES, (total_checks, unbudgeted_checks)


async def test_a_resumed_run_without_pending_work_makes_no_requests(generated_site: GeneratedSite) -> None:
    _, frontier, _ = await budgeted_run(generated_site, CONFIG, None)
    report, after, checks = await budgeted_run(generated_site, CONFIG, frontier)
    assert checks == 0
    assert after.pending == 0
    assert report.results
