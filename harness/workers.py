"""``linkdoctor worker`` processes for the distributed tests and the distributed benchmark, each in its own
process group, against a broker such as :class:`harness.redis.RedisServer`::

    with RedisServer.start(tmp_path / "redis") as redis:
        worker = Worker.start(redis.url, db_url, name="w1@test", directory=tmp_path / "workers")
        worker.wait_ready(redis.client())
        ...
        worker.kill()  # kill -9, the whole process group

Every wait is bounded; a worker that does not come up raises ``RuntimeError`` with its log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import redis as redis_sync

START_TIMEOUT_S = 20.0


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
        concurrency: int | None = 1,
        env: dict[str, str] | None = None,
        allow_env: tuple[str, ...] = (),
    ) -> Self:
        """Start a worker logging to ``directory/<name>.log``; ``concurrency=None`` keeps the CLI's default;
        ``allow_env``: the variables of ``env`` its batches may name."""
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / f"{name}.log"
        command = [
            sys.executable, "-m", "linkdoctor", "worker", "--broker", broker_url, "--pool", pool,
            "--name", name, "--visibility-timeout", str(visibility_timeout), "--log-level", "info",
        ]  # fmt: skip
        if concurrency is not None:
            command += ["--concurrency", str(concurrency)]
        if db_url:
            command += ["--db", db_url]
        for variable in allow_env:
            command += ["--allow-env", variable]
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
