"""Real parts for the distributed tests: a Redis server on a free port and ``linkdoctor worker`` processes.

    with RedisServer.start(tmp_path) as redis:
        with Worker.start(redis.url, db_url, name="w1") as worker:
            ...
            worker.kill()  # kill -9, the whole process group

Every wait is bounded; a part that does not come up fails the test with its log.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import redis as redis_sync
from benchmarks.nginxctl import free_port

REDIS_MISSING = "redis-server is required for the distributed tests: apt-get install redis-server (./scripts/test does this as root)"
START_TIMEOUT_S = 20.0


@dataclass
class RedisServer:
    """``redis-server`` without persistence, in a temp dir, on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls, directory: Path, *, port: int | None = None) -> Self:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError(REDIS_MISSING)
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port() if port is None else port
        log = (directory / "redis.log").open("ab")
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(directory)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = cls(process, port, directory)
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


@dataclass
class Worker:
    """One ``linkdoctor worker`` process (its own process group, so ``kill`` takes its children too)."""

    process: subprocess.Popen[bytes]
    name: str
    log: Path

    @classmethod
    def start(
        cls,
        broker_url: str,
        db_url: str | None,
        *,
        name: str,
        directory: Path,
        visibility_timeout: float = 300.0,
        pool: str = "solo",
        concurrency: int = 1,
        env: dict[str, str] | None = None,
    ) -> Self:
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / f"{name}.log"
        command = [
            sys.executable, "-m", "linkdoctor", "worker", "--broker", broker_url, "--pool", pool,
            "--concurrency", str(concurrency), "--name", name, "--visibility-timeout", str(visibility_timeout),
            "--log-level", "info",
        ]  # fmt: skip
        if db_url:
            command += ["--db", db_url]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env or dict(os.environ),
            )
        return cls(process, name, log)

    def wait_ready(self, redis: redis_sync.Redis, namespace: str = "linkdoctor") -> None:
        """Until the worker consumes from the queue (its heartbeat is in, and Celery said it is ready)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited: {self.log.read_text()[-3000:]}")
            beat = redis.zscore(f"{namespace}:workers", self.name)
            if beat is not None and "ready" in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} did not get ready: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """``kill -9`` the worker and everything it started."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
