"""``max_concurrency`` bounds the requests in flight, also while pages wait for the parser process; those
pages hold no fetch slot, so the network keeps busy while the other core parses."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from aiohttp import web

from linkdoctor.config import CheckConfig
from linkdoctor.engine.check import Fetched
from linkdoctor.engine.fetching import ParsingPages
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.extract import Extraction
from linkdoctor.models import Category, CheckResult

PAGES = 240  # past the 30 documents after which the parser process takes over


def _page(index: int) -> str:
    links = "".join(f'<a href="/p{(index * 7 + k) % PAGES}.html">p</a>\n' for k in range(1, 9))
    return f"<html><body>\n{links}<img src='/missing-{index % 5}.png'></body></html>"


async def test_requests_in_flight_never_exceed_max_concurrency() -> None:
    in_flight = 0
    peak = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.002)
            name = request.match_info["name"]
            if name.startswith("p") and name.endswith(".html") and name[1:-5].isdigit():
                return web.Response(text=_page(int(name[1:-5])), content_type="text/html")
            if name == "":
                return web.Response(text=_page(0), content_type="text/html")
            return web.Response(status=404)
        finally:
            in_flight -= 1

    app = web.Application()
    app.router.add_get("/{name:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        config = CheckConfig(retries=0, max_concurrency=3, max_per_host=50, respect_robots=False)
        report = await asyncio.wait_for(
            check_async(config, collect_inputs([f"http://127.0.0.1:{port}/"])), timeout=60
        )
    finally:
        await runner.cleanup()
    assert report.summary.pages_crawled == PAGES + 1
    assert sum(r.category is Category.BROKEN for r in report.results) == 5
    assert 1 <= peak <= 3


class _Checker:
    def __init__(self) -> None:
        self.fetched = 0
        self.active = 0
        self.peak = 0

    async def fetch(self, url: str, *, want_body: bool, method: Any = None) -> Fetched:
        self.active += 1
        self.peak = max(self.peak, self.active)
        for _ in range(3):
            await asyncio.sleep(0)
        self.active -= 1
        self.fetched += 1
        result = CheckResult(url, Category.OK, status=200, final_url=url)
        return Fetched(result, b"<a href='x'>x</a>", "text/html")


class _StuckParser:
    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def extract(self, kind: str, body: bytes, content_type: str, *, page_url: str | None = None) -> Any:
        await self.release.wait()
        return Extraction((), frozenset(), None, False), None


async def test_pages_waiting_for_the_parser_hold_no_fetch_slot() -> None:
    checker, parser = _Checker(), _StuckParser()
    pages = ParsingPages(cast(Any, checker), cast(Any, parser), fetch_slots=2)
    waiting = [asyncio.create_task(pages.page(f"http://h/{i}", want_body=True)) for i in range(10)]
    for _ in range(50):
        await asyncio.sleep(0)
    assert checker.fetched == 10  # all fetched, two at a time, while no parse has finished
    assert checker.peak == 2
    assert not any(task.done() for task in waiting)
    parser.release.set()
    done = await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
    assert [page.result.url for page in done] == [f"http://h/{i}" for i in range(10)]


async def test_past_the_byte_budget_a_waiting_page_keeps_its_fetch_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("linkdoctor.engine.fetching.WAITING_BODY_BYTES", 30)  # each body is 17 bytes
    checker, parser = _Checker(), _StuckParser()
    pages = ParsingPages(cast(Any, checker), cast(Any, parser), fetch_slots=2)
    waiting = [asyncio.create_task(pages.page(f"http://h/{i}", want_body=True)) for i in range(10)]
    for _ in range(50):
        await asyncio.sleep(0)
    # The first page waits without its slot; the next two find the budget spent and keep theirs.
    assert checker.fetched == 3
    parser.release.set()
    done = await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
    assert len(done) == 10
    assert checker.fetched == 10
