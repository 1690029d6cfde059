"""Ctrl-C or SIGTERM during a ``check`` (in process; the distributed check's are in
``tests/integration/distributed/test_check_resume.py``): the first stops it with its partial report and exit
128+signal, sending no request that had not gone out yet; the second stops it at once, with no report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from tests.support.aiohttp_site import serving

LINKS_PER_PAGE = 20
STARTED_BEFORE_SIGNAL = 10
PER_HOST = 2
WAIT_S = 30.0


class Site:
    """Pages of ``LINKS_PER_PAGE`` links to further pages, each answered after ``delay`` seconds (or when
    the test ends); records when each request arrived."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.arrivals: list[float] = []
        self.closing = asyncio.Event()  # set: the requests still waiting are answered at once

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), self.delay)
        number = int(request.path.rpartition("/")[2] or 0)
        links = "".join(f'<a href="/p/{number * LINKS_PER_PAGE + i}">{i}</a>' for i in range(1, 21))
        return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")


async def started(base: str, report: Path, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "linkdoctor", "check", base, "--no-progress", "--no-config",
            "--max-per-host", str(PER_HOST), "--format", f"json:{report}",
            stdout=asyncio.subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def until(condition: Callable[[], bool], log: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, text_of(log)
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_signal_stops_the_check_with_its_partial_report(
    tmp_path: Path, signum: signal.Signals
) -> None:
    site = Site(delay=0.3)
    report, log = tmp_path / "report.json", tmp_path / "check.log"
    async with serving(site.handle) as base:
        process = await started(base, report, log)
        await until(lambda: len(site.arrivals) >= STARTED_BEFORE_SIGNAL, log)
        process.send_signal(signum)
        signalled = time.monotonic()
        code = await asyncio.wait_for(process.wait(), WAIT_S)
    text = text_of(log)
    assert code == 128 + signum, text
    assert "Traceback" not in text
    name = signum.name
    assert text.splitlines()[0] == (
        f"linkdoctor: {name}: stopping: no new checks, finishing those in flight; the report will be "
        "partial (send it again to stop now)"
    )
    assert text.splitlines()[-1] == f"linkdoctor: interrupted by {name}: the report is partial"
    # No request went out after the signal but those already holding one of the host's slots: the pages
    # queued behind them (hundreds, at PER_HOST requests every 0.3 s) were left, not fetched.
    assert sum(arrived > signalled for arrived in site.arrivals) <= PER_HOST, len(site.arrivals)
    summary = json.loads(text_of(report))["summary"]
    interrupted = summary["left_out"][0]
    assert interrupted["code"] == "crawl.interrupted"
    assert interrupted["count"] >= LINKS_PER_PAGE  # the start page's links, at least
    assert interrupted["detail"] == f"URLs not checked: the run was interrupted by {name}"
    assert f"interrupted by {name}: this report is partial" in summary["warnings"]
    assert summary["pages_crawled"] >= 1


async def test_a_second_signal_stops_the_check_at_once_with_no_report(tmp_path: Path) -> None:
    site = Site(delay=3600)  # the requests in flight are never answered
    report, log = tmp_path / "report.json", tmp_path / "check.log"
    async with serving(site.handle) as base:
        process = await started(base, report, log)
        await until(lambda: len(site.arrivals) >= 1, log)
        process.send_signal(signal.SIGINT)
        await until(lambda: "stopping" in text_of(log), log)
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), WAIT_S)
        site.closing.set()
    text = text_of(log)
    assert code == 130, text
    assert "Traceback" not in text
    assert text.splitlines()[-1] == (
        "linkdoctor: error: stopped by a second SIGINT before the fetches in flight were done: no report "
        "written"
    )
    assert not report.exists()
