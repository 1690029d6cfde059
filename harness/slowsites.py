"""Small websites whose server answers every request after a delay, each on a loopback address of its own
(127.0.0.10, 127.0.0.11, …: per-host politeness applies to each site apart), for the fleet test and the
fleet benchmark. On 2 cores, a scan of such a site waits on the network, not the CPU, so scans that run
side by side finish side by side.

    with SlowSites.start(count=4, pages=8, delay=0.5) as sites:
        sites.urls        # ['http://127.0.0.10:PORT/', …]
        sites.requests    # (host, path, start, end) of every request answered, in monotonic seconds

Each site is an index linking to its pages; every page links to the index, to the next page and to one
missing page (a 404), so each site has ``pages + 2`` distinct URLs. The server runs its own event loop
in a thread; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web

from harness.ports import free_port

FIRST_ADDRESS = 10  # 127.0.0.10 is the first site
START_TIMEOUT_S = 10.0


def page_html(index: int, pages: int) -> str:
    """The HTML of page ``index`` (0: the site's index)."""
    if index == 0:
        links = "".join(f'<a href="/p{i}.html">page {i}</a>' for i in range(1, pages + 1))
    else:
        following = index % pages + 1
        links = (
            f'<a href="/">home</a><a href="/p{following}.html">next</a><a href="/gone{index}.html">gone</a>'
        )
    return f"<!doctype html><html><head><title>page {index}</title></head><body>{links}</body></html>"


@dataclass
class SlowSites:
    """``count`` sites of ``pages`` pages each, answering after ``delay`` seconds (see the module docstring)."""

    count: int
    pages: int
    delay: float
    port: int
    requests: list[tuple[str, str, float, float]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None

    @property
    def hosts(self) -> list[str]:
        return [f"127.0.0.{FIRST_ADDRESS + i}" for i in range(self.count)]

    @property
    def urls(self) -> list[str]:
        return [f"http://{host}:{self.port}/" for host in self.hosts]

    @property
    def urls_per_site(self) -> int:
        """Distinct URLs one scan of a site checks: the index, its pages, and one missing page per page."""
        return 1 + 2 * self.pages

    @classmethod
    def start(cls, *, count: int, pages: int, delay: float) -> Self:
        if not 1 <= count <= 200:
            raise ValueError("between 1 and 200 sites")
        sites = cls(count, pages, delay, free_port())
        ready = threading.Event()
        failed: list[BaseException] = []
        sites._thread = threading.Thread(
            target=sites._serve, args=(ready, failed), name="slow-sites", daemon=True
        )
        sites._thread.start()
        if not ready.wait(START_TIMEOUT_S) or failed:
            raise RuntimeError(f"the slow sites did not start: {failed[0] if failed else 'timeout'}")
        return sites

    def _serve(self, ready: threading.Event, failed: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        except BaseException as exc:  # reported to start(), which raises it
            failed.append(exc)
            ready.set()
        finally:
            loop.close()

    async def _main(self, ready: threading.Event) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            for host in self.hosts:
                await web.TCPSite(runner, host, self.port, backlog=1024).start()
            ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        await asyncio.sleep(self.delay)
        path = request.path
        self.requests.append((request.host.partition(":")[0], path, started, time.monotonic()))
        if path in ("/", "/index.html"):
            return web.Response(text=page_html(0, self.pages), content_type="text/html")
        if path.startswith("/p") and path.endswith(".html") and path[2:-5].isdigit():
            index = int(path[2:-5])
            if 1 <= index <= self.pages:
                return web.Response(text=page_html(index, self.pages), content_type="text/html")
        return web.Response(status=404, text="not found", content_type="text/plain")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_S)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
