"""Fleet parallelism for ``linkdoctor serve --broker``: every due scan is a Celery job of its own, so N workers
run N site scans at once instead of one ``serve`` running them one after another.

The ``serve`` side is :class:`FleetDispatcher`: its scheduler tick
(:func:`~linkdoctor.monitor.scheduler.dispatch_due_scans`) queues the due scans and hands each claimable one
to the workers' scan queue, once: a marker in Redis (``SET NX`` with a TTL) says it is on its way, and the
worker that takes the job removes it after its claim, so a dead worker's scan is dispatched again as soon as
its lease runs out (it is claimable again), and a job lost with the broker is sent again after the TTL.

The worker side is :class:`FleetWorker`: it claims the scan in the database (the lease is the arbiter: a scan
dispatched twice runs once, and a duplicate job ends at its failed claim) and runs it here with the server's
rules, which travel with the job as a :class:`FleetScan`: the SSRF guard's allowed networks, the environment
variables sites may name, the certificate folder and the dashboard URL for alerts. Its fetches go through
the Redis host limiter, so per-host politeness stays global across the fleet; the lease heartbeat, the
checkpoints and the commit (results, alert, pruning) are the scheduler's own, as in ``serve``.

A scan runs whole on the worker that claimed it (parsing in that process); a single site too big for one
worker is ``check --broker``'s work, whose batches spread one crawl over every worker.

>>> FleetScan(7, allow_private=("10.0.0.0/8",)).to_json()["scan_id"]
7
>>> dispatched_key("linkdoctor", 7)
'linkdoctor:fleet:dispatched:7'
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from linkdoctor.config import Method
from linkdoctor.distributed.settings import SCAN_TASK, BrokerSettings, Keys
from linkdoctor.engine.fetching import FetchInterrupted, Page, PageSource
from linkdoctor.engine.http.ssrf import SSRFGuard, parse_networks
from linkdoctor.monitor import scheduler
from linkdoctor.monitor.certpaths import CertFolder
from linkdoctor.monitor.envpolicy import EnvAllowlist
from linkdoctor.monitor.model import DEFAULT_TURN_SECONDS, Scan
from linkdoctor.monitor.scan import CheckpointPolicy, ScanJob, ScanOutcome

if TYPE_CHECKING:
    import redis as redis_sync
    from celery import Celery
    from sqlalchemy import Engine

    from linkdoctor.monitor.service import Monitor

DEFAULT_SCAN_QUEUE = "linkdoctor.scans"
# How long a dispatched scan that no worker took yet is not sent again: a job the broker lost comes back
# after this; a dead worker's scan comes back sooner (its marker is gone once a worker claimed it).
DEFAULT_DISPATCH_TTL = 3600
REDIS_TIMEOUT_S = 5.0
log = logging.getLogger("linkdoctor.distributed.fleet")


@dataclass(frozen=True, slots=True)
class FleetScan:
    """One scan job: the scan's id and the rules of the ``serve`` that dispatched it."""

    scan_id: int
    allow_private: tuple[str, ...] = ()
    allow_env: tuple[str, ...] = ()
    cert_dir: str | None = None
    dashboard_url: str | None = None
    turn_seconds: float | None = DEFAULT_TURN_SECONDS  # serve --scan-turn (None: no limit)

    def to_json(self) -> dict[str, Any]:
        return {
            "scan_id": self.scan_id,
            "allow_private": list(self.allow_private),
            "allow_env": list(self.allow_env),
            "cert_dir": self.cert_dir,
            "dashboard_url": self.dashboard_url,
            "turn_seconds": self.turn_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """The job back from the broker; a ``ValueError`` for one that is not a scan job."""
        scan_id = data.get("scan_id")
        if not isinstance(scan_id, int) or isinstance(scan_id, bool):
            raise ValueError(f"not a scan job: scan_id {scan_id!r}")
        return cls(
            scan_id,
            allow_private=_strings(data.get("allow_private")),
            allow_env=_strings(data.get("allow_env")),
            cert_dir=_optional(data.get("cert_dir")),
            dashboard_url=_optional(data.get("dashboard_url")),
            turn_seconds=_turn(data.get("turn_seconds", DEFAULT_TURN_SECONDS)),
        )

    @property
    def guard(self) -> SSRFGuard:
        return SSRFGuard(parse_networks(self.allow_private))

    @property
    def env_allowlist(self) -> EnvAllowlist:
        return EnvAllowlist(frozenset(self.allow_env))

    @property
    def cert_folder(self) -> CertFolder:
        return CertFolder(None if self.cert_dir is None else Path(self.cert_dir))


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"not a scan job: expected a list of strings, got {value!r}")
    return tuple(value)


def _turn(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
        raise ValueError(f"not a scan job: expected a turn in seconds, got {value!r}")
    return float(value)


def _optional(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"not a scan job: expected a string, got {value!r}")
    return value


def dispatched_key(namespace: str, scan_id: int) -> str:
    """The marker of a scan handed to the workers and not taken yet."""
    return f"{namespace}:fleet:dispatched:{scan_id}"


@dataclass
class FleetDispatcher:
    """``serve``'s side: hands each claimable scan to the workers once (see the module docstring)."""

    redis: redis_sync.Redis
    publish: Callable[[FleetScan], None]
    rules: FleetScan
    namespace: str
    ttl: int = DEFAULT_DISPATCH_TTL
    close: Callable[[], None] = field(default=lambda: None, repr=False)

    def __call__(self, scan_id: int) -> bool:
        """Send the scan's job unless it is on its way already; True when sent now."""
        key = dispatched_key(self.namespace, scan_id)
        if not self.redis.set(key, "1", nx=True, ex=self.ttl):
            return False
        try:
            self.publish(replace(self.rules, scan_id=scan_id))
        except BaseException:
            self.redis.delete(key)  # not sent: the next tick tries again
            raise
        return True

    def tick(self, monitor: Monitor) -> list[int]:
        """One scheduler tick of the fleet: the ids of the scans handed out now."""
        sent = scheduler.dispatch_due_scans(monitor, self, now=monitor.now())
        if sent:
            log.info(
                "dispatched %d scan(s) to the workers: %s",
                len(sent),
                ", ".join(map(str, sent)),
                extra={"event": "fleet.dispatched", "scan_ids": sent},
            )
        return sent


def open_dispatcher(
    settings: BrokerSettings, rules: FleetScan, app: Celery, *, scan_queue: str = DEFAULT_SCAN_QUEUE
) -> FleetDispatcher:
    """A dispatcher sending through ``app`` (from :func:`~linkdoctor.distributed.app.create_celery`) on a
    fresh Redis client; its ``close`` releases both."""
    import redis as redis_sync

    client = redis_sync.Redis.from_url(
        settings.broker_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )

    def close() -> None:
        client.close()
        app.close()

    return FleetDispatcher(client, scan_publisher(app, scan_queue), rules, settings.namespace, close=close)


def scan_publisher(app: Celery, queue: str) -> Callable[[FleetScan], None]:
    """A ``publish(scan)`` callable sending scan jobs to the workers' scan queue."""

    def publish(scan: FleetScan) -> None:
        app.send_task(SCAN_TASK, args=[scan.to_json()], queue=queue)

    return publish


@dataclass(frozen=True, slots=True)
class FleetJobRunner:
    """Runs a scan job in this worker process, its fetches under the Redis host limiter (global politeness).
    A broker that goes away mid-scan stops it resumably (:class:`FetchInterrupted`: the scan goes back to
    partial with its checkpoint, and a later tick dispatches it again)."""

    settings: BrokerSettings
    guard: SSRFGuard
    allow_env: EnvAllowlist
    env: Mapping[str, str]

    def __call__(self, job: ScanJob) -> ScanOutcome:
        from linkdoctor.engine.runner import run_sync

        return run_sync(self._run(job))

    async def _run(self, job: ScanJob) -> ScanOutcome:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        from linkdoctor.distributed.limiter import RedisHostLimiter
        from linkdoctor.engine.check import HttpChecker
        from linkdoctor.engine.fetching import LocalPages
        from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
        from linkdoctor.monitor.scan import build_config, run_scan_job_async
        from linkdoctor.tls.context import TLSContextFactory

        config = build_config(job.spec, budget=job.budget, env=self.env, allow_env=self.allow_env)
        redis = Redis.from_url(
            self.settings.broker_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
        )
        tls = TLSContextFactory(config)
        try:
            async with AiohttpTransport(config, guard=self.guard) as transport:
                limiter = RedisHostLimiter(redis, Keys(self.settings.namespace), config)
                pages = BrokerBoundPages(LocalPages(HttpChecker(transport, config, limiter=limiter, tls=tls)))
                return await run_scan_job_async(
                    job, guard=self.guard, env=self.env, pages=pages, allow_env=self.allow_env
                )
        except RedisError as exc:
            raise FetchInterrupted(f"the broker went away during the scan: {exc}") from exc
        finally:
            tls.close()
            await redis.aclose()


class BrokerBoundPages:
    """A page source whose fetches wait on the broker (the Redis host limiter): a Redis error stops the scan
    resumably (:class:`FetchInterrupted`) instead of being recorded as the page's result."""

    def __init__(self, pages: PageSource) -> None:
        self._pages = pages

    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page:
        from redis.exceptions import RedisError

        try:
            return await self._pages.page(url, want_body=want_body, method=method, raw=raw)
        except RedisError as exc:
            raise FetchInterrupted(f"the broker went away during the scan: {exc}") from exc


class FleetWorker:
    """A worker process's side: claim a dispatched scan and run it here. The database engine is opened on
    first use (so each forked pool process opens its own) and kept between jobs."""

    def __init__(self, settings: BrokerSettings, *, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self._env = env
        self._engine: Engine | None = None
        self._redis: redis_sync.Redis | None = None

    def run(self, scan: FleetScan, worker: str) -> str:
        """Claim and run ``scan`` as an owner unique to this run; the scan's state after it (``skipped``
        when another owner holds it: a duplicate job, or a live run elsewhere)."""
        if not self.settings.db_url:
            log.error(
                "scan %d not run: this worker has no --db (fleet scans need serve's database)", scan.scan_id
            )
            return "skipped"
        monitor = self.monitor(scan)
        owner = f"{worker}:{os.getpid()}:{secrets.token_hex(3)}"
        try:
            claimed = scheduler.claim(monitor, scan.scan_id, owner, monitor.now())
        finally:
            self._forget(scan.scan_id)
        if not claimed:
            return "skipped"
        result: Scan = scheduler.execute(monitor, scan.scan_id, owner)
        return result.state.value

    def monitor(self, scan: FleetScan) -> Monitor:
        """The monitor facade with ``scan``'s rules over this process's engine."""
        from linkdoctor.monitor.service import Monitor

        if self._engine is None:
            from linkdoctor.monitor.db import create_engine_for

            assert self.settings.db_url
            self._engine = create_engine_for(self.settings.db_url)
        guard, allow_env = scan.guard, scan.env_allowlist
        env = allow_env.environ(os.environ if self._env is None else self._env)
        return Monitor(
            self._engine,
            guard=guard,
            scan_guard=guard,
            env=env,
            job_runner=FleetJobRunner(self.settings, guard, allow_env, env),
            dashboard_url=scan.dashboard_url,
            cert_folder=scan.cert_folder,
            checkpoint_policy=CheckpointPolicy(turn_seconds=scan.turn_seconds),
        )

    def _forget(self, scan_id: int) -> None:
        """Remove the scan's dispatch marker: from now on its lease says whether it needs dispatching."""
        import redis as redis_sync

        if self._redis is None:
            self._redis = redis_sync.Redis.from_url(
                self.settings.broker_url,
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
        try:
            self._redis.delete(dispatched_key(self.settings.namespace, scan_id))
        except redis_sync.RedisError as exc:  # the marker's TTL ends it anyway
            log.warning("could not clear the dispatch marker of scan %d: %s", scan_id, exc)
