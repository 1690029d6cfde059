"""Ctrl-C and SIGTERM during a run: the first stops it with a partial report, the second at once.

:class:`Interrupt` turns the first SIGINT or SIGTERM into a stop: no new check starts, the checks in flight
finish (each within its timeout), and the report is written with what was done, marked partial by a
``crawl.interrupted`` line (the left-out line every format shows, like ``crawl.time-budget``) and a warning.
A second signal stops at once, without a report: :class:`RunStopped`, exit 128+signal. The command line
installs one around every ``check``; a distributed check's (:mod:`linkdoctor.distributed.resume`) adds the
command that resumes its scan. A library caller owns its process's signals and installs none.

>>> interrupt = Interrupt()
>>> interrupt.signum is None
True
>>> # with interrupt.installed():
>>> #     report = interrupt.partial(await check_async(config, inputs, around=interrupt.around(None)))
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from types import FrameType
from typing import Final

from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.models import INTERRUPTED, LeftOut, Report

SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_EXAMPLES: Final = 3


class RunStopped(FetchInterrupted):
    """A second signal stopped the run before its checks in flight were done: no report."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class OutageStopped(RunStopped):
    """A signal stopped a run whose broker or store was out of reach (:meth:`Interrupt.stopped_while`): the
    checks in flight could not finish, and the broker cannot be asked anything."""


class Interrupt:
    """SIGINT and SIGTERM during a run: the first stops new checks (the report is partial), the second stops
    at once. Install it on the running loop with :meth:`installed`; ``hint`` ends the partial report's
    line and warning (what finishes the run); ``announce`` tells the user the first signal was taken."""

    def __init__(self, *, hint: str = "", announce: Callable[[str], None] | None = None) -> None:
        self.hint = hint
        self.signum: int | None = None
        self._announce = announce or (lambda message: None)
        self._crawler: Crawler | None = None
        self._stop_now: Callable[[FetchInterrupted], None] | None = None
        self._task: asyncio.Task[object] | None = None
        self._stopped: RunStopped | None = None
        # Signals as they arrive, before the loop handles them (each: when, which): code that waits out an
        # outage, maybe blocking the loop, asks :meth:`stopped_while`. The loop then ignores those it
        # acted on (``_acted`` of them; ``_handled`` counts the loop's), and takes a later one as the second.
        self._arrivals: list[tuple[float, int]] = []
        self._acted = 0
        self._handled = 0

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Catch the signals on the running loop while the block runs. A second signal with no ``stop_now``
        :meth:`attach`-ed cancels the block's task, and the block raises :class:`RunStopped`."""
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        for signum in SIGNALS:
            loop.add_signal_handler(signum, self._on_signal, signum)
            self._note_arrivals(signum)
        try:
            yield
        except asyncio.CancelledError:
            if self._stopped is None:
                raise
            raise self._stopped from None
        finally:
            for signum in SIGNALS:
                loop.remove_signal_handler(signum)
            self._arrivals.clear()  # asked after the run (its reports), nothing stops them
            self._stop_now = None
            self._task = None

    def _note_arrivals(self, signum: int) -> None:
        """Note ``signum`` as it arrives, then run the loop's own handler (which wakes the loop)."""
        loop_handler = signal.getsignal(signum)

        def noted(number: int, frame: FrameType | None) -> None:
            self._arrivals.append((time.monotonic(), number))
            if callable(loop_handler):
                loop_handler(number, frame)

        signal.signal(signum, noted)

    def stopped_while(self, what: str, since: float) -> OutageStopped | None:
        """The stop at once of a run that has waited ``what`` since ``since`` (``time.monotonic()``): its
        checks in flight cannot finish. An :class:`OutageStopped` to raise when a signal arrived since then,
        or one the loop has not handled yet (it is blocked); the loop then ignores it, and takes the next as
        the second; and, once it stopped the run, for every later caller (the run's other calls must not
        wait out the outage while it unwinds). None when neither: a signal handled before the outage stops
        the run as it promised."""
        unhandled = len(self._arrivals) > self._handled
        if not self._arrivals or (self._arrivals[-1][0] < since and not unhandled and not self._acted):
            return None
        signum = self._arrivals[-1][1]
        self._acted = len(self._arrivals)
        self.signum = self.signum or signum
        name = signal.Signals(signum).name
        return OutageStopped(f"stopped by {name} while {what}: no report written{self._suffix()}", signum)

    def attach(self, stop_now: Callable[[FetchInterrupted], None]) -> None:
        """From now on a second signal calls ``stop_now`` (which aborts the fetches in flight)."""
        self._stop_now = stop_now

    def around(
        self, inner: Callable[[Crawler], AbstractAsyncContextManager[None]] | None
    ) -> Callable[[Crawler], AbstractAsyncContextManager[None]]:
        """An ``around`` hook for :func:`~linkdoctor.engine.runner.check_async` that keeps the crawler (to
        stop it) and then runs ``inner``."""

        def hook(crawler: Crawler) -> AbstractAsyncContextManager[None]:
            self._crawler = crawler
            if self.signum is not None:
                self._stop_crawler()
            return inner(crawler) if inner is not None else nullcontext()

        return hook

    def _suffix(self) -> str:
        return f"; {self.hint}" if self.hint else ""

    def _first(self) -> bool:
        """Whether the first signal ends the run before it started (nothing to report)."""
        return False

    def _stopping(self) -> str:
        """What the first signal announces."""
        return (
            f"{self.signal_name}: stopping: no new checks, finishing those in flight; the report will be "
            "partial (send it again to stop now)"
        )

    def _on_signal(self, signum: int) -> None:
        self._handled += 1
        if self._handled <= self._acted:  # the run stopped at once on it (stopped_while)
            return
        if self.signum is None:
            self.signum = signum
            if self._first():
                return
            self._announce(self._stopping())
            self._stop_crawler()
            return
        stopped = RunStopped(
            f"stopped by a second {signal.Signals(signum).name} before the fetches in flight were done: no "
            f"report written{self._suffix()}",
            self.signum,
        )
        if self._stop_now is not None:
            self._stop_now(stopped)
        elif self._task is not None and self._stopped is None:
            self._stopped = stopped
            self._task.cancel()

    def _stop_crawler(self) -> None:
        """No check starts from now on (:meth:`~linkdoctor.engine.crawl.Crawler.stop`)."""
        if self._crawler is not None:
            self._crawler.stop()

    def partial(self, report: Report) -> Report:
        """``report`` marked partial: a ``crawl.interrupted`` line counting the checks not started, and a
        warning (ending with the hint). The report itself when no signal came."""
        if self.signum is None:
            return report
        pending: list[str] = []
        if self._crawler is not None:
            pending = self._crawler.pending()
        line = LeftOut(
            INTERRUPTED,
            len(pending),
            f"URLs not checked: the run was interrupted by {self.signal_name}{self._suffix()}",
            tuple(pending[:_EXAMPLES]),
        )
        warning = f"interrupted by {self.signal_name}: this report is partial{self._suffix()}"
        summary = replace(
            report.summary,
            left_out=(line, *report.summary.left_out),
            warnings=(*report.summary.warnings, warning),
        )
        return replace(report, summary=summary)
