"""Soft 404s against real nginx servers: a site whose missing pages answer 200 with its not-found template,
the same site answering real 404s, a single-page app that serves its shell for every path, and the
2,000-page generated site."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.nginx import NginxFactory, NginxPool, quote
from harness.ports import free_port
from harness.sitegen import BrokenKind, SiteSpec
from harness.sites import GeneratedSite, serve_generated_site

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.soft404 import Soft404Detector
from linkdoctor.models import Category, Report

pytestmark = pytest.mark.nginx

NAV = " ".join(f'<a href="/section-{i}.html">Section {i} of the Acme manual</a>' for i in range(3))
FOOTER = "<footer>Acme Corporation, 1 Example Street. Contact us about the documentation.</footer>"
REAL = {
    "guide.html": "The guide explains how to install Acme on a server, configure its storage, back up "
    "its data every night and restore it after a failure, with examples for each operating system.",
    "api.html": "The API reference lists every endpoint with its parameters, its answers and its errors, "
    "and shows how to authenticate requests with tokens that expire after one hour.",
    "faq.html": "Frequently asked questions: why the service restarts, how licences are counted, which "
    "browsers are supported and how to report a security problem to the team.",
}
FAKE = ("old-page.html", "removed/", "docs/v1/intro.html")


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>Acme Docs</title></head><body><nav>{NAV}</nav>{body}{FOOTER}</body></html>\n"


def write_site(root: Path) -> None:
    links = "".join(f'<a href="/{name}">{name}</a>\n' for name in (*REAL, *FAKE))
    (root / "index.html").write_text(page(f"<h1>Welcome to the Acme documentation</h1>\n{links}"))
    for name, text in REAL.items():
        (root / name).write_text(page(f"<h1>{name}</h1><p>{text}</p>"))
    (root / "section-0.html").write_text(page("<p>Section zero.</p>"))
    (root / "section-1.html").write_text(page("<p>Section one.</p>"))
    (root / "section-2.html").write_text(page("<p>Section two.</p>"))
    not_found = "<h1>Oops</h1><p>Sorry, the page you asked for could not be found. Try the search box.</p>"
    (root / "notfound.html").write_text(page(not_found))


@dataclass(frozen=True)
class Servers:
    soft: str
    hard: str
    spa: str


@pytest.fixture(scope="module")
def servers(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Servers:
    root = tmp_path_factory.mktemp("soft404-site")
    write_site(root)
    soft, hard, spa = free_port(), free_port(), free_port()
    blocks = f"""
    server {{ listen 127.0.0.1:{soft}; root {quote(root)}; location / {{ try_files $uri $uri/ /notfound.html; }} }}
    server {{ listen 127.0.0.1:{hard}; root {quote(root)}; location / {{ try_files $uri $uri/ =404; }} }}
    server {{ listen 127.0.0.1:{spa}; root {quote(root)}; location / {{ try_files $uri /index.html; }} }}
    """
    nginx_factory(blocks, "soft404")
    return Servers(f"http://127.0.0.1:{soft}/", f"http://127.0.0.1:{hard}/", f"http://127.0.0.1:{spa}/")


async def crawl(url: str, config: CheckConfig | None = None) -> tuple[Report, Soft404Detector]:
    config = config or CheckConfig(retries=0, respect_robots=False)
    async with AiohttpTransport(config) as transport:
        crawler = Crawler(config, transport=transport)
        report = await crawler.run(collect_inputs([url]))
    assert crawler.soft404 is not None
    return report, crawler.soft404


def codes_by_url(report: Report) -> dict[str, str | None]:
    return {r.url: r.diagnosis.code if r.diagnosis else None for r in report.results}


async def test_fake_pages_of_a_soft_404_site_are_soft_404s_and_real_ones_are_not(servers: Servers) -> None:
    report, detector = await crawl(servers.soft)
    codes = codes_by_url(report)
    by_url = {r.url: r for r in report.results}

    for name in FAKE:
        result = by_url[servers.soft + name]
        assert codes[servers.soft + name] == "http.soft-404", name
        assert result.category is Category.BROKEN and result.status == 200
        assert result.diagnosis is not None
        assert "linkdoctor-probe-" in result.diagnosis.summary  # the evidence names the probe
        assert "could not be found" in result.diagnosis.summary
    for name in (*REAL, "section-0.html", ""):
        assert by_url[servers.soft + name].category is Category.OK, name
    assert detector.probes == 1
    assert detector.found == len(FAKE)


async def test_a_host_answering_real_404s_gets_no_comparison(servers: Servers) -> None:
    report, detector = await crawl(servers.hard)

    assert detector.probes == 1
    assert detector.comparisons == 0
    assert {codes_by_url(report)[servers.hard + name] for name in FAKE} == {"http.not-found"}


async def test_a_site_serving_its_home_page_for_every_path_is_never_judged(servers: Servers) -> None:
    report, detector = await crawl(servers.spa)

    assert detector.probes == 1
    assert detector.comparisons == 0
    assert "http.soft-404" not in codes_by_url(report).values()


async def test_no_probe_with_no_soft_404(servers: Servers) -> None:
    config = CheckConfig(retries=0, respect_robots=False, soft_404=False)
    async with AiohttpTransport(config) as transport:
        crawler = Crawler(config, transport=transport)
        report = await crawler.run(collect_inputs([servers.soft]))
    assert crawler.soft404 is None
    assert "http.soft-404" not in codes_by_url(report).values()


async def test_the_probe_is_taken_into_the_url_budget(servers: Servers) -> None:
    report, detector = await crawl(servers.soft, CheckConfig(retries=0, respect_robots=False, max_urls=1))

    assert detector.probes == 0  # the start page took the only URL: no probe, counted as left out
    assert any(line.code == "crawl.url-budget" for line in report.summary.left_out)


@dataclass(frozen=True)
class BigSite:
    site: GeneratedSite
    soft_url: str  # the same files, with every missing page answered 200 by a not-found template


@pytest.fixture(scope="module")
def big_site(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigSite]:
    spec = SiteSpec(pages=2000, links_per_page=12, broken_share=0.1, redirect_chains=4, seed=19)
    with NginxPool(nginx_bin, tmp_path_factory.mktemp("soft404-big-nginx")) as pool:
        site = serve_generated_site(pool, tmp_path_factory.mktemp("soft404-big"), spec)
        root = site.root.resolve()
        (root / "notfound.html").write_text(
            "<html><head><title>Not found</title></head><body><p>This page could not be found.</p></body></html>"
        )
        port = free_port()
        locations = quote(root / "nginx-locations.conf")
        block = f"server {{ listen 127.0.0.1:{port}; root {quote(root)}; include {locations}; error_page 404 =200 /notfound.html; }}"
        pool.start(block, "soft404-big-soft")
        yield BigSite(site, f"http://127.0.0.1:{port}/")


async def test_the_2000_page_generated_site_has_no_soft_404(big_site: BigSite) -> None:
    report, detector = await crawl(big_site.site.base_url, CheckConfig(retries=0))

    assert report.summary.pages_crawled >= 2000
    assert "http.soft-404" not in codes_by_url(report).values()
    assert (detector.probes, detector.comparisons, detector.found) == (1, 0, 0)


async def test_the_2000_page_site_with_a_soft_404_template_flags_only_missing_pages(
    big_site: BigSite,
) -> None:
    report, detector = await crawl(big_site.soft_url, CheckConfig(retries=0))

    base = big_site.soft_url.rstrip("/")
    truth = big_site.site.truth
    missing = {base + path for path, kind in truth.kinds.items() if kind is BrokenKind.NOT_FOUND}
    flagged = {url for url, code in codes_by_url(report).items() if code == "http.soft-404"}
    assert detector.probes == 1 and detector.comparisons >= 2000
    assert flagged and flagged <= missing  # every flag is a page that does not exist
    assert not flagged & {base + path for path in truth.ok_pages}
