"""The hostile run: every hostile endpoint (:mod:`tests.support.hostile`, its raw-socket half
:mod:`tests.support.hostile_raw`, malformed URLs) linked from one index page, both servers behind byte-counting
proxies (:mod:`tests.support.byte_proxy`), and a real ``linkdoctor check`` process run against it with its
wall time and peak memory measured from ``/proc``::

    async with hostile_site(gzip_bomb()) as site:
        run = await run_check(site.index, tmp_path)
        run.wall, run.peak_rss, site.sent()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from tests.support import hostile, hostile_raw, trap_routes
from tests.support.byte_proxy import ByteProxy, byte_proxy

# Paths of the aiohttp half the index links to (one per endpoint class; the traps at their start).
WEB_PATHS: Final = (
    "/ok", "/rate-limited", "/rate-limited-date", "/always-429", "/slow", "/drip", "/endless", "/gzip-bomb",
    "/reset", "/empty-reply", "/head-405", "/binary-as-html", "/latin1", "/truncated", "/redirect-loop",
    "/redirect-many", "/bot-protected", "/linkedin", "/cookie-required", "/auth", hostile.TRAP_START,
    "/huge-url-trap/a/", "/query-explosion", "/relative-loop/", trap_routes.SESSION_START,
    "/redirect-to-file", "/retry-after-years", "/retry-after-far-date", "/many-links", "/sitemap-index.xml",
    "/sitemap-bomb.xml.gz", "/entity-bomb.xml",
)  # fmt: skip
# Malformed URLs, none of which names a host to look up: tests never ask the machine's resolver.
MALFORMED: Final = (
    "http://[::1/",
    "http://127.0.0.1:99999/",
    "http:///no-host",
    "http://[127.0.0.1]/",
    "ht!tp://bad-scheme/",
    "http://127.0.0.1:1/" + "x" * 5000,
    "http://127.0.0.1:1/with space/%zz%",
)


@dataclass
class HostileSite:
    index: str
    web_base: str
    raw_base: str
    web: ByteProxy
    raw: ByteProxy
    hits: hostile.HitLog
    leave_out: frozenset[str]
    raw_longest: list[tuple[float, str]]  # [the longest a raw request was held (seconds, path)]

    def endpoints(self) -> dict[str, str]:
        """Every linked URL → its endpoint's name."""
        urls = {self.web_base + p: p for p in WEB_PATHS if p not in self.leave_out}
        urls.update({self.raw_base + p: "raw " + p for p in hostile_raw.PATHS if p not in self.leave_out})
        return urls

    def sent(self) -> int:
        return self.web.sent + self.raw.sent

    def longest_request(self) -> tuple[float, str]:
        """The longest any request was held by either server, answered or left by the client: (seconds, path)."""
        return max(self.hits.longest, self.raw_longest[0])


@contextlib.asynccontextmanager
async def hostile_site(bomb: bytes, *, leave_out: frozenset[str] = frozenset()) -> AsyncIterator[HostileSite]:
    """Both halves of the hostile server behind proxies, and an index page at ``/`` that links to all (but the
    paths in ``leave_out``; ``/robots.txt`` there: no robots.txt)."""
    raw_longest = [(0.0, "")]

    def raw_done(path: str, seconds: float) -> None:
        raw_longest[0] = max(raw_longest[0], (seconds, path))

    with hostile_raw.raw_hostile_server(on_done=raw_done) as raw_direct:
        app = hostile.create_hostile_app(bomb, robots="/robots.txt" not in leave_out)
        links: list[str] = []

        async def index(request: web.Request) -> web.Response:
            body = "\n".join(f'<a href="{link}">{link[:80]}</a>' for link in links)
            return web.Response(
                text=f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n", content_type="text/html"
            )

        app.router.add_get("/", index)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=hostile.SHUTDOWN_TIMEOUT, access_log=None
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            web_port: int = runner.addresses[0][1]
            raw_port = int(raw_direct.rsplit(":", 1)[1])
            async with byte_proxy(web_port) as web_proxy, byte_proxy(raw_port) as raw_proxy:
                web_base = f"http://127.0.0.1:{web_proxy.port}"
                raw_base = f"http://127.0.0.1:{raw_proxy.port}"
                links.extend(web_base + p for p in WEB_PATHS if p not in leave_out)
                links.extend(raw_base + p for p in hostile_raw.PATHS if p not in leave_out)
                links.extend(MALFORMED)
                yield HostileSite(
                    web_base + "/",
                    web_base,
                    raw_base,
                    web_proxy,
                    raw_proxy,
                    app[hostile.HITS],
                    leave_out,
                    raw_longest,
                )
        finally:
            await runner.cleanup()


@dataclass(frozen=True)
class CheckRun:
    code: int
    wall: float
    peak_rss: int  # bytes: the check process's high-water mark (VmHWM)
    peak_tree_rss: int  # bytes: the largest sum of RSS over the check process and its children seen
    stdout: str
    stderr: str
    report: dict[str, Any] | None


def _status(pid: int) -> dict[str, int]:
    values = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
    return found


async def run_check(url: str, workdir: Path, *args: str, limit: float = 300.0) -> CheckRun:
    """``linkdoctor check URL`` with default flags (plus a JSON report file), as a real process."""
    report = workdir / "report.json"
    argv = [
        sys.executable,
        "-m",
        "linkdoctor",
        "check",
        url,
        "--no-progress",
        "--no-config",
        "-o",
        str(report),
    ]
    measured = await run_measured([*argv, *args], workdir, limit=limit)
    document = json.loads(report.read_text()) if report.exists() else None
    return replace(measured, report=document)


async def run_measured(argv: list[str], workdir: Path, *, limit: float = 300.0) -> CheckRun:
    """Run ``argv`` in ``workdir`` (killed after ``limit`` seconds), polling ``/proc`` every 0.1 s for its
    peak RSS and the peak RSS of it and its children together (no report: ``report`` is None)."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=workdir
    )
    peak = peak_tree = 0
    communicate = asyncio.ensure_future(proc.communicate())
    while not communicate.done():
        status = _status(proc.pid)
        peak = max(peak, status.get("VmHWM", 0))
        tree = status.get("VmRSS", 0) + sum(_status(c).get("VmRSS", 0) for c in _children(proc.pid))
        peak_tree = max(peak_tree, tree)
        if time.monotonic() - started > limit:
            proc.kill()
        await asyncio.wait({communicate}, timeout=0.1)
    out, err = communicate.result()
    wall = time.monotonic() - started
    return CheckRun(
        proc.returncode or 0,
        wall,
        peak,
        peak_tree,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
        None,
    )
