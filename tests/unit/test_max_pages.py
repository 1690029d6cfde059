"""``--max-pages N`` crawls exactly N pages when the site has more: a URL in scope that turns out not to be a
page (a 404, an image, a redirect to a page already known) gives its slot back instead of using it up."""

from __future__ import annotations

from tests.support.memory_site import MemoryTransport, Reply, redirect

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.inputs import collect_inputs

SITE = "http://site.test"


def _page(n: int) -> bytes:
    # Every page links to a missing page, an image, a redirect to the home page, and the next two pages.
    links = [f"/missing-{n}.html", f"/img-{n}.png", "/home", f"/p{n + 1}.html", f"/p{n + 2}.html"]
    return ("<html><body>" + "".join(f'<a href="{u}">x</a>' for u in links) + "</body></html>").encode()


def _reply(url: str) -> Reply | None:
    """A site of 100 pages, each with links to things that are not pages."""
    path = url.removeprefix(SITE)
    if path == "/home":
        return redirect(f"{SITE}/p0.html")
    if path.startswith("/img-"):
        return Reply(200, b"\x89PNG", (("content-type", "image/png"),))
    if path.startswith("/p") and path.endswith(".html") and int(path[2:-5]) < 100:
        return Reply(200, _page(int(path[2:-5])))
    return None


async def crawl(max_pages: int, concurrency: int) -> int:
    config = CheckConfig(retries=0, max_pages=max_pages, max_concurrency=concurrency)
    report = await Crawler(config, transport=MemoryTransport(_reply)).run(collect_inputs([f"{SITE}/p0.html"]))
    return report.summary.pages_crawled


async def test_max_pages_crawls_exactly_that_many_pages() -> None:
    assert await crawl(10, concurrency=16) == 10


async def test_max_pages_is_exact_one_request_at_a_time_too() -> None:
    assert await crawl(7, concurrency=1) == 7


async def test_a_site_smaller_than_max_pages_is_crawled_whole() -> None:
    assert await crawl(1000, concurrency=16) == 100
