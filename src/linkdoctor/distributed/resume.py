"""Resuming and interrupting a distributed ``check``: the scan's record, ``--resume``, and SIGINT/SIGTERM.

A distributed scan writes its record to Redis before it hands out any work (:func:`open_scan`): which page
store its workers write to (:mod:`linkdoctor.distributed.pagestore`) and a fingerprint of its inputs and
fetch settings. The record lives as long as the scan's other keys (``key_ttl`` after the coordinator's last
beat) and is deleted with them when the scan finishes. ``check --resume SCAN`` runs the crawl again under
that key: the pages the workers stored are replayed, and the fetches an earlier coordinator handed out and
that are still in flight are awaited, not repeated (:class:`~linkdoctor.distributed.coordinator.RemotePages`).
A scan that is unknown, finished or expired, that checked other inputs or settings, or whose coordinator
is alive is refused with one line (exit 3). A coordinator killed with ``kill -9`` stops counting as alive
``SCAN_STALE_AFTER`` seconds after its last beat; ``--resume`` waits for that rather than fail.

:class:`Interrupt` turns the first SIGINT or SIGTERM into a stop: no new check starts, the fetches in flight
finish, and the report is written with what was done, marked partial by a ``crawl.interrupted`` line (the
left-out line every format shows, like ``crawl.time-budget``) and a warning naming the resume command. The
scan's keys stay, so nothing fetched is lost. A second signal stops at once, without a report.

>>> interrupt = Interrupt("cli-1f2e")
>>> interrupt.signum is None
True
>>> # report = await check_distributed(config, inputs, settings, scan="cli-1f2e", interrupt=interrupt)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from linkdoctor.distributed.pagestore import record_key
from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings
from linkdoctor.distributed.wire import FetchSpec
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import Inputs
from linkdoctor.errors import ConfigError
from linkdoctor.models import LeftOut, Report

if TYPE_CHECKING:
    from redis.asyncio import Redis

INTERRUPTED: Final = "crawl.interrupted"
SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_EXAMPLES: Final = 3
_POLL_S: Final = 1.0
log = logging.getLogger("linkdoctor.distributed")


class ScanStopped(FetchInterrupted):
    """A second signal stopped the scan before its fetches in flight were done: no report, keys kept."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


def fingerprint(spec: FetchSpec, inputs: Inputs) -> str:
    """What a resumed scan must share with the first run: its inputs and fetch settings."""
    data = {
        "spec": spec.to_json(),
        "seeds": list(inputs.seeds),
        "links": sorted({url for url, _source, _line in inputs.links}),
        "documents": sorted(url for _path, url in inputs.documents),
    }
    return hashlib.blake2b(json.dumps(data, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


async def open_scan(
    redis: Redis,
    settings: BrokerSettings,
    scan: str,
    *,
    store: str,
    fingerprint: str,
    resume: bool,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Write a new scan's record, or check that ``scan`` can be resumed (raises :class:`ConfigError`)."""
    key = record_key(settings.keys, scan)
    if not resume:
        record = json.dumps({"store": store, "fingerprint": fingerprint, "started": clock()})
        await redis.set(key, record, ex=settings.key_ttl)
        return
    raw = await redis.get(key)
    if raw is None:
        raise ConfigError(
            f"--resume {scan}: no such scan on the broker (unknown, finished, or its keys expired after "
            f"{settings.key_ttl} s)"
        )
    if json.loads(raw).get("fingerprint") != fingerprint:
        raise ConfigError(
            f"--resume {scan}: that scan checked other inputs or settings; repeat its first command with "
            f"--resume {scan}"
        )
    await _await_dead_coordinator(redis, settings, scan, clock=clock, sleep=sleep)


async def _await_dead_coordinator(
    redis: Redis,
    settings: BrokerSettings,
    scan: str,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """Until the scan's earlier coordinator counts as dead: its last beat ``SCAN_STALE_AFTER`` seconds ago.
    One that beats again meanwhile is alive, and the scan is refused."""
    first = await redis.zscore(settings.keys.running_scans, scan)
    if first is None:
        return
    logged = False
    while True:
        beat = await redis.zscore(settings.keys.running_scans, scan)
        if beat is None:
            return
        if float(beat) > float(first):
            raise ConfigError(f"--resume {scan}: the scan is running (its coordinator is alive)")
        age = clock() - float(beat)
        if age >= SCAN_STALE_AFTER:
            return
        if not logged:
            log.warning(
                "scan %s: its earlier coordinator beat %.0f s ago; waiting %.0f s for it to count as dead",
                scan,
                age,
                SCAN_STALE_AFTER - age,
            )
            logged = True
        await sleep(min(_POLL_S, SCAN_STALE_AFTER - age + 0.05))


class Interrupt:
    """SIGINT and SIGTERM during a distributed run: the first stops new checks (the report is partial), the
    second stops at once. Install it on the running loop with :meth:`installed`."""

    def __init__(self, scan: str, *, announce: Callable[[str], None] | None = None) -> None:
        self.scan = scan
        self.signum: int | None = None
        self._announce = announce or (lambda message: None)
        self._crawler: Crawler | None = None
        self._stop_now: Callable[[FetchInterrupted], None] | None = None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    @contextlib.contextmanager
    def installed(self, stop_now: Callable[[FetchInterrupted], None]) -> Iterator[None]:
        """Catch the signals on the running loop while the block runs; ``stop_now`` aborts the fetches."""
        loop = asyncio.get_running_loop()
        self._stop_now = stop_now
        for signum in SIGNALS:
            loop.add_signal_handler(signum, self._on_signal, signum)
        try:
            yield
        finally:
            for signum in SIGNALS:
                loop.remove_signal_handler(signum)
            self._stop_now = None

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

    def _on_signal(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            self._announce(
                f"{self.signal_name}: stopping scan {self.scan}: no new checks, finishing those in flight; "
                "the report will be partial (send it again to stop now)"
            )
            self._stop_crawler()
            return
        if self._stop_now is not None:
            name = signal.Signals(signum).name
            self._stop_now(
                ScanStopped(
                    f"stopped by a second {name} before the fetches in flight were done: no report written; "
                    f"resume with --resume {self.scan}",
                    self.signum,
                )
            )

    def _stop_crawler(self) -> None:
        """No check starts from now on: the crawler's check budget is what it has started (as a monitored
        site's budget stops a scan), so the queue drains without fetching and the crawl ends."""
        crawler = self._crawler
        if crawler is not None:
            crawler.config = replace(crawler.config, max_checks=crawler.checks)

    def partial(self, report: Report) -> Report:
        """``report`` marked partial: a ``crawl.interrupted`` line counting the checks not started, and a
        warning naming the resume command. The report itself when no signal came."""
        if self.signum is None:
            return report
        pending: list[str] = []
        if self._crawler is not None:
            pending = [r.url for r in self._crawler.frontier().resources if r.pending]
        hint = f"resume with --resume {self.scan}"
        line = LeftOut(
            INTERRUPTED,
            len(pending),
            f"URLs not checked: the run was interrupted by {self.signal_name}; {hint}",
            tuple(pending[:_EXAMPLES]),
        )
        warning = f"interrupted by {self.signal_name}: this report is partial; {hint}"
        summary = replace(
            report.summary,
            left_out=(line, *report.summary.left_out),
            warnings=(*report.summary.warnings, warning),
        )
        return replace(report, summary=summary)
