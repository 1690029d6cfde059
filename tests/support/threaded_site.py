"""A ``http.server`` handler served from a thread on a free port of 127.0.0.1, for tests that need a plain
blocking server of their own:

    with threaded_site(Handler) as base:  # "http://127.0.0.1:PORT/"
        ...
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def threaded_site(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on 127.0.0.1 until the block ends; yields the base URL, with its ``/``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port: Any = server.server_address[1]
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()
