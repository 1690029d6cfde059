"""A raw-socket HTTP/1.1 server for answers that no HTTP library sends: bytes that are not UTF-8 in the
status line or the headers, exactly as given.

Each path maps to the bytes of its whole answer (status line, headers, body); any other path gets a plain
404. Every answer closes the connection, and a HEAD request gets the answer's head only::

    page = answer(b"HTTP/1.1 200 OK", b'<a href="/odd">odd</a>')
    odd = answer(b"HTTP/1.1 404 Not\\x01Found\\x7f\\xff")
    with raw_http_server({"/": page, "/odd": odd}) as base:
        ...  # base is http://127.0.0.1:PORT
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_MAX_HEAD = 65536


def answer(
    status_line: bytes, body: bytes = b"", *, content_type: bytes = b"text/html; charset=utf-8"
) -> bytes:
    """A whole answer: ``status_line``, a content type and length, ``Connection: close``, then ``body``."""
    head = [status_line, b"Content-Type: " + content_type, b"Content-Length: %d" % len(body)]
    return b"\r\n".join([*head, b"Connection: close", b"", b""]) + body


@contextmanager
def raw_http_server(answers: Mapping[str, bytes]) -> Iterator[str]:
    """Serve ``answers`` (path → bytes) on a free 127.0.0.1 port; yields the base URL, no trailing slash."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < _MAX_HEAD:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            method, _, rest = data.partition(b" ")
            path = rest.partition(b" ")[0].decode("latin-1")
            reply = answers.get(path, _NOT_FOUND)
            if method == b"HEAD":
                reply = reply.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
            self.request.sendall(reply)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
