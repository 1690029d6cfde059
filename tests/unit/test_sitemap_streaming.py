"""Sitemaps stream: a huge sitemap index is counted, not taken whole; a gzip sitemap that inflates without end
stops at the cap; and in a crawl, the locs past the cap and past the URL budget are counted as left out."""

from __future__ import annotations

import gzip
import time
import tracemalloc

from tests.support.memory_site import MemoryTransport, Reply

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.inputs.sitemap import (
    MAX_SITEMAP_BYTES,
    MAX_SITEMAP_URLS,
    parse_sitemap,
    sitemap_result,
)
from linkdoctor.models import Category, CheckResult

SITE = "http://site.test"


def sitemap_index(count: int) -> bytes:
    entries = "".join(f"<sitemap><loc>{SITE}/sitemap-{n}.xml</loc></sitemap>\n" for n in range(count))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</sitemapindex>\n'
    ).encode()


def urlset(count: int) -> bytes:
    entries = "".join(f"<url><loc>{SITE}/page-{n}.html</loc></url>\n" for n in range(count))
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>\n'.encode()


def test_a_huge_sitemap_index_keeps_the_protocols_limit_and_counts_the_rest() -> None:
    data = sitemap_index(80_000)
    tracemalloc.start()
    try:
        sitemap = parse_sitemap(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sitemap is not None and sitemap.is_index
    assert len(sitemap.locs) == MAX_SITEMAP_URLS
    assert sitemap.found == 80_000
    # the 50,000 kept URLs and the parser's buffers, never a tree of 80,000 entries
    assert peak < 20 * 1024 * 1024


def test_past_the_cap_a_gzip_sitemap_is_counted_at_the_speed_of_bytes() -> None:
    data = gzip.compress(urlset(400_000), 1)
    started = time.monotonic()
    sitemap = parse_sitemap(data)
    assert sitemap is not None and sitemap.found == 400_000 and len(sitemap.locs) == MAX_SITEMAP_URLS
    assert time.monotonic() - started < 5  # parsing all 400,000 entries as XML takes several times longer


def test_a_gzip_sitemap_inflating_past_the_cap_keeps_what_came_before() -> None:
    body = urlset(1000)[:-11] + b"<!-- padding -->" * (MAX_SITEMAP_BYTES // 16 + 1000)
    sitemap = parse_sitemap(gzip.compress(body))
    assert sitemap is not None and sitemap.found == 1000


def test_a_sitemap_cut_at_its_cap_says_so_in_its_result() -> None:
    body = urlset(1000)[:-11] + b"<!-- padding -->" * (MAX_SITEMAP_BYTES // 16 + 1000)
    sitemap = parse_sitemap(gzip.compress(body))
    assert sitemap is not None and sitemap.cut
    result = sitemap_result(CheckResult(f"{SITE}/sitemap.xml.gz", Category.OK), sitemap)
    assert result.category is Category.OK
    assert result.diagnosis is not None and result.diagnosis.code == "http.body-truncated"
    assert "1,000 URLs read" in result.diagnosis.summary
    whole = parse_sitemap(urlset(10))
    assert whole is not None and not whole.cut
    assert sitemap_result(CheckResult(SITE, Category.OK), whole).diagnosis is None


def test_a_gzip_bomb_of_zeros_is_not_a_sitemap() -> None:
    assert parse_sitemap(gzip.compress(bytes(200 * 1024 * 1024))) is None


def test_a_sitemap_cut_short_keeps_its_complete_entries() -> None:
    data = urlset(100)
    sitemap = parse_sitemap(data[: len(data) // 2])
    assert sitemap is not None and 40 < len(sitemap.locs) < 60


def sitemap_site(count: int) -> MemoryTransport:
    """``/sitemap.xml`` lists ``count`` pages; every page is a small leaf."""
    sitemap = Reply(200, urlset(count), (("content-type", "application/xml"),))
    leaf = Reply(200, headers=(("content-type", "image/png"),))
    return MemoryTransport(lambda url: sitemap if url.endswith("/sitemap.xml") else leaf)


async def crawl_sitemap(count: int, config: CheckConfig) -> dict[str, int]:
    crawler = Crawler(config, transport=sitemap_site(count))
    report = await crawler.run(collect_inputs([f"{SITE}/sitemap.xml"]))
    return {item.code: item.count for item in report.summary.left_out}


async def test_a_sitemaps_urls_past_the_cap_are_counted_as_left_out() -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_links_per_page=300)
    assert await crawl_sitemap(1000, config) == {"crawl.link-cap": 700}


async def test_the_url_budget_bounds_a_sitemap_too() -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_urls=101)
    assert await crawl_sitemap(1000, config) == {"crawl.url-budget": 900}


async def test_the_sitemap_budget_bounds_the_urls_taken_from_sitemaps() -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_sitemap_urls=250)
    assert await crawl_sitemap(1000, config) == {"crawl.url-budget": 750}


async def test_an_index_of_many_sitemaps_is_read_only_up_to_the_sitemap_budget() -> None:
    def reply(url: str) -> Reply:
        if url.endswith("/sitemap.xml"):
            return Reply(200, sitemap_index(100), (("content-type", "application/xml"),))
        if "/sitemap-" in url:
            return Reply(200, urlset(100), (("content-type", "application/xml"),))
        return Reply(200, headers=(("content-type", "image/png"),))

    transport = MemoryTransport(reply)
    config = CheckConfig(retries=0, respect_robots=False, max_sitemap_urls=1000, max_concurrency=4)
    report = await Crawler(config, transport=transport).run(collect_inputs([f"{SITE}/sitemap.xml"]))
    read = {url for method, url in transport.sent if "/sitemap-" in url and method == "GET"}
    assert len(read) < 20  # the index's 100 sitemaps of 100 URLs: the first few fill the budget of 1,000
    left_out = {item.code: item.count for item in report.summary.left_out}
    assert left_out["crawl.url-budget"] >= 100 - len(read)
