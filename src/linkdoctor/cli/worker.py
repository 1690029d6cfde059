"""``linkdoctor worker``: a Celery worker that runs whole scans of monitored sites (dispatched by ``serve
--broker``, one job per scan) and fetches and parses batches of pages for distributed crawls
(``check --broker``).

Run as many as needed, on as many machines, all with the same ``--broker`` (and ``--db``, the database of
``linkdoctor serve``). Client certificate files and the environment variables named for passwords must
exist on every worker.
"""

from __future__ import annotations

import os
import socket

import click

from linkdoctor.distributed.fleet import DEFAULT_SCAN_QUEUE
from linkdoctor.distributed.settings import DEFAULT_NAMESPACE, DEFAULT_QUEUE, DEFAULT_VISIBILITY_TIMEOUT


@click.command("worker")
@click.option(
    "--broker",
    "broker_url",
    required=True,
    envvar="LINKDOCTOR_BROKER",
    metavar="URL",
    help="Redis broker URL, e.g. redis://redis:6379/0 (or $LINKDOCTOR_BROKER).",
)
@click.option(
    "--db",
    "db_url",
    envvar="LINKDOCTOR_DB",
    metavar="URL",
    help="The shared database (as for serve): fetched pages are stored there so an interrupted scan "
    "resumes without fetching again (or $LINKDOCTOR_DB).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    default=os.cpu_count() or 1,
    show_default="CPU count",
    help="Batches run at once (pool processes).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="Celery pool: prefork (one process per batch slot), solo (one batch at a time, in this process).",
)
@click.option("--name", metavar="NAME", help="Worker name (default: worker<pid>@<host>).")
@click.option("--queue", default=DEFAULT_QUEUE, show_default=True, help="Queue to take batches from.")
@click.option(
    "--scan-queue",
    default=DEFAULT_SCAN_QUEUE,
    show_default=True,
    help="Queue to take whole scans from (serve --broker dispatches each due scan there; needs --db). "
    "An empty value takes none: the worker only fetches batches.",
)
@click.option(
    "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Prefix of linkdoctor's Redis keys."
)
@click.option(
    "--visibility-timeout",
    type=click.FloatRange(1),
    default=DEFAULT_VISIBILITY_TIMEOUT,
    show_default=True,
    help="Seconds before the batch of a worker that vanished is handed to another.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="warning",
    show_default=True,
)
def worker(
    broker_url: str,
    db_url: str | None,
    concurrency: int,
    pool: str,
    name: str | None,
    queue: str,
    scan_queue: str,
    namespace: str,
    visibility_timeout: float,
    log_level: str,
) -> None:
    """Run monitored sites' scans and fetch pages for distributed crawls (wraps a Celery worker)."""
    from linkdoctor.cli.extras import require_distributed

    require_distributed("linkdoctor worker")
    from linkdoctor.distributed.app import create_celery
    from linkdoctor.distributed.health import Heartbeat
    from linkdoctor.distributed.settings import BrokerSettings, sync_redis

    settings = BrokerSettings(
        broker_url=broker_url,
        db_url=db_url,
        queue=queue,
        namespace=namespace,
        visibility_timeout=visibility_timeout,
    )
    if db_url:
        from linkdoctor.distributed.store import FetchStore

        FetchStore.open(db_url).close()  # fail now, not mid-batch, when the database is unreachable
    hostname = name or f"worker{os.getpid()}@{socket.gethostname()}"
    app = create_celery(settings)
    heartbeat = Heartbeat(sync_redis(settings), settings, hostname)
    heartbeat.start()
    try:
        app.worker_main(
            [
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                f"--hostname={hostname}",
                f"--queues={','.join(q for q in (queue, scan_queue) if q)}",
                f"--loglevel={log_level.upper()}",
                "--without-gossip",
                "--without-mingle",
            ]
        )
    finally:
        heartbeat.stop()
