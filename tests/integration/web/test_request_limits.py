"""Request bodies a real ``linkdoctor serve`` reads: at most 1 MiB, whoever sends them.

FastAPI reads a route's JSON body before it asks who is calling, so an anonymous client's 200 MB
``POST /api/v1/sites`` was read and parsed whole (half a gigabyte of the server's memory) before its 422.
Now a declared length over the limit is refused with 413 before the body is read, a chunked body at the
first chunk past it, and the server's peak memory does not grow with what is sent; the largest honest
site still saves.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import Served, log_in, serve_process

LIMIT = 1024 * 1024
SENT = 96 * 1024 * 1024  # what a hostile client sends: far more than the limit
CHUNK = 64 * 1024
WRITES = ("/api/v1/sites", "/api/v1/sites/1", "/api/v1/tokens", "/api/v1/users", "/login")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("serve-limits")
    with serve_process(f"sqlite:///{home / 'linkdoctor.sqlite'}", home) as served:
        yield served


def peak_memory_kib(served: Served) -> int:
    """The serve process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{served.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc")


def raw_post(served: Served, path: str, *, chunked: bool, method: str = "POST") -> bytes:
    """Send ``SENT`` bytes of a JSON string as ``path``'s body (declared, or chunked) with no credentials, as
    long as the server reads them; the status line and headers it answers with."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {SENT}\r\n\r\n"
    deadline = time.monotonic() + 60
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
        sock.sendall(head.encode())
        body = b'{"name": "' + b"a" * (CHUNK - 10)
        sent = 0
        try:
            while sent < SENT and time.monotonic() < deadline:
                piece = body if sent == 0 else b"a" * CHUNK
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the rest was never read
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            try:
                data = sock.recv(4096)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
    return answer


def test_a_declared_huge_body_is_refused_with_413_before_it_is_read(server: Served) -> None:
    before = peak_memory_kib(server)
    for path in WRITES:
        method = "PUT" if path == "/api/v1/sites/1" else "POST"
        answer = raw_post(server, path, chunked=False, method=method)
        assert answer.startswith(b"HTTP/1.1 413 "), (path, answer[:200])
    grown = peak_memory_kib(server) - before
    assert grown < 32 * 1024, f"serve's peak memory grew by {grown} KiB"


def test_a_chunked_huge_body_is_refused_with_413_at_the_limit(server: Served) -> None:
    before = peak_memory_kib(server)
    answer = raw_post(server, "/api/v1/sites", chunked=True)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    grown = peak_memory_kib(server) - before
    assert grown < 32 * 1024, f"serve's peak memory grew by {grown} KiB"
    assert server.process.poll() is None


def test_the_largest_honest_site_is_still_saved(server: Served) -> None:
    admin = log_in(server.base, "admin", ADMIN_PASSWORD)
    patterns = [f"^https?://{i}" + "a" * 480 for i in range(50)]
    site = {
        "name": "n" * 200,
        "url": "http://127.0.0.1:9/" + "p" * 2000,
        "every": None,
        "scope": patterns,
        "notify": [f"json://hooks{i}.invalid/" + "t" * 2000 for i in range(20)],
        "options": {
            "include": patterns,
            "exclude": patterns,
            "accept": list(range(200, 250)),
            "headers_env": [
                {"name": f"X-H{i}" + "h" * 90, "env": "LINKDOCTOR_SITE_" + "E" * 80} for i in range(50)
            ],
            "cert_hosts": [f"{i}" + "c" * 190 for i in range(50)],
        },
    }
    answer = admin.api("POST", "/sites", json=site)
    assert answer.status_code == 201, answer.text[:500]
    assert len(answer.request.content) > 100_000
