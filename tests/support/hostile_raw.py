"""The hostile server's raw-socket half: answers no HTTP library would send, byte for byte, and servers that
stall. :func:`raw_hostile_server` serves them on a free 127.0.0.1 port (threads; bounded by
:data:`STALL_SECONDS` and shut down with the block)::

    with raw_hostile_server() as base:
        ...  # base + "/http09" etc.

=========================  ===========================================================================
``/never-answers``         reads the request, then says nothing
``/slow-headers``          a status line, then one header line a second
``/bad-status-line``       ``HTTP/1.1 2OO OK``
``/garbage-status``        a status line of random bytes
``/http09``                an HTTP/0.9 reply: the body alone, no status line or headers
``/non-utf8-reason``       ``404 Not\\xff\\xfeFound`` (a reason phrase that is not UTF-8)
``/broken-header``         a header line without a colon
``/oversized-header``      one header of 1 MB
``/many-headers``          20,000 headers
``/duplicated-headers``    Content-Type and Location twice, differing
``/wrong-length``          ``Content-Length: 100000`` and 10 bytes, then close
``/negative-length``       ``Content-Length: -5``
``/duplicate-length``      ``Content-Length: 2`` and ``Content-Length: 10``
``/broken-chunked``        ``Transfer-Encoding: chunked`` with a chunk size that is not hex
``/malformed-location``    302 to ``http://[::1`` (not a URL)
=========================  ===========================================================================
"""

from __future__ import annotations

import random
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

STALL_SECONDS: Final = 300.0
_MAX_HEAD: Final = 65536


def _answer(status_line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return b"\r\n".join([status_line, *headers, b"Connection: close", b"", b""]) + body


_HTML = b"Content-Type: text/html"
FIXED: Final[dict[str, bytes]] = {
    "/bad-status-line": _answer(b"HTTP/1.1 2OO OK", _HTML, b"Content-Length: 2", body=b"ok"),
    "/garbage-status": random.Random(7).randbytes(200).replace(b"\n", b"") + b"\r\n\r\nrest",
    "/http09": b"<html><body><a href='/ok'>from 1991</a></body></html>\n",
    "/non-utf8-reason": _answer(b"HTTP/1.1 404 Not\xff\xfeFound", _HTML, b"Content-Length: 0"),
    "/broken-header": _answer(
        b"HTTP/1.1 200 OK", _HTML, b"This is not a header", b"Content-Length: 2", body=b"ok"
    ),
    "/oversized-header": _answer(
        b"HTTP/1.1 200 OK", _HTML, b"X-Big: " + b"a" * 1_000_000, b"Content-Length: 2"
    ),
    "/many-headers": _answer(
        b"HTTP/1.1 200 OK", _HTML, *(b"X-H%d: v" % n for n in range(20_000)), b"Content-Length: 2", body=b"ok"
    ),
    "/duplicated-headers": _answer(
        b"HTTP/1.1 200 OK",
        _HTML,
        b"Content-Type: image/png",
        b"Location: /a",
        b"Location: /b",
        b"Content-Length: 2",
        body=b"ok",
    ),
    "/wrong-length": _answer(b"HTTP/1.1 200 OK", _HTML, b"Content-Length: 100000", body=b"0123456789"),
    "/negative-length": _answer(b"HTTP/1.1 200 OK", _HTML, b"Content-Length: -5", body=b"ok"),
    "/duplicate-length": _answer(
        b"HTTP/1.1 200 OK", _HTML, b"Content-Length: 2", b"Content-Length: 10", body=b"ok"
    ),
    "/broken-chunked": _answer(
        b"HTTP/1.1 200 OK", _HTML, b"Transfer-Encoding: chunked", body=b"zz\r\nhello\r\n0\r\n\r\n"
    ),
    "/malformed-location": _answer(b"HTTP/1.1 302 Found", b"Location: http://[::1", b"Content-Length: 0"),
}
STALLING: Final = ("/never-answers", "/slow-headers")
PATHS: Final = (*FIXED, *STALLING)


def _stall(sock: socket.socket, path: str, stop: threading.Event) -> None:
    deadline = time.monotonic() + STALL_SECONDS
    if path == "/slow-headers":
        sock.sendall(b"HTTP/1.1 200 OK\r\n")
    n = 0
    while not stop.wait(1.0) and time.monotonic() < deadline and not _client_left(sock):
        if path == "/slow-headers":
            sock.sendall(b"X-Slow-%d: a\r\n" % n)
            n += 1


def _client_left(sock: socket.socket) -> bool:
    """Whether the client closed its end (so a stall ends when the client gives up, and is timed so)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@contextmanager
def raw_hostile_server(
    on_request: Callable[[str], None] | None = None, on_done: Callable[[str, float], None] | None = None
) -> Iterator[str]:
    """Serve the raw endpoints on a free 127.0.0.1 port; yields the base URL (no trailing slash).
    ``on_request(path)`` is called as a request arrives, ``on_done(path, seconds)`` once it was answered or
    the client left."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            data = b""
            try:
                while b"\r\n\r\n" not in data and len(data) < _MAX_HEAD:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.partition(b" ")[2].partition(b" ")[0].decode("latin-1")
                if on_request is not None:
                    on_request(path)
                started = time.monotonic()
                try:
                    if path in STALLING:
                        _stall(sock, path, stop)
                    else:
                        sock.sendall(FIXED.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))
                finally:
                    if on_done is not None:
                        on_done(path, time.monotonic() - started)
            except OSError:
                return

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
