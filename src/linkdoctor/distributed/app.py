"""The Celery app factory: one app per process, built from :class:`BrokerSettings`, with its two tasks: the
batch (fetch and parse pages of one crawl) and the scan (run a monitored site's whole scan,
:mod:`linkdoctor.distributed.fleet`).

Nothing is configured at import time. A batch is acknowledged only after it ran (``acks_late``), a worker
that dies mid-batch gets it redelivered (``task_reject_on_worker_lost`` for a lost pool process, the
broker's visibility timeout for a lost machine), and each worker process reserves one batch at a time
(prefetch 1), so a slow batch never holds others hostage. Batches are JSON; their results travel through
the scan's reply list in Redis, not Celery's result backend.

>>> # app = create_celery(BrokerSettings("redis://127.0.0.1:6379/0"))
>>> # app.worker_main(["worker", "--pool=solo"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkdoctor.distributed.fleet import SCAN_TASK, FleetScan, FleetWorker
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.wire import Batch

if TYPE_CHECKING:
    from celery import Celery

    from linkdoctor.distributed.pagestore import ScanPages

BATCH_TASK = "linkdoctor.batch"


class WorkerRuntime:
    """What one worker process keeps between batches: the settings and the page store (the database's
    with ``db_url``, else Redis's; opened on first use, so a forked pool process opens its own)."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self._store: ScanPages | None = None

    @property
    def store(self) -> ScanPages:
        if self._store is None:  # the database's with db_url, else Redis's
            from linkdoctor.distributed.pagestore import open_page_store

            self._store = open_page_store(self.settings)
        return self._store

    def run(self, batch: Batch, worker: str) -> int:
        from linkdoctor.engine.runner import run_sync

        return run_sync(self._run(batch, worker))

    async def _run(self, batch: Batch, worker: str) -> int:
        from linkdoctor.distributed.settings import async_redis
        from linkdoctor.distributed.work import run_batch

        redis = async_redis(self.settings)  # every call times out: a frozen broker is an error in seconds
        try:
            return await run_batch(
                batch,
                redis=redis,
                keys=self.settings.keys,
                store=self.store,
                worker=worker,
                key_ttl=self.settings.key_ttl,
                lease_ttl=self.settings.lease_ttl,
                outage_grace=self.settings.outage_grace,
            )
        finally:
            await redis.aclose()


def create_celery(settings: BrokerSettings) -> Celery:
    """A Celery app for ``settings``: the broker, the queue, late acks, and the batch task."""
    from celery import Celery

    app = Celery("linkdoctor", broker=settings.broker_url, set_as_current=False)
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

    app.task(name=BATCH_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(
        batch
    )
    fleet = FleetWorker(settings)

    def scan(task: Any, data: dict[str, Any]) -> str:
        return fleet.run(FleetScan.from_json(data), str(task.request.hostname or "worker"))

    # A scan job whose worker died is handed out again; its claim then fails (the dead run's lease holds
    # until it runs out) and ``serve`` dispatches the scan anew once it is claimable.
    app.task(name=SCAN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(scan)

    return app


def celery_publisher(app: Celery, settings: BrokerSettings) -> Any:
    """A ``publish(batch)`` callable sending batches to the workers' queue."""

    def publish(batch: Batch) -> None:
        app.send_task(BATCH_TASK, args=[batch.to_json()], queue=settings.queue)

    return publish
