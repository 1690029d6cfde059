"""What every request handler reaches through the app: the settings, the monitor service, the templates and
the scheduler loop, held in one :class:`Runtime` on ``app.state``; and the :class:`Ticker` that drives the
monitor's scheduler while the app runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.templating import Jinja2Templates

from linkdoctor.monitor.service import Monitor
from linkdoctor.web.settings import ServeSettings
from linkdoctor.web.throttle import LoginThrottle

log = logging.getLogger("linkdoctor.web")
MAX_TICK_BACKOFF = 300.0  # the longest wait between failing ticks, in seconds


class Ticker:
    """The in-process scheduler: every ``period`` seconds (or at once when woken) it hands the monitor a
    tick in a worker thread, so due and queued scans run without blocking requests."""

    def __init__(self, tick: Callable[[], object], period: float) -> None:
        self._tick = tick
        self._period = period
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ticks = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="linkdoctor-scheduler")

    def wake(self) -> None:
        """Run a tick now (after a scan was requested) instead of at the end of the period.

        Safe to call from any thread (the API's handlers run in a thread pool)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self, grace: float = 30.0) -> None:
        """Stop after the tick in progress (a running scan finishes or reaches its budget first)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                log.warning("the scheduler was still busy after %.0f s; leaving its scan to the lease", grace)

    async def _run(self) -> None:
        failures = 0  # in a row: while the database or the broker is away, wait longer each time
        while not self._stop.is_set():
            try:
                await asyncio.to_thread(self._tick)
                failures = 0
            except Exception:  # a failing tick must not end scheduling; the next one retries
                failures += 1
                if failures == 1:
                    log.exception("scheduler tick failed")
                else:
                    log.warning("scheduler tick failed again (%d in a row)", failures)
            self.ticks += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.wait_after(failures))
            self._wake.clear()

    def wait_after(self, failures: int) -> float:
        """Seconds to the next tick after ``failures`` failed ticks in a row: the period, doubled per
        failure up to :data:`MAX_TICK_BACKOFF` (never less than the period)."""
        if failures == 0:
            return self._period
        return max(self._period, min(self._period * (1 << min(failures, 30)), MAX_TICK_BACKOFF))


@dataclass
class Runtime:
    """The app's shared objects. ``ticker`` is set while the app runs (between lifespan start and stop)."""

    settings: ServeSettings
    templates: Jinja2Templates
    monitor: Monitor
    owner: str
    ticker: Ticker | None = None
    logins: LoginThrottle = field(default_factory=LoginThrottle)

    def wake_scheduler(self) -> None:
        if self.ticker is not None:
            self.ticker.wake()


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def monitor(request: Request) -> Monitor:
    """The monitor service (FastAPI dependency)."""
    return runtime(request).monitor
