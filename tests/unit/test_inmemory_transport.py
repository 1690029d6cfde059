"""The crawler over an in-memory transport: a small site served from a dict, and not one socket opened.

The transport seam (:mod:`linkdoctor.engine.transport`) is all the engine needs to crawl: redirects, HEAD
then GET, fragments, broken links and network errors come out as they do over aiohttp."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import replace

import pytest
from tests.support.memory_site import MemoryTransport, Reply

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, CheckResult, ErrorKind, Redirect, Referrer, Report

SITE = "http://site.test"


PAGES: Mapping[str, Reply] = {
    f"{SITE}/": Reply(
        200,
        b"""<html><body>
        <a href="/a.html">A</a>
        <a href="/a.html#intro">A's intro</a>
        <a href="/a.html#nowhere">a missing section</a>
        <a href="/missing.html">gone</a>
        <a href="/old">moved</a>
        <a href="http://other.test/no-head">no HEAD there</a>
        <a href="http://down.test/">down</a>
        </body></html>""",
    ),
    f"{SITE}/a.html": Reply(200, b'<html><body><h1 id="intro">A</h1><a href="/">home</a></body></html>'),
    f"{SITE}/old": Reply(301, headers=(("location", "/a.html"),)),
    "http://other.test/no-head": Reply(200, b"plain", (("content-type", "text/plain"),), head_status=405),
}
CONFIG = CheckConfig(retries=0)


class _LocalOnly(socket.socket):
    """A socket class that refuses network sockets (the event loop's own Unix socket pair is fine)."""

    def __init__(self, family: int = -1, type: int = -1, proto: int = -1, fileno: int | None = None) -> None:
        if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
            raise AssertionError("the in-memory crawl opened a network socket")
        super().__init__(family, type, proto, fileno)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the in-memory crawl resolved a name or connected")

    monkeypatch.setattr(socket, "socket", _LocalOnly)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport(PAGES, down=frozenset({"down.test"}))


async def crawl(transport: MemoryTransport) -> dict[str, CheckResult]:
    report = await Crawler(CONFIG, transport=transport).run(collect_inputs([f"{SITE}/"]))
    return {result.url: result for result in report.results}


async def test_pages_in_scope_are_crawled_and_their_links_checked(transport: MemoryTransport) -> None:
    results = await crawl(transport)

    assert results[f"{SITE}/"].category is Category.OK
    assert results[f"{SITE}/a.html"].category is Category.OK
    # An ok link keeps the count of its referrers; --all-referrers keeps them too.
    assert results[f"{SITE}/a.html"].referrers_found == 1
    everything = await Crawler(replace(CONFIG, all_referrers=True), transport=transport).run(
        collect_inputs([f"{SITE}/"])
    )
    listed = {result.url: result for result in everything.results}
    assert [r.url for r in listed[f"{SITE}/a.html"].referrers] == [f"{SITE}/"]


async def test_a_broken_link_is_reported_with_its_status_and_code(transport: MemoryTransport) -> None:
    missing = (await crawl(transport))[f"{SITE}/missing.html"]

    assert (missing.category, missing.status) == (Category.BROKEN, 404)
    assert missing.diagnosis is not None and missing.diagnosis.code == "http.not-found"


async def test_a_redirect_is_followed_and_its_chain_kept(transport: MemoryTransport) -> None:
    moved = (await crawl(transport))[f"{SITE}/old"]

    assert moved.category is Category.REDIRECTED
    assert moved.final_url == f"{SITE}/a.html"
    assert moved.redirects == (Redirect(f"{SITE}/old", 301),)


async def test_fragments_are_looked_up_in_the_fetched_page(transport: MemoryTransport) -> None:
    results = await crawl(transport)

    assert results[f"{SITE}/a.html#intro"].category is Category.OK
    nowhere = results[f"{SITE}/a.html#nowhere"]
    assert nowhere.category is Category.BROKEN
    assert nowhere.diagnosis is not None and nowhere.diagnosis.code == "http.fragment-missing"


async def test_a_transport_error_becomes_a_broken_result_of_its_kind(transport: MemoryTransport) -> None:
    down = (await crawl(transport))["http://down.test/"]

    assert (down.category, down.error) == (Category.BROKEN, ErrorKind.REFUSED)
    assert down.diagnosis is not None and down.diagnosis.code == "net.refused"


async def test_a_link_that_refuses_head_is_checked_with_get(transport: MemoryTransport) -> None:
    other = (await crawl(transport))["http://other.test/no-head"]

    assert other.category is Category.OK
    requests = [sent for sent in transport.sent if sent[1] == "http://other.test/no-head"]
    assert requests == [("HEAD", "http://other.test/no-head"), ("GET", "http://other.test/no-head")]


async def test_each_page_is_requested_once_and_a_redirect_hop_by_hop(transport: MemoryTransport) -> None:
    await crawl(transport)

    pages = [url for method, url in transport.sent if method == "GET" and url.startswith(SITE)]
    probes = [url for url in pages if url.startswith(f"{SITE}/linkdoctor-probe-")]
    assert len(probes) == 1  # the soft-404 probe: once per host whose pages were fetched as HTML
    pages = [url for url in pages if url not in probes]
    assert sorted(pages) == [
        f"{SITE}/",
        f"{SITE}/a.html",
        f"{SITE}/a.html",  # /old's second hop: redirects are followed by the checker, one request each
        f"{SITE}/missing.html",
        f"{SITE}/old",
        f"{SITE}/robots.txt",
    ]


async def test_the_run_function_takes_the_transport_too(transport: MemoryTransport) -> None:
    report: Report = await check_async(CONFIG, collect_inputs([f"{SITE}/"]), transport=transport)

    assert report.summary.pages_crawled == 2
    assert {r.url for r in report.results if r.category is Category.BROKEN} == {
        f"{SITE}/missing.html",
        f"{SITE}/a.html#nowhere",
        "http://down.test/",
    }


async def test_a_link_twice_on_one_line_is_one_referrer_whenever_its_target_was_checked() -> None:
    # An <img>'s src and srcset name the same picture on one line: one referrer of it on each page, counted
    # once whether the page is read before the picture's check or after it (when only counts are kept).
    logo = '<img src="/logo.png" srcset="/logo.png 2x" alt="logo">'
    pages = {
        f"{SITE}/p{i}.html": Reply(200, f"<html><body>\n{logo}\n</body></html>".encode()) for i in range(30)
    }
    links = "\n".join(f'<a href="/p{i}.html">page {i}</a>' for i in range(30))
    pages[f"{SITE}/"] = Reply(200, f"<html><body>\n{logo}\n{links}\n</body></html>".encode())
    pages[f"{SITE}/logo.png"] = Reply(200, b"\x89PNG", (("content-type", "image/png"),))
    site = MemoryTransport(pages)

    results = await crawl(site)
    listed = await Crawler(replace(CONFIG, all_referrers=True), transport=site).run(
        collect_inputs([f"{SITE}/"])
    )

    assert results[f"{SITE}/logo.png"].referrers_found == 31
    kept = {result.url: result for result in listed.results}[f"{SITE}/logo.png"].referrers
    assert len(kept) == 31 and len({r.url for r in kept}) == 31


async def test_a_link_a_trap_guard_refused_as_a_page_keeps_its_referrer_when_the_same_line_names_it_again() -> (
    None
):
    # The <a> is refused (a page too deep to crawl), the <img> to the same URL on the line is not: the link
    # it adds keeps the page it was found on, not "no referrer" (which reports read as a start URL).
    deep = f"{SITE}/a/b/c/d/e.html"
    root = b'<html><body>\n<a href="/a/b/c/d/e.html">pic</a> <img src="/a/b/c/d/e.html" alt="pic">\n</body></html>'
    site = MemoryTransport({f"{SITE}/": Reply(200, root)})

    report = await Crawler(replace(CONFIG, max_path_depth=2), transport=site).run(
        collect_inputs([f"{SITE}/"])
    )

    result = {r.url: r for r in report.results}[deep]
    assert result.category is Category.BROKEN
    assert result.referrers == (Referrer(f"{SITE}/", 2, "pic"),)
