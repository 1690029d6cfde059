"""A slow site cannot hold up the other sites' scans: a run of a scan lasts one turn, then it saves its
frontier, ends partial and gives way, and later ticks resume it until it is done, with nothing lost or
checked twice. A scan run by hand (``sites scan``), which someone waits for, runs to its end."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest
from tests.integration.monitor.sitekit import Clock
from tests.support.threaded_site import threaded_site

from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.scan import CheckpointPolicy
from linkdoctor.monitor.service import Monitor

PAGES = 12
DELAY = 0.4  # each page of the slow site, which links to the next: seconds in all, whatever the concurrency


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/":
            body = '<a href="/p0.html">start</a><a href="/gone">x</a>'
        elif self.path.startswith("/p") and self.path.endswith(".html"):
            time.sleep(DELAY)
            n = int(self.path[2:-5])
            body = f'<a href="/p{n + 1}.html">next</a>' if n + 1 < PAGES else "<p>the end</p>"
        else:
            self.send_error(404)
            return
        self.page(body.encode())

    def page(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class _Fast(_Slow):
    def do_GET(self) -> None:
        self.page(b'<a href="/">home</a>')


@pytest.fixture
def sites() -> Iterator[tuple[str, str]]:
    with threaded_site(_Slow) as slow, threaded_site(_Fast) as fast:
        yield slow, fast


def _monitor(tmp_path: Path, turn: float | None) -> Monitor:
    return Monitor.open(
        f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}",
        clock=Clock(),
        checkpoint_policy=CheckpointPolicy(turn_seconds=turn),
    )


def test_a_slow_sites_scan_gives_way_each_turn_and_finishes_over_several(
    tmp_path: Path, sites: tuple[str, str]
) -> None:
    slow_url, fast_url = sites
    monitor = _monitor(tmp_path, 1.0)
    try:
        slow = monitor.add_site(SiteSpec(name="slow", url=slow_url, every=None))
        fast = monitor.add_site(SiteSpec(name="fast", url=fast_url, every=None))
        slow_scan, fast_scan = monitor.request_scan(slow.id), monitor.request_scan(fast.id)

        assert monitor.run_due_scans(owner="tick") == [slow_scan.id, fast_scan.id]
        assert monitor.scan(slow_scan.id).state is ScanState.PARTIAL  # its turn ended
        assert monitor.scan(fast_scan.id).state is ScanState.DONE  # in the same tick, not after the slow one

        ticks = 1
        while monitor.scan(slow_scan.id).state is ScanState.PARTIAL and ticks < 30:
            monitor.run_due_scans(owner="tick")
            ticks += 1
        done = monitor.scan(slow_scan.id)
        assert done.state is ScanState.DONE and done.runs == ticks > 1
        results = {r.url: r.category.value for r in monitor.results(slow_scan.id, limit=1000)}
        assert len(results) == PAGES + 2  # the start page, its pages and the missing one: each once
        assert [url for url, category in results.items() if category != "ok"] == [f"{slow_url}gone"]
        assert done.budget_used == PAGES + 2  # nothing checked twice across the turns
    finally:
        monitor.close()


def test_a_scan_run_by_hand_runs_to_its_end(tmp_path: Path, sites: tuple[str, str]) -> None:
    slow_url, _ = sites
    monitor = _monitor(tmp_path, 1.0)
    try:
        slow = monitor.add_site(SiteSpec(name="slow", url=slow_url, every=None))
        scan = monitor.scan_now(slow.id, owner="hand")
        assert (scan.state, scan.runs, scan.counts.total) == (ScanState.DONE, 1, PAGES + 2)
    finally:
        monitor.close()


class _Wide(_Slow):
    """``/`` links to 60 pages that answer in 0.4 s each, and to ``/r``, whose 301 (0.8 s) leads to ``/t``
    (0.8 s): at the turn's end checks wait for a slot of the host and a redirect is between its hops."""

    hits: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        if self.path == "/":
            self.page(
                ("".join(f'<a href="/w{n}.html">w</a>' for n in range(60)) + '<a href="/r">r</a>').encode()
            )
        elif self.path.startswith("/w"):
            time.sleep(DELAY)
            self.page(b"<p>leaf</p>")
        elif self.path == "/r":
            time.sleep(2 * DELAY)
            self.send_response(301)
            self.send_header("Location", "/t")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/t":
            time.sleep(2 * DELAY)
            self.page(b"<p>target</p>")
        else:
            self.send_error(404)


def test_the_checks_a_turn_began_finish_and_are_charged_once(tmp_path: Path) -> None:
    # The turn ends while checks wait for a slot of the host and a redirect is between its hops: they are
    # finished, not dropped, so each page is requested once and the budget is charged the checks made.
    # (Dropped, the redirect was asked again every turn, and never finished with a turn shorter than a hop.)
    _Wide.hits.clear()
    monitor = _monitor(tmp_path, 0.5)
    try:
        with threaded_site(_Wide) as url:
            site = monitor.add_site(SiteSpec(name="wide", url=url, every=None))
            scan = monitor.request_scan(site.id)
            for _ in range(10):
                monitor.run_due_scans(owner="tick")
                if monitor.scan(scan.id).state is not ScanState.PARTIAL:
                    break
        done = monitor.scan(scan.id)
        assert done.state is ScanState.DONE
        assert done.budget_used == done.counts.total == 62  # the start page, its 60 pages and /r
        assert {path: n for path, n in _Wide.hits.items() if n != 1} == {}
        assert _Wide.hits["/t"] == 1
    finally:
        monitor.close()


@pytest.mark.parametrize("turn", ["nan", "inf", "0.001", "9"])
def test_serve_refuses_a_turn_that_would_break_or_stall_scans(turn: str) -> None:
    # NaN failed every scan, inf every scan on the workers, and a turn shorter than a request or two left
    # a scan partial for ever, restarting at every tick.
    done = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "serve", "--scan-turn", turn],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3
    assert f"--scan-turn': {turn} is not 0 (no limit) or a number of seconds from 10" in done.stderr
