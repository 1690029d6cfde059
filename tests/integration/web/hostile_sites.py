"""Local servers for the hostile-site tests: a monitored site whose page links to a second host (a canary
listener on 127.0.0.2) and carries a 1,900-character link, with slow pages that keep a scan running, and both
servers recording the headers of every request they get.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Under the default --max-url-length (2,048), so the filters run on it: ^(.+)+!$ never finishes on it with re.
LONG_PATH = "/" + "a" * 1_900
CANARY_HOST = "127.0.0.2"


@dataclass
class Recorded:
    """Every request a server got: (path, headers with lowercase names)."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, headers: dict[str, str]) -> None:
        with self.lock:
            self.requests.append((path, headers))

    def headers(self) -> list[dict[str, str]]:
        with self.lock:
            return [h for _, h in self.requests]

    def values(self) -> str:
        """Every header value received, in one string (to look for a secret in)."""
        return "\n".join(v for h in self.headers() for v in h.values())


@dataclass
class HostileSite:
    base: str
    canary: str
    site: Recorded
    canary_got: Recorded


def _handler(recorded: Recorded, page: str, slow: float) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _answer(self, body: bool) -> None:
            recorded.add(self.path, {k.lower(): v for k, v in self.headers.items()})
            if self.path.startswith("/slow/"):
                time.sleep(slow)
            data = page.encode() if self.path == "/" else b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8" if self.path == "/" else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the checker gave up
                    self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

    return Handler


@contextmanager
def _server(host: str, recorded: Recorded, page: str, slow: float) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer((host, 0), _handler(recorded, page, slow))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hostile_site(*, slow_links: int = 0, slow: float = 0.5) -> Iterator[HostileSite]:
    """The site on 127.0.0.1 (its ``/`` links to the canary, to a 10 KB URL, and to ``slow_links`` pages
    that answer after ``slow`` seconds) and the canary on 127.0.0.2."""
    canary_got, site_got = Recorded(), Recorded()
    with _server(CANARY_HOST, canary_got, "", 0) as canary:
        links = [f'<a href="{canary}/canary">canary</a>', f'<a href="{LONG_PATH}">long</a>']
        links += [f'<a href="/slow/{i}">slow {i}</a>' for i in range(slow_links)]
        page = "<!doctype html><html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        with _server("127.0.0.1", site_got, page, slow) as base:
            yield HostileSite(base, canary, site_got, canary_got)
