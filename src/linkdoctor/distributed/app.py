"""The Celery app factory: one app per process, built from :class:`BrokerSettings`, with its two tasks: the
batch (fetch and parse pages of one crawl) and the scan (run a monitored site's whole scan,
:mod:`linkdoctor.distributed.fleet`).

Nothing is configured at import time. A batch is acknowledged only after it ran (``acks_late``), a worker
that dies mid-batch gets it redelivered (``task_reject_on_worker_lost`` for a lost pool process, the
broker's visibility timeout for a lost machine), and each pool slot reserves one batch at a time (prefetch
1: a process reserves as many batches as it runs at once), so a slow batch never holds others hostage. A
process keeps one event loop, Redis client and HTTP session across its batches (:class:`WorkerRuntime`).
Batches are JSON; their results travel through
the scan's reply list in Redis, not Celery's result backend.

>>> # app = create_celery(BrokerSettings("redis://127.0.0.1:6379/0"))
>>> # app.worker_main(["worker", "--pool=solo"])
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from linkdoctor.distributed.settings import SCAN_TASK, BrokerSettings
from linkdoctor.distributed.wire import Batch

if TYPE_CHECKING:
    from celery import Celery
    from redis.asyncio import Redis as AsyncRedis

    from linkdoctor.distributed.fleet import FleetWorker
    from linkdoctor.distributed.pagestore import PageStore, ScanPages
    from linkdoctor.distributed.work import FetchKits

BATCH_TASK = "linkdoctor.batch"
# Celery's TLS for a ``rediss://`` broker: the server's certificate verified, as redis-py does for the other
# clients (kombu's own default for ``rediss`` skips it). ``ssl_*`` options in the URL (``ssl_ca_certs``,
# ``ssl_certfile``, ``ssl_keyfile``, ``ssl_cert_reqs``) take this one's place: kombu reads them from the URL,
# and redis-py verifies unless the URL says ``ssl_cert_reqs=none``.
_VERIFIED_TLS: dict[str, str] = {"ssl_cert_reqs": "required"}
# Acknowledged once run; not ``shared``: Celery would add a shared task, with the settings its closure holds,
# to every app built later in the process, where it would run in place of that app's own.
_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "shared": False,
}


class WorkerRuntime:
    """What one worker process keeps between batches: the settings, the page store (the database's with
    ``db_url``, else Redis's; opened on first use, so a forked pool process opens its own), and one event
    loop in a thread of its own with one Redis client and the HTTP sessions (:class:`~linkdoctor.distributed.work.FetchKits`). Every batch of the
    process runs on that loop: with the ``threads`` pool, ``--concurrency`` batches at once share it, its
    connection pools and its DNS cache; with ``solo`` or ``prefork``, each process runs one at a time."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self._store: ScanPages | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # started on first use, in the process using it
        self._pid = 0
        self._redis: AsyncRedis | None = None
        self._kits: FetchKits | None = None

    @property
    def store(self) -> ScanPages:
        with self._lock:
            if self._store is None:  # the database's with db_url, else Redis's
                from linkdoctor.distributed.pagestore import open_page_store

                self._store = open_page_store(self.settings)
            return self._store

    def run(self, batch: Batch, worker: str) -> int:
        """Run ``batch`` on the process's loop and wait for it (from any pool thread)."""
        store = self.store
        return asyncio.run_coroutine_threadsafe(self._run(batch, worker, store), self._event_loop()).result()

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a forked child starts its own
                try:
                    import uvloop

                    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
                except ImportError:  # pragma: no cover - uvloop is a dependency on every platform we test
                    loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="linkdoctor-batches", daemon=True).start()
                self._loop, self._pid, self._redis, self._kits = loop, os.getpid(), None, None
            return self._loop

    def await_broker(self) -> None:
        """Block until the broker answers a ``PING`` (or the worker shuts down): a task is acknowledged
        through it (see :func:`~linkdoctor.distributed.work.await_broker`)."""
        asyncio.run_coroutine_threadsafe(self._await_broker(), self._event_loop()).result()

    async def _await_broker(self) -> None:
        from linkdoctor.distributed.work import await_broker

        await await_broker(self._client(), stopping=_hand_back_now)

    def _client(self) -> AsyncRedis:
        """The loop's Redis client, with the fetch kits on it, made on first use (on the loop's thread, in
        one step: no other batch runs there meanwhile)."""
        from linkdoctor.distributed.settings import async_redis
        from linkdoctor.distributed.work import FetchKits

        if self._redis is None or self._kits is None:
            self._redis = async_redis(self.settings)  # every call times out: a frozen broker errs in seconds
            allowed = self.settings.allow_env  # and no other variable of this worker: see BrokerSettings
            self._kits = FetchKits(
                self._redis, self.settings.keys, {n: v for n, v in os.environ.items() if n in allowed}
            )
        return self._redis

    async def _run(self, batch: Batch, worker: str, store: PageStore | None) -> int:
        from linkdoctor.distributed.work import run_batch

        redis = self._client()
        return await run_batch(
            batch,
            redis=redis,
            keys=self.settings.keys,
            store=store,
            worker=worker,
            key_ttl=self.settings.key_ttl,
            lease_ttl=self.settings.lease_ttl,
            outage_grace=self.settings.outage_grace,
            kits=self._kits,
            stopping=_hand_back_now,
        )


def _hand_back_now() -> bool:
    """Whether a task that lost the broker should give its message back to Celery without waiting for the
    broker (:func:`~linkdoctor.distributed.work.await_broker`): when Celery's worker is shutting down (its
    flags hold an exit code, 0 included, or True), and in a prefork pool's child, which Celery never tells
    of a shutdown and whose message its parent hands back over a connection of its own."""
    from billiard.process import current_process
    from celery.worker import state

    if current_process().name != "MainProcess":
        return True
    return any(flag is not None and flag is not False for flag in (state.should_stop, state.should_terminate))


def create_celery(settings: BrokerSettings) -> Celery:
    """A Celery app for ``settings``: the broker, the queue, late acks, and the batch task."""
    from celery import Celery

    app = Celery("linkdoctor", broker=settings.broker_url, set_as_current=False)
    scheme = urlsplit(settings.broker_url).scheme
    if scheme in ("redis", "rediss"):  # a failed ack frees its worker's slot
        app.conf.broker_transport = "linkdoctor.distributed.transport:Transport"
    if scheme == "rediss":
        app.conf.broker_use_ssl = _VERIFIED_TLS
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_transport_options=settings.transport_options,
        broker_connection_retry_on_startup=True,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )
    runtime = WorkerRuntime(settings)

    def batch(task: Any, data: dict[str, Any]) -> int:
        from celery.exceptions import Reject

        from linkdoctor.distributed.work import BatchDeferred

        try:
            return runtime.run(Batch.from_json(data), str(task.request.hostname or "worker"))
        except BatchDeferred as exc:  # the broker or database stayed away: back to the queue, never acked
            raise Reject(str(exc), requeue=True) from exc

    app.task(name=BATCH_TASK, **_TASK_OPTIONS)(batch)
    fleets: list[FleetWorker] = []

    def scan(task: Any, data: dict[str, Any]) -> str:
        # The monitor (SQLAlchemy, Alembic, the scheduler) loads with a worker's first scan job, not in every
        # process that builds the app: a ``check --broker`` coordinator only publishes batches.
        from linkdoctor.distributed.fleet import FleetScan, FleetWorker

        if not fleets:
            fleets.append(FleetWorker(settings))
        try:
            return fleets[0].run(FleetScan.from_json(data), str(task.request.hostname or "worker"))
        finally:  # a scan that lost the broker is acknowledged once it is back, as a deferred batch
            runtime.await_broker()

    # A scan job whose worker died is handed out again; its claim then fails (the dead run's lease holds
    # until it runs out) and ``serve`` dispatches the scan anew once it is claimable.
    app.task(name=SCAN_TASK, **_TASK_OPTIONS)(scan)

    return app


def celery_publisher(app: Celery, settings: BrokerSettings) -> Any:
    """A ``publish(batch)`` callable sending batches to the workers' queue."""

    def publish(batch: Batch) -> None:
        app.send_task(BATCH_TASK, args=[batch.to_json()], queue=settings.queue)

    return publish
