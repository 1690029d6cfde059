"""A site of any size served from memory: every page is generated from its path on request, so 500,000
pages cost no disk and no generation time, and the same page count always gives the same site.

Page ``i`` lives at ``/i.html`` (``/`` is page 0). Each page has 30 links: 10 shared navigation links
(pages 1 to 10) and 20 links of a tree (its parent, its 4 children, then the pages after it, each titled
``Page j``). A known share of the tree links is broken or redirected:

- every 997th page (``i % 997 == 3``) links to ``/missing/i.html``, which answers 404;
- every 4,999th page (``i % 4999 == 5``) links to the next page with a ``#no-such-anchor`` fragment that
  no page has (every page has the ids ``top`` and ``main``);
- every 1,009th page (``i % 1009 == 8``) links to ``/old/i``, a 301 to ``/i.html`` (redirected, not broken).

:func:`broken_links` lists the broken URLs, the ground truth. ``python -m benchmarks.bigsite --pages N``
serves the site on a free port of 127.0.0.1 and prints ``port <n>`` once it listens. The server is a bare
HTTP/1.1 keep-alive responder on asyncio (uvloop when installed), not a web framework, so its CPU stays a
small part of what a crawl of it measures.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from typing import Final, cast

NAV: Final = 10
CHILDREN: Final = 4
TREE: Final = 20
MISSING_EVERY: Final = 997
FRAGMENT_EVERY: Final = 4999
REDIRECT_EVERY: Final = 1009


def tree_targets(i: int, pages: int) -> list[str]:
    """The 20 tree links of page ``i`` (paths, some with a fragment), in page order."""
    targets: list[str] = []
    if i > 0:
        targets.append(f"/{(i - 1) // CHILDREN}.html")
    targets += [f"/{c}.html" for c in range(CHILDREN * i + 1, CHILDREN * i + CHILDREN + 1) if c < pages]
    if i % MISSING_EVERY == 3:
        targets.append(f"/missing/{i}.html")
    if i % FRAGMENT_EVERY == 5:
        targets.append(f"/{(i + 1) % pages}.html#no-such-anchor")
    if i % REDIRECT_EVERY == 8:
        targets.append(f"/old/{i}")
    step = 1
    while len(targets) < TREE:
        targets.append(f"/{(i + step) % pages}.html")
        step += 1
    return targets


def page_html(i: int, pages: int) -> bytes:
    nav = "".join(f'<li><a href="/{n}.html">Section {n}</a></li>\n' for n in range(1, NAV + 1))
    tree = "".join(f'<li><a href="{t}">Page {t[1:].split(".")[0]}</a></li>\n' for t in tree_targets(i, pages))
    return (
        f'<!doctype html>\n<html><head><meta charset="utf-8"><title>Page {i}</title></head>\n'
        f'<body><nav id="top"><ul>\n{nav}</ul></nav>\n<main id="main"><h1>Page {i}</h1><ul>\n{tree}</ul>'
        "</main></body></html>\n"
    ).encode()


def broken_links(base: str, pages: int) -> frozenset[str]:
    """Every broken link of the site, as absolute URLs under ``base`` (``http://host:port``)."""
    broken = {f"{base}/missing/{i}.html" for i in range(3, pages, MISSING_EVERY)}
    broken |= {f"{base}/{(i + 1) % pages}.html#no-such-anchor" for i in range(5, pages, FRAGMENT_EVERY)}
    return frozenset(broken)


def answer(method: str, path: str, pages: int) -> bytes:
    """The whole HTTP response to one request."""
    status, headers, body = "404 Not Found", "", b"<!doctype html><title>Not found</title>\n"
    page = 0 if path == "/" else _page_number(path)
    if page is not None and page < pages:
        status, body = "200 OK", page_html(page, pages)
    elif path.startswith("/old/") and path[5:].isdigit():
        status, headers, body = "301 Moved Permanently", f"Location: /{path[5:]}.html\r\n", b""
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head if method == "HEAD" else head + body


def _page_number(path: str) -> int | None:
    stem = path[1:-5] if path.endswith(".html") else ""
    return int(stem) if stem.isdigit() else None


class _Http(asyncio.Protocol):
    """Keep-alive HTTP/1.1: one answer per request head, in order; request bodies are not expected."""

    def __init__(self, pages: int) -> None:
        self._pages = pages
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            method, _, rest = head.partition(b" ")
            target = rest.partition(b" ")[0].decode("latin-1").partition("?")[0]
            assert self._transport is not None
            self._transport.write(answer(method.decode("latin-1"), target, self._pages))


async def serve(pages: int, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Http(pages), "127.0.0.1", port, backlog=1024)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500_000)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        asyncio.run(serve(args.pages, args.port))
    else:
        uvloop.run(serve(args.pages, args.port))


if __name__ == "__main__":
    main()
