"""Worker health for the dashboard and ``/metrics``: who is connected, how deep the queue is, how fast
checks go, and which diagnoses the workers see.

Each worker process beats every few seconds into a Redis sorted set (:class:`Heartbeat`, a thread of the
``linkdoctor worker`` process); a worker silent for ``STALE_AFTER`` seconds counts as gone. Counters come
from the workers' batch bookkeeping (:mod:`linkdoctor.distributed.work`). Batches in progress are the
batches under a live lease (a worker renews it while it runs the batch), not the broker's unacknowledged
messages: a killed worker's batch stops counting once its lease lapses, while Celery would keep it
unacknowledged until its visibility timeout.

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

from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings, sync_redis

HEARTBEAT_INTERVAL = 5.0
STALE_AFTER = 30.0
RATE_WINDOW = 60  # seconds of checks averaged into checks per second
IN_FLIGHT_MAX = 4096  # fetches one coordinator keeps in flight at most, however many workers beat


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    name: str
    seen_ago: float
    checks: int
    batches: int
    in_progress: int = 0  # batches it holds a live lease on


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
    """Read the cluster's health from Redis (two round trips, plus one per live worker)."""
    keys = settings.keys
    now = time.time() if now is None else now
    buckets = [keys.rate_bucket(now - 10 * i) for i in range(1, RATE_WINDOW // 10 + 1)]
    pipe = redis.pipeline(transaction=False)
    pipe.zrangebyscore(keys.workers, now - STALE_AFTER, "+inf", withscores=True)
    pipe.llen(settings.queue)
    pipe.zrange(keys.running_scans, 0, -1)
    pipe.hgetall(keys.counters)
    pipe.hgetall(keys.diagnoses)
    # a scan whose coordinator stopped beating is not running
    pipe.zcount(keys.running_scans, now - SCAN_STALE_AFTER, "+inf")
    pipe.mget(buckets)
    beats, depth, scans, counters, diagnoses, running, rates = pipe.execute()
    holders = leased_batches(redis, settings, [_text(scan) for scan in scans])
    workers = []
    for raw_name, seen in beats:
        name = raw_name.decode()
        stats = redis.hgetall(keys.worker_stats(name))
        checks, batches = int(stats.get(b"checks", 0)), int(stats.get(b"batches", 0))
        workers.append(WorkerHealth(name, round(now - seen, 1), checks, batches, holders.count(name)))
    count = {k.decode(): int(v) for k, v in counters.items()}
    return ClusterHealth(
        workers=tuple(sorted(workers, key=lambda w: w.name)),
        queue_depth=int(depth),
        in_progress=len(holders),
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


def leased_batches(redis: Redis, settings: BrokerSettings, scans: list[str]) -> list[str]:
    """The worker holding each batch of ``scans`` under a live lease (one entry per batch), by the Redis
    clock the leases are written on (:mod:`linkdoctor.distributed.work`). A lease whose deadline passed
    belongs to a worker that died or froze: its batch is no longer being worked on."""
    pipe = redis.pipeline(transaction=False)
    pipe.time()
    for scan in scans:
        pipe.hvals(settings.keys.leases(scan))
    clock, *leases = pipe.execute()
    now_ms = int(clock[0]) * 1000 + int(clock[1]) // 1000
    holders = []
    for values in leases:
        for value in values:
            deadline, _, holder = _text(value).partition("|")
            if deadline.isdigit() and int(deadline) >= now_ms:
                holders.append(holder)
    return holders


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def live_slots(redis: Redis, settings: BrokerSettings, *, now: float | None = None) -> int:
    """How many batches the live workers run at once, all together (each beats its ``slots``); 0 when no
    worker beat within ``STALE_AFTER``. The coordinator sizes how much work it keeps in flight by it."""
    now = time.time() if now is None else now
    names = [_text(n) for n in redis.zrangebyscore(settings.keys.workers, now - STALE_AFTER, "+inf")]
    if not names:
        return 0
    pipe = redis.pipeline(transaction=False)
    for name in names:
        pipe.hget(settings.keys.worker_stats(name), "slots")
    return sum(max(1, int(slots or 1)) for slots in pipe.execute())


def in_flight_cap(settings: BrokerSettings, floor: int) -> int:
    """How many fetches a coordinator keeps in flight: enough for two page batches per batch slot of the
    live workers (one running, one waiting in the queue behind it), never fewer than ``floor`` (the run's
    ``--max-concurrency``) nor more than ``IN_FLIGHT_MAX``. A broker that does not answer leaves ``floor``."""
    try:
        with sync_redis(settings) as redis:
            slots = live_slots(redis, settings)
    except RedisError:
        return floor
    return max(floor, min(IN_FLIGHT_MAX, 2 * slots * settings.page_batch))


class Heartbeat:
    """Marks a worker alive every ``interval`` seconds until stopped (a daemon thread), with the number of
    batches it runs at once (``slots``)."""

    def __init__(
        self,
        redis: Redis,
        settings: BrokerSettings,
        name: str,
        *,
        interval: float = HEARTBEAT_INTERVAL,
        clock: Callable[[], float] = time.time,
        slots: int = 1,
    ) -> None:
        self._redis = redis
        self._keys = settings.keys
        self.name = name
        self.slots = max(1, slots)
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linkdoctor-heartbeat", daemon=True)

    def beat(self) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.zadd(self._keys.workers, {self.name: self._clock()})
        pipe.zremrangebyscore(self._keys.workers, "-inf", self._clock() - 24 * 3600)
        pipe.hset(self._keys.worker_stats(self.name), mapping={"pid": os.getpid(), "slots": self.slots})
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
