"""A hostile HTTP server (aiohttp.web) for the misbehaviour nginx cannot easily produce.

:func:`create_hostile_app` builds the application; :func:`run_hostile_server` serves it on a free
127.0.0.1 port for the length of an ``async with``. Each request is recorded in the app's
:class:`HitLog` (method, path with query, monotonic time), so tests can assert how often and when a
checker came back::

    async with run_hostile_server(gzip_bomb()) as server:
        await check(server.url("/rate-limited"))
        assert len(server.hits.for_path("/rate-limited")) == 2

Routes (all under the server root):

=======================  ===========================================================================
``/ok``                  200 HTML linking to ``/latin1``
``/rate-limited``        429 with ``Retry-After: 1`` on the first request for each path+query, then 200
``/rate-limited-date``   the same with an HTTP-date ``Retry-After`` about 1 s ahead
``/always-429``          429 with ``Retry-After: 1``, every time
``/slow``                answers after 30 s
``/drip``                sends headers, then one byte every 0.5 s (for at most 10 minutes)
``/endless``             an endless 200 text/html body (capped at 64 GiB)
``/gzip-bomb``           ~1 MB of gzip that expands to 1 GiB of zeros, ``Content-Encoding: gzip``
``/reset``               resets the TCP connection (RST) without a response
``/empty-reply``         closes the connection (FIN) without a status line
``/head-405``            405 on HEAD, 200 on GET
``/binary-as-html``      random bytes labelled text/html
``/latin1``              an ISO-8859-1 page with a link to ``/ok``
``/truncated``           HTML cut off mid-tag, after two links
``/redirect-loop``       302 to ``/loop-x``, which redirects to ``/loop-y``, which redirects to ``/loop-x``
``/redirect-many``       a chain of 30 redirects ending at ``/ok``
``/bot-protected``       403 with ``cf-mitigated: challenge`` (a Cloudflare bot challenge)
``/linkedin``            999 (LinkedIn's "request denied")
``/cookie-required``     200 with cookie ``session=letmein``, else 403
``/auth``                200 with Basic ``user:pass``, else 401 with ``WWW-Authenticate``
``/trap/Y/M/D``          a calendar that links to the next day, month and year, forever
``/huge-url-trap/...``   each page links to ``more/`` below itself, so URLs grow forever
``/query-explosion``     and the other traps of :mod:`tests.support.trap_routes`
``/redirect-to-file``    and the other routes of :mod:`tests.support.hostile_more` (sitemaps of a
                         million URLs and bombs, absurd Retry-After, a page of 300,000 links)
=======================  ===========================================================================

Answers no HTTP library sends (HTTP/0.9, broken headers and lengths, stalls) come from the raw-socket
server of :mod:`tests.support.hostile_raw`.

The runner cancels a handler when its client disconnects (``handler_cancellation``), so a checker
that gives up leaves no task behind; shutdown is bounded by ``SHUTDOWN_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import random
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import formatdate
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler
from tests.support import hostile_more, trap_routes

SLOW_SECONDS: Final = 30.0
DRIP_INTERVAL: Final = 0.5
DRIP_MAX_SECONDS: Final = 600.0
ENDLESS_MAX_BYTES: Final = 64 * 1024**3
REDIRECT_MANY: Final = 30
BOMB_SIZE: Final = 1024**3
COOKIE_NAME: Final = "session"
COOKIE_VALUE: Final = "letmein"
AUTH_USER: Final = "user"
AUTH_PASSWORD: Final = "pass"
TRAP_START: Final = "/trap/2026/01/01"
SHUTDOWN_TIMEOUT: Final = 0.5  # grace for handlers still running at teardown before they are cancelled
_CLOSED_GRACE: Final = 5.0
_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True)
class Hit:
    """One request the hostile server received."""

    method: str
    path: str  # path with query string, as sent
    at: float  # time.monotonic() on arrival


@dataclass
class HitLog:
    """Every request, in arrival order; lives on the app (``app[HITS]``), one per server."""

    hits: list[Hit] = field(default_factory=list)
    active: int = 0  # handlers running right now; 0 once every client has been answered or left
    longest: tuple[float, str] = (0.0, "")  # the longest a request was held (seconds, path), answered or left

    def record(self, hit: Hit) -> None:
        self.hits.append(hit)

    def for_path(self, path: str) -> list[Hit]:
        """Requests whose path (with query) equals ``path``."""
        return [hit for hit in self.hits if hit.path == path]

    def times(self, path: str) -> list[float]:
        """Arrival times (``time.monotonic()``) of the requests for ``path``."""
        return [hit.at for hit in self.for_path(path)]


HITS: Final = web.AppKey("hits", HitLog)
GZIP_BOMB: Final = web.AppKey("gzip_bomb", bytes)


def gzip_bomb(size: int = BOMB_SIZE) -> bytes:
    """A valid gzip stream of ``size`` zero bytes (about 1 KB per MiB), built in ~0.3 s.

    Each 1 MiB chunk is compressed after a full flush, which resets the compressor's history, so
    the compressed segment for one chunk is identical to the next and can be repeated instead of
    recompressed. The trailer (CRC-32 and length of the whole input) is computed over all chunks.
    """
    chunks = max(3, -(-size // _CHUNK))
    zeros = bytes(_CHUNK)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(zeros) + compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(chunks):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (chunks * _CHUNK) & 0xFFFFFFFF)
    return first + middle * (chunks - 2) + last[:-8] + trailer


def _html(body: str) -> str:
    return f"<!DOCTYPE html>\n<html><head><title>hostile</title></head><body>\n{body}\n</body></html>\n"


def _page(body: str, status: int = 200) -> web.Response:
    return web.Response(text=_html(body), status=status, content_type="text/html")


async def _ok(request: web.Request) -> web.Response:
    return _page('<p>fine</p>\n<a href="/latin1">latin-1 page</a>')


def _too_many(retry_after: str) -> web.Response:
    return web.Response(
        text=_html("<p>slow down</p>"),
        status=429,
        content_type="text/html",
        headers={"Retry-After": retry_after},
    )


async def _rate_limited(request: web.Request) -> web.Response:
    if len(request.app[HITS].for_path(request.path_qs)) == 1:
        return _too_many("1")
    return _page("<p>welcome back</p>")


async def _rate_limited_date(request: web.Request) -> web.Response:
    if len(request.app[HITS].for_path(request.path_qs)) == 1:
        # HTTP-dates have whole seconds: round up so the date is at least one second ahead.
        return _too_many(formatdate(math.ceil(time.time()) + 1, usegmt=True))
    return _page("<p>welcome back</p>")


async def _always_429(request: web.Request) -> web.Response:
    return _too_many("1")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(SLOW_SECONDS)
    return _page("<p>finally</p>")


async def _drip(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        for _ in range(int(DRIP_MAX_SECONDS / DRIP_INTERVAL)):
            await response.write(b"<")
            await asyncio.sleep(DRIP_INTERVAL)
    return response


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    line = b'<p><a href="/ok">and on</a></p>\n'
    chunk = line * (65536 // len(line))
    with contextlib.suppress(ConnectionError):
        await response.write(b"<!DOCTYPE html>\n<html><body>\n")
        for _ in range(ENDLESS_MAX_BYTES // len(chunk)):
            await response.write(chunk)
    return response


async def _gzip_bomb(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[GZIP_BOMB],
        headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
    )


async def _close_and_wait(request: web.Request, *, reset: bool) -> web.Response:
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("client already gone")
    if reset:
        # SO_LINGER with a zero timeout turns close() into an RST instead of a FIN.
        sock: socket.socket | None = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()
    # connection_lost cancels this handler (handler_cancellation); nothing is ever sent.
    await asyncio.sleep(_CLOSED_GRACE)
    raise ConnectionResetError("connection closed on purpose")


async def _reset(request: web.Request) -> web.Response:
    return await _close_and_wait(request, reset=True)


async def _empty_reply(request: web.Request) -> web.Response:
    return await _close_and_wait(request, reset=False)


async def _head_405(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return web.Response(status=405, headers={"Allow": "GET"})
    return _page("<p>GET works</p>")


async def _binary_as_html(request: web.Request) -> web.Response:
    body = random.Random(0).randbytes(4096)
    return web.Response(body=body, headers={"Content-Type": "text/html"})


async def _latin1(request: web.Request) -> web.Response:
    text = _html('<p>Caf\u00e9 cr\u00e8me \u00e0 la carte</p>\n<a href="/ok">d\u00e9j\u00e0 vu</a>')
    return web.Response(
        body=text.encode("iso-8859-1"), headers={"Content-Type": "text/html; charset=iso-8859-1"}
    )


async def _truncated(request: web.Request) -> web.Response:
    body = '<!DOCTYPE html>\n<html><body>\n<a href="/ok">ok</a>\n<a href="/latin1">latin</a>\n<a hre'
    return web.Response(text=body, content_type="text/html")


def _redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


async def _redirect_loop(request: web.Request) -> web.Response:
    return _redirect("/loop-x")


async def _loop_x(request: web.Request) -> web.Response:
    return _redirect("/loop-y")


async def _loop_y(request: web.Request) -> web.Response:
    return _redirect("/loop-x")


async def _redirect_many(request: web.Request) -> web.Response:
    step = int(request.match_info.get("step", "0"))
    return _redirect("/ok" if step >= REDIRECT_MANY - 1 else f"/redirect-many/{step + 1}")


async def _bot_protected(request: web.Request) -> web.Response:
    return web.Response(
        text=_html("<title>Just a moment...</title>"),
        status=403,
        content_type="text/html",
        headers={"cf-mitigated": "challenge", "Server": "cloudflare"},
    )


async def _linkedin(request: web.Request) -> web.Response:
    return web.Response(status=999, reason="Request denied", text="", content_type="text/html")


async def _cookie_required(request: web.Request) -> web.Response:
    if request.cookies.get(COOKIE_NAME) == COOKIE_VALUE:
        return _page("<p>members only</p>")
    return _page("<p>no session</p>", status=403)


def basic_authorization(user: str = AUTH_USER, password: str = AUTH_PASSWORD) -> str:
    """The ``Authorization`` header value for HTTP Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


async def _auth(request: web.Request) -> web.Response:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and f"Basic {token.strip()}" == basic_authorization():
        return _page("<p>authorised</p>")
    return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="linkdoctor"'})


async def _trap(request: web.Request) -> web.Response:
    try:
        day = date(
            int(request.match_info["year"]), int(request.match_info["month"]), int(request.match_info["day"])
        )
    except ValueError:
        return _page("<p>no such day</p>", status=404)

    def path(d: date) -> str:
        return f"/trap/{d.year:04d}/{d.month:02d}/{d.day:02d}"

    next_month = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    next_year = date(day.year + 1, 1, 1) if day.year < date.max.year else day
    links = (path(day + timedelta(days=1)), path(next_month), path(next_year))
    return _page("\n".join(f'<a href="{link}">{link}</a>' for link in links))


async def _huge_url_trap(request: web.Request) -> web.Response:
    return _page('<a href="more/">deeper</a>')


@web.middleware
async def _record_hits(request: web.Request, handler: Handler) -> web.StreamResponse:
    log = request.app[HITS]
    started = time.monotonic()
    log.record(Hit(method=request.method, path=request.path_qs, at=started))
    log.active += 1
    try:
        return await handler(request)  # a streamed body (drip, endless) returns once the client left
    finally:
        log.active -= 1
        log.longest = max(log.longest, (time.monotonic() - started, request.path))


def create_hostile_app(bomb: bytes, *, robots: bool = False) -> web.Application:
    """The hostile application; ``bomb`` is the ``/gzip-bomb`` body (see :func:`gzip_bomb`). With ``robots``,
    a hostile ``/robots.txt`` (megabytes, an absurd Crawl-delay, a million-URL sitemap index)."""
    app = web.Application(middlewares=[_record_hits])
    app[HITS] = HitLog()
    app[GZIP_BOMB] = bomb
    app[hostile_more.BODIES] = {}
    routes = {
        "/ok": _ok,
        "/rate-limited": _rate_limited,
        "/rate-limited-date": _rate_limited_date,
        "/always-429": _always_429,
        "/slow": _slow,
        "/drip": _drip,
        "/endless": _endless,
        "/gzip-bomb": _gzip_bomb,
        "/reset": _reset,
        "/empty-reply": _empty_reply,
        "/head-405": _head_405,
        "/binary-as-html": _binary_as_html,
        "/latin1": _latin1,
        "/truncated": _truncated,
        "/redirect-loop": _redirect_loop,
        "/loop-x": _loop_x,
        "/loop-y": _loop_y,
        "/redirect-many": _redirect_many,
        "/redirect-many/{step:\\d+}": _redirect_many,
        "/bot-protected": _bot_protected,
        "/linkedin": _linkedin,
        "/cookie-required": _cookie_required,
        "/auth": _auth,
        "/trap/{year:\\d+}/{month:\\d+}/{day:\\d+}": _trap,
        "/huge-url-trap/{tail:.*}": _huge_url_trap,
        **trap_routes.ROUTES,  # more traps: query strings, relative loops, session ids
        **hostile_more.ROUTES,  # sitemaps, bombs, absurd Retry-After, a page of 300,000 links
    }
    if robots:
        routes["/robots.txt"] = hostile_more.robots_txt
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    return app


@dataclass(frozen=True)
class HostileServer:
    """A running hostile server: its base URL and the request log."""

    base_url: str  # http://127.0.0.1:{port}
    port: int
    hits: HitLog
    app: web.Application

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"


@contextlib.asynccontextmanager
async def run_hostile_server(bomb: bytes) -> AsyncIterator[HostileServer]:
    """Serve :func:`create_hostile_app` on a free 127.0.0.1 port until the block exits."""
    app = create_hostile_app(bomb)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port: int = runner.addresses[0][1]
        yield HostileServer(base_url=f"http://127.0.0.1:{port}", port=port, hits=app[HITS], app=app)
    finally:
        await runner.cleanup()
