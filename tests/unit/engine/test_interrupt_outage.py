"""A signal during an outage of the broker or the crawl's store (:meth:`Interrupt.stopped_while`): it stops
the run at once, even while a blocking call keeps the loop from handling it; a signal the loop handled
before the outage does not; after such a stop, the next signal is the second, which stops at once; once the
run is over, nothing stops. Real signals, on the loop ``check`` runs (uvloop)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.interrupt import Interrupt, OutageStopped
from linkdoctor.engine.runner import run_sync


def _blocked_by_a_signal() -> None:
    """A signal that arrives while a synchronous call blocks the loop (its handler runs, the loop's not)."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)


def test_a_signal_while_the_loop_is_blocked_stops_the_run_at_once() -> None:
    interrupt = Interrupt(hint="resume with --resume cli-1")
    found: list[OutageStopped | None] = []

    async def run() -> None:
        with interrupt.installed():
            since = time.monotonic()
            found.append(interrupt.stopped_while("the crawl's Redis was out of reach", since))
            _blocked_by_a_signal()
            # Asked with the start of a later call: the signal is still not handled, so it counts.
            found.append(interrupt.stopped_while("the crawl's Redis was out of reach", time.monotonic()))
            await asyncio.sleep(0.05)  # the loop handles it now: ignored, the run stops on it already

    run_sync(run())
    assert found[0] is None
    stop = found[1]
    assert isinstance(stop, OutageStopped)
    assert str(stop) == (
        "stopped by SIGINT while the crawl's Redis was out of reach: no report written; resume with "
        "--resume cli-1"
    )
    assert stop.exit_code == 128 + signal.SIGINT


def test_a_signal_handled_before_the_outage_lets_the_run_finish_its_checks() -> None:
    """The first Ctrl-C promised to finish the checks in flight: a later blip of Redis is ridden out."""
    announced: list[str] = []
    interrupt = Interrupt(announce=announced.append)
    found: list[OutageStopped | None] = []

    async def run() -> None:
        with interrupt.installed():
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(0.05)  # handled: the graceful stop
            found.append(interrupt.stopped_while("the broker was out of reach", time.monotonic()))

    run_sync(run())
    assert len(announced) == 1
    assert found == [None]
    assert interrupt.signum == signal.SIGINT


def test_after_a_stop_during_an_outage_the_next_signal_is_the_second() -> None:
    interrupt = Interrupt()
    stopped_now: list[FetchInterrupted] = []

    async def run() -> None:
        with interrupt.installed():
            interrupt.attach(stopped_now.append)
            _blocked_by_a_signal()
            assert interrupt.stopped_while("the broker was out of reach", time.monotonic()) is not None
            await asyncio.sleep(0.05)  # the signal it stopped on: ignored
            assert stopped_now == []
            # The run's other calls, begun since, stop too rather than wait out the outage as it unwinds.
            assert interrupt.stopped_while("the crawl's Redis was out of reach", time.monotonic()) is not None
            os.kill(os.getpid(), signal.SIGTERM)  # while the run unwinds
            await asyncio.sleep(0.05)

    run_sync(run())
    assert len(stopped_now) == 1
    assert "stopped by a second SIGTERM" in str(stopped_now[0])


def test_once_the_run_is_over_nothing_stops_its_calls() -> None:
    """The reports read the crawl's store after the signals are given back: a signal that came during the run
    does not stop them."""
    interrupt = Interrupt()

    async def run() -> None:
        with interrupt.installed():
            _blocked_by_a_signal()
            await asyncio.sleep(0.05)

    run_sync(run())
    assert interrupt.stopped_while("the crawl's Redis was out of reach", 0.0) is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
