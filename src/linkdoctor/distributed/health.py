"""Worker health for the dashboard and ``/metrics``: who is connected, how deep the queue is, how fast
checks go, and which diagnoses the workers see.

Each worker process beats every few seconds into a Redis sorted set (:class:`Heartbeat`, a thread of the
``linkdoctor worker`` process); a worker silent for ``STALE_AFTER`` seconds counts as gone. Counters come
from the workers' batch bookkeeping (:mod:`linkdoctor.distributed.work`).

>>> # health = read_health(redis.Redis.from_url(url), BrokerSettings(url))
>>> # health.workers, health.queue_depth, health.checks_per_second
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings

HEARTBEAT_INTERVAL = 5.0
STALE_AFTER = 30.0
RATE_WINDOW = 60  # seconds of checks averaged into checks per second
_UNACKED = "unacked"  # kombu's hash of messages delivered but not yet acknowledged


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    name: str
    seen_ago: float
    checks: int
    batches: int


@dataclass(frozen=True, slots=True)
class ClusterHealth:
    """A snapshot of the workers and the queue."""

    workers: tuple[WorkerHealth, ...]
    queue_depth: int
    in_progress: int
    checks_per_second: float
    checks_total: int
    pages_total: int
    batches_total: int
    scans_running: int
    scans_started: int
    scans_finished: int
    scans_failed: int
    diagnoses: tuple[tuple[str, int], ...]


def read_health(redis: Redis, settings: BrokerSettings, *, now: float | None = None) -> ClusterHealth:
    """Read the cluster's health from Redis (one round trip)."""
    keys = settings.keys
    now = time.time() if now is None else now
    buckets = [keys.rate_bucket(now - 10 * i) for i in range(1, RATE_WINDOW // 10 + 1)]
    pipe = redis.pipeline(transaction=False)
    pipe.zrangebyscore(keys.workers, now - STALE_AFTER, "+inf", withscores=True)
    pipe.llen(settings.queue)
    pipe.hlen(_UNACKED)
    pipe.hgetall(keys.counters)
    pipe.hgetall(keys.diagnoses)
    # a scan whose coordinator stopped beating is not running
    pipe.zcount(keys.running_scans, now - SCAN_STALE_AFTER, "+inf")
    pipe.mget(buckets)
    beats, depth, unacked, counters, diagnoses, running, rates = pipe.execute()
    workers = []
    for raw_name, seen in beats:
        name = raw_name.decode()
        stats = redis.hgetall(keys.worker_stats(name))
        workers.append(
            WorkerHealth(
                name, round(now - seen, 1), int(stats.get(b"checks", 0)), int(stats.get(b"batches", 0))
            )
        )
    count = {k.decode(): int(v) for k, v in counters.items()}
    return ClusterHealth(
        workers=tuple(sorted(workers, key=lambda w: w.name)),
        queue_depth=int(depth),
        in_progress=int(unacked),
        checks_per_second=round(sum(int(r or 0) for r in rates) / RATE_WINDOW, 2),
        checks_total=count.get("checks", 0),
        pages_total=count.get("pages", 0),
        batches_total=count.get("batches", 0),
        scans_running=int(running),
        scans_started=count.get("scans_started", 0),
        scans_finished=count.get("scans_finished", 0),
        scans_failed=count.get("scans_failed", 0),
        diagnoses=tuple(sorted((k.decode(), int(v)) for k, v in diagnoses.items())),
    )


class Heartbeat:
    """Marks a worker alive every ``interval`` seconds until stopped (a daemon thread)."""

    def __init__(
        self,
        redis: Redis,
        settings: BrokerSettings,
        name: str,
        *,
        interval: float = HEARTBEAT_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._keys = settings.keys
        self.name = name
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linkdoctor-heartbeat", daemon=True)

    def beat(self) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(self._keys.workers, {self.name: self._clock()})
        pipe.zremrangebyscore(self._keys.workers, "-inf", self._clock() - 24 * 3600)
        pipe.hset(self._keys.worker_stats(self.name), "pid", os.getpid())
        pipe.expire(self._keys.worker_stats(self.name), 24 * 3600)
        pipe.execute()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and leave the set of connected workers."""
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)
        with contextlib.suppress(RedisError):
            self._redis.zrem(self._keys.workers, self.name)

    def _run(self) -> None:
        while True:
            # The broker may be away: Celery reports that itself, and the beat resumes when it returns.
            with contextlib.suppress(RedisError):
                self.beat()
            if self._stop.wait(self._interval):
                return
