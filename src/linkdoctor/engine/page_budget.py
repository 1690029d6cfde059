"""``--max-pages``: how many pages a crawl may parse, counted in pages, not in fetches.

Whether a URL in scope is a page is known only after its fetch (it may be a 404, an image, a redirect to a
page already known). A slot is reserved before the fetch and kept only if a page was parsed; otherwise it
is given back. While every free slot is reserved, a new request waits for one to be settled, so
``--max-pages 10`` parses exactly 10 pages when the site has more, whatever the concurrency.

>>> import asyncio
>>> async def demo() -> tuple[bool, bool, int]:
...     budget = PageBudget(1)
...     first = await budget.reserve()
...     budget.settle(kept=False)   # not a page: the slot comes back
...     second = await budget.reserve()
...     budget.settle(kept=True)
...     return first, second, budget.used
>>> asyncio.run(demo())
(True, True, 1)
"""

from __future__ import annotations

import asyncio


class PageBudget:
    """At most ``limit`` pages kept; ``used`` of them already (a resumed crawl's count)."""

    def __init__(self, limit: int, used: int = 0) -> None:
        self._limit = limit
        self.used = used
        self._pending = 0
        self._waiters: list[asyncio.Future[None]] = []

    async def reserve(self) -> bool:
        """A slot for one fetch that may turn out to be a page; False once the budget is spent."""
        while True:
            if self.used + self._pending < self._limit:
                self._pending += 1
                return True
            if self._pending == 0:
                return False
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def settle(self, *, kept: bool) -> None:
        """The reserved fetch is done: it parsed a page (``kept``) or its slot goes back. Synchronous, so a
        ``finally`` can call it even while its task is being cancelled."""
        self._pending -= 1
        if kept:
            self.used += 1
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
