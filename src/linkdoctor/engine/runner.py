"""Run a check end to end: build the transport and TLS contexts, crawl, and hand back the report.

The CLI, the monitor and the distributed coordinator call :func:`check_async`; ``check --diagnose`` is
composed on top by the caller (:mod:`linkdoctor.api` for the library, see
:func:`linkdoctor.doctor.attach.check_diagnosed`).

>>> # report = run_sync(check_async(CheckConfig(), collect_inputs(["https://example.org/"])))
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, contextmanager, nullcontext
from typing import Any, TypeVar

from linkdoctor.config import CheckConfig
from linkdoctor.engine.cache import ResultCache
from linkdoctor.engine.crawl import Crawler, ResultSink
from linkdoctor.engine.fetching import PageSource
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.state import CrawlState
from linkdoctor.engine.transport import Transport
from linkdoctor.models import Report
from linkdoctor.tls.context import TLSContextFactory

T = TypeVar("T")
_GC_YOUNG_THRESHOLD = 100_000


async def check_async(
    config: CheckConfig,
    inputs: Inputs,
    *,
    on_result: ResultSink | None = None,
    around: Callable[[Crawler], AbstractAsyncContextManager[None]] | None = None,
    cache: ResultCache | None = None,
    resume: Frontier | None = None,
    guard: SSRFGuard | None = None,
    transport: Transport | None = None,
    pages: PageSource | None = None,
    state: CrawlState | None = None,
) -> Report:
    """Crawl and check ``inputs``. Client certificates are loaded (and validated) before any request.

    ``around`` receives the crawler before it runs and may return an async context manager (used by the
    CLI for the live progress bar). ``cache`` serves and keeps ok results of links that are not crawled
    (see :mod:`linkdoctor.engine.cache`); the caller closes it. ``resume`` continues from a crawler's saved
    :class:`~linkdoctor.engine.frontier.Frontier`; ``guard`` vets every connection (the server mode's SSRF
    guard); ``transport`` sends the requests instead of a new network one (the caller closes it); ``pages``
    fetches and parses instead of this process (the workers of :mod:`linkdoctor.distributed`); ``state`` holds
    the crawl's links and referrers instead of this process's memory (the broker's Redis, say)."""
    tls = TLSContextFactory(config)
    async with AsyncExitStack() as stack:
        stack.callback(tls.close)
        if transport is None:
            transport = await stack.enter_async_context(AiohttpTransport(config, guard=guard))
        crawler = Crawler(
            config, transport=transport, tls=tls, on_result=on_result, cache=cache, pages=pages, state=state
        )
        async with around(crawler) if around else nullcontext():
            return await crawler.run(inputs, resume=resume)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed, else on asyncio's default loop."""
    box: list[T] = []

    async def main() -> None:
        # The main task finishes with None, not the result: when asyncio.Runner restores the SIGINT
        # handler, Python 3.11 formats the old handler, and so the finished task, with repr() of its
        # result, which for a large Report costs a quarter of a second per call.
        box.append(await coro)

    with fewer_collections():
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on every platform we test
            asyncio.run(main())
        else:
            uvloop.run(main())
    return box[0]


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the youngest generation every 100,000 allocations instead of 700, while a crawl runs (and
    while its report is written, which reads that state and allocates as much).

    A crawl allocates millions of objects that live to the end (links, referrers, results) and makes little
    cyclic garbage, so the default threshold has the collector rescan survivors over and over: 8% of the
    CPU on a 10,000-page site, growing with the site.
    """
    before = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
