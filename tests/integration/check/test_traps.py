"""Trap defences and budgets in real crawls: each fires on its trap of the hostile server, with its own code
and a count in the summary, and none fires on the 2,000-page benchmark site or on a real docs tree."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from harness.ports import free_port
from harness.sitegen import SiteSpec, generate_site
from harness.sites import site_server_block
from tests.support import hostile, trap_routes
from tests.support.hostile import HostileServer

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, Report

FAST = CheckConfig(retries=0, timeout=5.0, respect_robots=False)
# The calendar starts at /trap/2026/01/01; its scope is widened to the whole calendar, as a site's root
# would put it in scope.
CALENDAR = (re.compile(r"/trap/"),)
# The benchmark's site (benchmarks/run.py's defaults).
BENCHMARK_SITE = SiteSpec(pages=2000, links_per_page=25, seed=1)
PYTHON_DOCS = Path("/usr/share/doc/python3.11-doc/html")


@pytest.fixture(scope="module")
def python_docs() -> Path:
    """A real documentation tree (Debian's python3.11-doc, which ./scripts/test installs): a missing one
    fails loudly, like a missing nginx."""
    if not PYTHON_DOCS.is_dir():
        pytest.fail(f"{PYTHON_DOCS} is missing: apt-get install python3.11-doc", pytrace=False)
    return PYTHON_DOCS


def left_out(report: Report) -> dict[str, int]:
    return {item.code: item.count for item in report.summary.left_out}


async def crawl(url: str, config: CheckConfig = FAST) -> tuple[Report, float]:
    started = time.monotonic()
    report = await check_async(config, collect_inputs([url]))
    return report, time.monotonic() - started


async def test_a_calendar_trap_is_stopped_by_default(hostile_server: HostileServer) -> None:
    report, elapsed = await crawl(hostile_server.url(hostile.TRAP_START), replace(FAST, scope=CALENDAR))
    assert left_out(report).get("crawl.trap-suspected", 0) > 0
    assert report.summary.pages_crawled < 20_000
    assert elapsed < 60


@pytest.mark.parametrize("start", ["/huge-url-trap/", "/relative-loop/"])
async def test_paths_that_repeat_themselves_are_stopped_by_default(
    hostile_server: HostileServer, start: str
) -> None:
    report, _ = await crawl(hostile_server.url(start))
    assert left_out(report) == {"crawl.trap-suspected": 1}
    assert report.summary.pages_crawled <= 3


async def test_session_ids_in_paths_are_stopped_by_default(hostile_server: HostileServer) -> None:
    sessions = replace(FAST, scope=(re.compile(r"/session/"),))
    report, elapsed = await crawl(hostile_server.url(trap_routes.SESSION_START), sessions)
    assert left_out(report).get("crawl.trap-suspected", 0) > 0
    assert report.summary.pages_crawled <= 2 * FAST.trap_ids + 2
    assert elapsed < 30


async def test_query_strings_on_one_path_are_capped_by_default(hostile_server: HostileServer) -> None:
    report, _ = await crawl(hostile_server.url("/query-explosion"))
    assert left_out(report) == {"crawl.query-cap": trap_routes.QUERY_LINKS - FAST.max_queries}
    items = [r for r in report.results if "/query-explosion/item?" in r.url]
    assert len(items) == FAST.max_queries


async def test_links_past_the_per_page_cap_are_counted(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_links_per_page=500)
    report, _ = await crawl(hostile_server.url("/query-explosion"), config)
    assert left_out(report) == {"crawl.link-cap": trap_routes.QUERY_LINKS - 500}
    (line,) = report.summary.left_out
    assert line.examples == (hostile_server.url("/query-explosion"),)


async def test_the_url_budget_bounds_an_endless_site(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_urls=50, trap_depth=0, scope=CALENDAR)
    report, _ = await crawl(hostile_server.url(hostile.TRAP_START), config)
    assert report.summary.total == 49  # the host's one soft-404 probe is a URL of the budget too
    assert left_out(report)["crawl.url-budget"] > 0


async def test_the_time_budget_ends_the_run_and_says_so(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_time=1.5, trap_depth=0, max_concurrency=4,
                         scope=CALENDAR)  # fmt: skip
    report, elapsed = await crawl(hostile_server.url(hostile.TRAP_START), config)
    assert elapsed < 10
    assert left_out(report)["crawl.time-budget"] > 0
    (line,) = [item for item in report.summary.left_out if item.code == "crawl.time-budget"]
    assert "--max-time ended the run" in line.line()


async def test_pages_past_max_pages_are_counted_as_checked_not_crawled(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=0, respect_robots=False, max_pages=10, scope=CALENDAR)
    report, _ = await crawl(hostile_server.url(hostile.TRAP_START), config)
    assert report.summary.pages_crawled == 10
    assert left_out(report)["crawl.page-budget"] > 0


async def test_a_path_deeper_than_the_limit_is_not_crawled(hostile_server: HostileServer) -> None:
    config = CheckConfig(retries=0, respect_robots=False, trap_depth=0, max_path_depth=6)
    report, _ = await crawl(hostile_server.url("/huge-url-trap/"), config)
    assert left_out(report) == {"crawl.path-too-deep": 1}
    assert report.summary.pages_crawled == 6


@pytest.fixture
def benchmark_site(nginx_factory: NginxFactory, tmp_path: Path) -> tuple[str, frozenset[str]]:
    """The benchmark's site served by nginx: its URL and its known broken links."""
    truth = generate_site(BENCHMARK_SITE, tmp_path)
    server = nginx_factory(site_server_block(tmp_path.resolve(), free_port()), "benchmark-site")
    return server.url("/"), truth.broken_urls(server.url("/"))


@pytest.fixture
def python_docs_url(nginx_factory: NginxFactory, python_docs: Path) -> str:
    """The Python docs served by nginx on 127.0.0.1, gzipped as real sites serve them."""
    block = (
        f"server {{\n    listen 127.0.0.1:{free_port()};\n    root {python_docs.resolve()};\n"
        "    gzip on;\n    gzip_types text/css application/javascript;\n}\n"
    )
    return nginx_factory(block, "python-docs").url("/index.html")


@pytest.mark.nginx
async def test_no_defence_fires_on_the_benchmark_site(benchmark_site: tuple[str, frozenset[str]]) -> None:
    url, known_broken = benchmark_site
    report = await check_async(CheckConfig(retries=0), collect_inputs([url]))
    assert report.summary.left_out == ()
    assert {r.url for r in report.results if r.category is Category.BROKEN} == known_broken


async def test_no_defence_fires_on_the_python_docs_on_disk(python_docs: Path) -> None:
    config = CheckConfig(retries=0, exclude=(re.compile(r"^https?://"),))
    report = await check_async(config, collect_inputs([str(python_docs)]))
    assert report.summary.pages_crawled > 500
    assert report.summary.left_out == ()


@pytest.mark.nginx
async def test_no_defence_fires_on_the_python_docs_over_http(python_docs_url: str) -> None:
    # Only links to the local server are followed: every other host is excluded, never looked up.
    config = CheckConfig(retries=0, exclude=(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"),))
    report = await check_async(config, collect_inputs([python_docs_url]))
    assert report.summary.pages_crawled > 500
    assert report.summary.left_out == ()
