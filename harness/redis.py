"""A throwaway ``redis-server`` for the tests and the benchmarks: no persistence, in a temp dir, on a free port
on 127.0.0.1, stopped at the end. ``./scripts/test`` installs Redis with apt.

    with RedisServer.start(tmp_path / "redis") as server:
        client = server.client()            # or connect to server.url: redis://127.0.0.1:PORT/0
        server.stop(); server.restart()     # a broker outage, on the same port

Every wait is bounded; a server that does not come up raises ``RuntimeError`` with its log.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import redis as redis_sync

from harness.ports import free_port

REDIS_MISSING = "redis-server is required for the distributed tests: apt-get install redis-server (./scripts/test does this as root)"
START_TIMEOUT_S = 20.0


@dataclass
class RedisServer:
    """``redis-server`` without persistence, in a temp dir, on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    tls_port: int | None = None  # also serving TLS there (``start(tls=...)``)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def tls_url(self) -> str:
        """``rediss://`` on the TLS port (the client must trust the CA the server's certificate came from)."""
        if self.tls_port is None:
            raise RuntimeError("this redis-server was started without TLS")
        return f"rediss://127.0.0.1:{self.tls_port}/0"

    @classmethod
    def start(cls, directory: Path, *, port: int | None = None, tls: tuple[Path, Path] | None = None) -> Self:
        """Start it; with ``tls`` (a certificate chain file and its key, PEM) it serves TLS on a port of its
        own as well, without asking clients for certificates."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError(REDIS_MISSING)
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port() if port is None else port
        tls_port = None
        while tls is not None and tls_port in (None, port):
            tls_port = free_port()
        extra = [] if tls is None else [
            "--tls-port", str(tls_port), "--tls-cert-file", str(tls[0]), "--tls-key-file", str(tls[1]),
            "--tls-auth-clients", "no",
        ]  # fmt: skip
        log = (directory / "redis.log").open("ab")
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory), *extra],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = cls(process, port, directory, tls_port)
        client = redis_sync.Redis(port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return server
            except redis_sync.ConnectionError:
                time.sleep(0.05)
            if process.poll() is not None:
                break
        server.stop()
        raise RuntimeError(f"redis-server did not start: {(directory / 'redis.log').read_text()[-2000:]}")

    def restart(self) -> None:
        """Start redis-server again on the same port after :meth:`stop` (empty: it keeps nothing)."""
        self.process = type(self).start(self.directory, port=self.port).process

    def client(self) -> redis_sync.Redis:
        return redis_sync.Redis(port=self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
