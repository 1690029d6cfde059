"""Fleet benchmark: many small monitored sites due at once, scanned one after another by ``serve`` without a
broker, against the same scans dispatched by ``serve --broker`` to 1 and to N ``linkdoctor worker``
processes (solo pool), on a real Redis and a real PostgreSQL. Each site is on a loopback address of its own
and its server answers every request after ``--delay`` seconds (:mod:`harness.slowsites`), so a scan waits
on the network as a real site's does and the measurement means something on a 2-core machine.

    python -m benchmarks.fleet --sites 20 --workers 4 --pages 8 --delay 0.5

``--storage`` instead measures what the paper model of docs/scaling.md needs: Redis memory per URL of the
structures a shared crawl state uses, and PostgreSQL bytes per stored result.

It prints a Markdown table (wall time from the first dispatch to the last scan done, scans per minute, the
ratio to one after another) and the peak overlap of the scans' runs as recorded in ``scan_runs``. The
target (issue: fleet parallelism) is N=4 workers finishing in at most 1/3 of the one-after-another time.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``harness`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis as redis_sync
from harness.postgres import PostgresCluster
from harness.redis import RedisServer
from harness.slowsites import SlowSites
from harness.workers import Worker
from sqlalchemy import select, text

from linkdoctor.distributed.app import create_celery
from linkdoctor.distributed.fleet import FleetScan, open_dispatcher
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.http.ssrf import SSRFGuard, parse_networks
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.orm import ScanRunRow
from linkdoctor.monitor.service import Monitor

LOOPBACK = "127.0.0.0/8"
DONE_WITHIN_S = 600.0


@dataclass(frozen=True)
class Row:
    mode: str
    seconds: float
    scans: int
    broken: int
    overlap: int


def _sites(monitor: Monitor, urls: Sequence[str], tag: str) -> list[int]:
    return [monitor.add_site(SiteSpec(name=f"{tag}-{i}", url=u, every=None)).id for i, u in enumerate(urls)]


def _wait(monitor: Monitor, scan_ids: list[int]) -> None:
    """Until every scan is done; a ``RuntimeError`` naming the first failure, or after the deadline."""
    deadline = time.monotonic() + DONE_WITHIN_S
    while time.monotonic() < deadline:
        scans = [monitor.scan(i) for i in scan_ids]
        failed = [s for s in scans if s.state is ScanState.FAILED]
        if failed:
            raise RuntimeError(f"{len(failed)} scan(s) failed, the first with: {failed[0].error}")
        if all(s.state is ScanState.DONE for s in scans):
            return
        time.sleep(0.05)
    raise RuntimeError(f"scans not done within {DONE_WITHIN_S} s")


def _overlap(monitor: Monitor, scan_ids: list[int]) -> int:
    """The most runs of these scans that were running at one moment."""
    with monitor.session() as s:
        rows = s.execute(
            select(ScanRunRow.started_at, ScanRunRow.finished_at).where(ScanRunRow.scan_id.in_(scan_ids))
        ).all()
    events: list[tuple[datetime, int]] = []
    for started, finished in rows:
        events += [(started, 1), (finished or started, -1)]
    peak = running = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak


def _broken(monitor: Monitor, scan_ids: list[int]) -> int:
    return sum(monitor.scan(i).counts.broken for i in scan_ids)


def one_after_another(db_url: str, urls: Sequence[str]) -> Row:
    """``serve`` without a broker: its scheduler tick runs the due scans here, one after another."""
    monitor = Monitor.open(db_url, scan_guard=SSRFGuard(parse_networks((LOOPBACK,))))
    try:
        ids = [monitor.request_scan(site).id for site in _sites(monitor, urls, "seq")]
        started = time.monotonic()
        monitor.run_due_scans(owner="bench-serve")
        seconds = time.monotonic() - started
        _wait(monitor, ids)
        return Row(
            "one after another (serve, no broker)",
            seconds,
            len(ids),
            _broken(monitor, ids),
            _overlap(monitor, ids),
        )
    finally:
        monitor.close()


def fleet(db_url: str, redis_url: str, urls: Sequence[str], workers: int, directory: Path, tag: str) -> Row:
    """``serve --broker``: the dispatcher's tick every 0.2 s, ``workers`` worker processes."""
    started_workers = [
        Worker.start(redis_url, db_url, name=f"{tag}{i}@bench", directory=directory) for i in range(workers)
    ]
    monitor = Monitor.open(db_url)
    settings = BrokerSettings(redis_url, db_url=db_url)
    dispatcher = open_dispatcher(settings, FleetScan(0, allow_private=(LOOPBACK,)), create_celery(settings))
    try:
        for w in started_workers:
            w.wait_ready(dispatcher.redis)
        ids = [monitor.request_scan(site).id for site in _sites(monitor, urls, tag)]
        started = time.monotonic()
        deadline = started + DONE_WITHIN_S
        while time.monotonic() < deadline:
            dispatcher.tick(monitor)
            if all(monitor.scan(i).state in (ScanState.DONE, ScanState.FAILED) for i in ids):
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
        _wait(monitor, ids)
        mode = f"fleet, {workers} worker{'s' if workers > 1 else ''} (serve --broker)"
        return Row(mode, seconds, len(ids), _broken(monitor, ids), _overlap(monitor, ids))
    finally:
        dispatcher.close()
        monitor.close()
        for w in started_workers:
            w.stop()


def redis_bytes_per_url(client: redis_sync.Redis, count: int = 100_000) -> dict[str, float]:
    """Redis memory per URL of the structures a shared crawl state would use, for ``count`` URLs of
    ~70 characters: a set of 32-character hashes (the seen set), a hash URL → small JSON state (per-URL
    state), a list of URLs (a frontier queue) and a sorted set of URLs (a leased frontier)."""
    urls = [
        f"https://docs.example.org/section-{i % 97}/topic/page-{i:07d}.html?lang=en" for i in range(count)
    ]
    shapes: dict[str, Callable[[Any, int, str], None]] = {
        "seen set (32-char hash)": lambda p, i, u: p.sadd(
            "b:seen", hashlib.sha256(u.encode()).hexdigest()[:32]
        ),
        "per-URL state (hash field, ~40 B JSON)": lambda p, i, u: p.hset(
            "b:state", u, '{"c":"ok","s":200,"r":3,"d":null}'
        ),
        "frontier (list of URLs)": lambda p, i, u: p.rpush("b:frontier", u),
        "leased frontier (sorted set of URLs)": lambda p, i, u: p.zadd("b:leased", {u: i}),
    }
    found = {}
    for name, add in shapes.items():
        client.flushdb()
        before = int(client.info("memory")["used_memory"])
        pipe = client.pipeline(transaction=False)
        for i, url in enumerate(urls):
            add(pipe, i, url)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()
        found[name] = (int(client.info("memory")["used_memory"]) - before) / count
    client.flushdb()
    return found


def postgres_bytes_per_result(db_url: str, pages: int = 2000) -> tuple[float, float, int]:
    """Bytes per stored result (table, TOAST and indexes) after scanning one ``pages``-page site in
    process, the average URL length, and the rows."""
    with SlowSites.start(count=1, pages=pages, delay=0.0) as site:
        monitor = Monitor.open(db_url, scan_guard=SSRFGuard(parse_networks((LOOPBACK,))))
        try:
            site_id = monitor.add_site(
                SiteSpec(name="storage", url=site.urls[0], every=None, budget=100_000)
            ).id
            monitor.run_scan(monitor.request_scan(site_id).id, owner="bench")
            with monitor.session() as s:
                size, rows, length = s.execute(
                    text(
                        "select pg_total_relation_size('results'), count(*), avg(octet_length(url)) "
                        "from results"
                    )
                ).one()
        finally:
            monitor.close()
    return int(size) / int(rows), float(length), int(rows)


def storage(cluster: PostgresCluster, redis: RedisServer) -> None:
    print("| Redis structure | bytes per URL |\n|---|---:|")
    for name, size in redis_bytes_per_url(redis.client()).items():
        print(f"| {name} | {size:.0f} |")
    per_row, url_length, rows = postgres_bytes_per_result(cluster.create_database("storage"))
    print(
        f"\nPostgreSQL results: {per_row:.0f} bytes per row (heap, TOAST, indexes) over {rows} rows, "
        f"URLs of {url_length:.0f} bytes on average"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pages", type=int, default=8, help="pages per site (each links to a missing page)")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds before the server answers")
    parser.add_argument(
        "--storage", action="store_true", help="measure bytes per URL in Redis and PostgreSQL"
    )
    args = parser.parse_args(argv)
    if args.storage:
        with (
            tempfile.TemporaryDirectory(prefix="ld-fleet-") as tmp,
            PostgresCluster.start() as cluster,
            RedisServer.start(Path(tmp) / "redis") as redis,
        ):
            storage(cluster, redis)
        return
    with (
        tempfile.TemporaryDirectory(prefix="ld-fleet-") as tmp,
        PostgresCluster.start() as cluster,
        RedisServer.start(Path(tmp) / "redis") as redis,
        SlowSites.start(count=args.sites, pages=args.pages, delay=args.delay) as sites,
    ):
        rows = [
            one_after_another(cluster.create_database("seq"), sites.urls),
            fleet(cluster.create_database("fleet1"), redis.url, sites.urls, 1, Path(tmp) / "w1", "one"),
            fleet(
                cluster.create_database("fleetn"), redis.url, sites.urls, args.workers, Path(tmp) / "wn", "n"
            ),
        ]
    base = rows[0].seconds
    print(f"{args.sites} sites x {args.pages + 1} pages, every answer after {args.delay} s\n")
    print("| mode | wall s | scans/min | vs one after another | peak scans at once | broken links |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.mode} | {r.seconds:.1f} | {60 * r.scans / r.seconds:.0f} | {r.seconds / base:.2f} "
            f"| {r.overlap} | {r.broken} |"
        )


if __name__ == "__main__":
    main()
