"""The hostile server's answers that no HTTP library sends (its raw-socket half) and its newer endpoints: each
link gets a precise result (its category and diagnosis code) quickly, never a hang, a crash or a wait of
years."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from tests.support import hostile
from tests.support.hostile_run import HostileSite, hostile_site

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, CheckResult

FAST = CheckConfig(retries=0, timeout=3.0, respect_robots=False)
PROTOCOL = (Category.BROKEN, "http.protocol-error")


@pytest.fixture
async def site() -> AsyncIterator[HostileSite]:
    async with hostile_site(hostile.gzip_bomb(4 * 1024**2), leave_out=frozenset({"/robots.txt"})) as running:
        yield running


async def check_links(urls: list[str], config: CheckConfig = FAST) -> dict[str, CheckResult]:
    report = await check_async(config, collect_inputs([], url_lists=[("list", urls)]))
    return {r.url: r for r in report.results}


def verdict(result: CheckResult) -> tuple[Category, str | None]:
    return result.category, None if result.diagnosis is None else result.diagnosis.code


RAW = {
    "/bad-status-line": PROTOCOL,
    "/garbage-status": PROTOCOL,
    "/http09": PROTOCOL,
    "/broken-header": PROTOCOL,
    "/oversized-header": PROTOCOL,
    "/many-headers": PROTOCOL,
    "/negative-length": PROTOCOL,
    "/duplicate-length": PROTOCOL,
    "/broken-chunked": PROTOCOL,
    "/non-utf8-reason": (Category.BROKEN, "http.not-found"),
    "/malformed-location": (Category.BROKEN, "url.invalid"),
    "/never-answers": (Category.BROKEN, "net.timeout"),
    "/slow-headers": (Category.BROKEN, "net.timeout"),
}


async def test_answers_no_http_library_sends_get_precise_results_at_once(site: HostileSite) -> None:
    started = time.monotonic()
    results = await check_links([site.raw_base + path for path in RAW])

    assert {path: verdict(results[site.raw_base + path]) for path in RAW} == RAW
    assert time.monotonic() - started < 3 * FAST.timeout  # the stalls end at the timeout, together


async def test_a_reason_phrase_that_is_not_utf8_keeps_its_status(site: HostileSite) -> None:
    result = (await check_links([site.raw_base + "/non-utf8-reason"]))[site.raw_base + "/non-utf8-reason"]
    assert result.status == 404


async def test_a_redirect_into_file_is_broken_and_never_read(site: HostileSite) -> None:
    url = site.web_base + "/redirect-to-file"
    assert verdict((await check_links([url]))[url]) == (Category.BROKEN, "url.file-on-web")


async def test_a_retry_after_of_years_or_a_far_date_is_not_waited_for(site: HostileSite) -> None:
    urls = [site.web_base + "/retry-after-years", site.web_base + "/retry-after-far-date"]
    started = time.monotonic()
    results = await check_links(urls, CheckConfig(retries=2, timeout=3.0, respect_robots=False))

    assert [verdict(results[u]) for u in urls] == [(Category.UNVERIFIED, "http.rate-limited")] * 2
    assert time.monotonic() - started < 10


async def test_an_entity_bomb_sitemap_is_not_expanded(site: HostileSite) -> None:
    started = time.monotonic()
    report = await check_async(FAST, collect_inputs([site.web_base + "/entity-bomb.xml"]))

    assert not any("lol" in r.url for r in report.results)
    assert time.monotonic() - started < 5


async def test_a_gzip_sitemap_that_inflates_to_gigabytes_is_cut_short(site: HostileSite) -> None:
    started = time.monotonic()
    await check_async(
        CheckConfig(retries=0, respect_robots=False, max_urls=100),
        collect_inputs([site.web_base + "/sitemap-bomb.xml.gz"]),
    )

    assert site.sent() < 50 * 1024**2  # of a 6 MB body that inflates to 2 GiB
    assert time.monotonic() - started < 60  # building the 2 GiB stream takes seconds on a loaded machine
