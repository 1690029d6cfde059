"""``linkdoctor worker``: a Celery worker that runs whole scans of monitored sites (dispatched by ``serve
--broker``, one job per scan) and fetches and parses batches of pages for distributed crawls
(``check --broker``).

Run as many as needed, on as many machines, all with the same ``--broker`` (and ``--db``, the database of
``linkdoctor serve``). Client certificate files must exist on every worker, and the environment variables
a distributed check names for headers and passwords must be set and allowed (``--allow-env``) on every one.
"""

from __future__ import annotations

import os
import socket

import click

from linkdoctor.distributed.fleet import DEFAULT_SCAN_QUEUE, REDIS_TIMEOUT_S
from linkdoctor.distributed.settings import (
    DEFAULT_NAMESPACE,
    DEFAULT_QUEUE,
    DEFAULT_VISIBILITY_TIMEOUT,
    BrokerSettings,
)


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
    help="Batches run at once: pool processes (prefork), or batches sharing this process's event loop and "
    "HTTP session (threads: the pool for sites that are slow to answer).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="Celery pool: prefork (one process per batch slot), threads (--concurrency batches at once on one "
    "event loop in this process), solo (one batch at a time, in this process).",
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
    "--health",
    is_flag=True,
    help="Start no worker: exit 0 when a worker of this host (or --name) beat in the last 30 s, else 1 "
    "(a container's health check).",
)
@click.option(
    "--allow-env",
    multiple=True,
    metavar="NAME",
    envvar="LINKDOCTOR_WORKER_ALLOW_ENV",
    help="Let a distributed check's batches name this environment variable of the worker, for a header "
    "(-H, headers_env) or a password (repeatable; or $LINKDOCTOR_WORKER_ALLOW_ENV, names separated by "
    "spaces). No other variable of the worker is ever read for a batch.",
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
    health: bool,
    allow_env: tuple[str, ...],
    log_level: str,
) -> None:
    """Run monitored sites' scans and fetch pages for distributed crawls (wraps a Celery worker)."""
    from linkdoctor.cli.extras import require_distributed

    require_distributed("linkdoctor worker")
    from redis import Redis

    from linkdoctor.distributed.app import create_celery
    from linkdoctor.distributed.health import Heartbeat

    settings = BrokerSettings(
        broker_url=broker_url,
        db_url=db_url,
        queue=queue,
        namespace=namespace,
        visibility_timeout=visibility_timeout,
        allow_env=frozenset(allow_env),
    )
    if health:
        raise click.exceptions.Exit(0 if worker_alive(settings, name) else 1)
    if db_url:
        from linkdoctor.distributed.store import FetchStore

        FetchStore.open(db_url).close()  # fail now, not mid-batch, when the database is unreachable
    hostname = name or f"worker{os.getpid()}@{socket.gethostname()}"
    app = create_celery(settings)
    beats = Redis.from_url(broker_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
    heartbeat = Heartbeat(beats, settings, hostname, slots=1 if pool == "solo" else concurrency)
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


def worker_alive(settings: BrokerSettings, name: str | None) -> bool:
    """Whether the worker ``name`` (None: any worker of this host) beat within the health window."""
    import time

    from redis import Redis
    from redis.exceptions import RedisError

    from linkdoctor.distributed.health import STALE_AFTER

    suffix = f"@{socket.gethostname()}"
    try:
        with Redis.from_url(settings.broker_url, socket_timeout=3, socket_connect_timeout=3) as redis:
            beats = redis.zrangebyscore(settings.keys.workers, time.time() - STALE_AFTER, "+inf")
    except RedisError:
        return False
    names = [raw.decode() for raw in beats]
    return any(n == name if name else n.endswith(suffix) for n in names)
