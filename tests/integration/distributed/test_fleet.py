"""``serve --broker`` as a fleet: each due scan is a Celery job of its own, N real ``linkdoctor worker``
processes run N site scans at once (their runs overlap in the database's ``scan_runs``), the database lease
keeps every scan to one run even when its job is delivered twice, and a killed worker's scan is dispatched
again and finished by another worker. Real Redis, real PostgreSQL, real worker processes; the sites answer
after a delay on loopback addresses of their own (:mod:`harness.slowsites`)."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from fastapi.testclient import TestClient
from harness.redis import RedisServer
from harness.slowsites import SlowSites
from sqlalchemy import select
from tests.integration.distributed.conftest import StartWorker

from linkdoctor.cli.worker import worker_alive
from linkdoctor.distributed.app import create_celery
from linkdoctor.distributed.fleet import (
    DEFAULT_SCAN_QUEUE,
    FleetDispatcher,
    FleetJobRunner,
    FleetScan,
    dispatched_key,
    scan_publisher,
)
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.monitor.model import DEFAULT_TURN_SECONDS, Scan, ScanState, SiteSpec
from linkdoctor.monitor.orm import ScanRunRow
from linkdoctor.monitor.scheduler import dispatch_due_scans
from linkdoctor.monitor.service import Monitor
from linkdoctor.options import DEFAULT_MAX_PER_HOST
from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
FLEET = 3  # workers, and sites scanned at once
DONE_WITHIN_S = 120.0


@pytest.fixture
def serve_fleet(
    pg_url: str, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Monitor]]:
    """``serve --broker`` (the app with its scheduler ticking every 0.2 s) on the test's Redis and database."""
    monkeypatch.setenv("LINKDOCTOR_ADMIN_PASSWORD", "fleet-admin-password")
    settings = ServeSettings(db_url=pg_url, broker_url=redis_server.url, allow_private=LOOPBACK, tick=0.2)
    with TestClient(create_app(settings, announce=lambda _: None)) as client:
        runtime: Any = client.app.state.runtime  # type: ignore[attr-defined]
        yield client, runtime.monitor


def wait_done(monitor: Monitor, scan_ids: list[int], within: float = DONE_WITHIN_S) -> list[Scan]:
    deadline = time.monotonic() + within
    while True:
        scans = [monitor.scan(i) for i in scan_ids]
        if all(s.state in (ScanState.DONE, ScanState.FAILED) for s in scans):
            return scans
        if time.monotonic() > deadline:
            raise AssertionError(f"scans not done within {within} s: {[(s.id, s.state) for s in scans]}")
        time.sleep(0.2)


def runs_of(monitor: Monitor, scan_ids: list[int]) -> list[tuple[int, str, datetime, datetime | None]]:
    with monitor.session() as s:
        rows = s.execute(
            select(ScanRunRow.scan_id, ScanRunRow.owner, ScanRunRow.started_at, ScanRunRow.finished_at)
            .where(ScanRunRow.scan_id.in_(scan_ids))
            .order_by(ScanRunRow.id)
        ).all()
    return [(scan_id, owner, started, finished) for scan_id, owner, started, finished in rows]


def test_n_workers_run_n_dispatched_scans_at_once(
    serve_fleet: tuple[TestClient, Monitor], start_worker: StartWorker
) -> None:
    _, monitor = serve_fleet
    names = [f"fleet{i}@test" for i in range(FLEET)]
    for name in names:
        start_worker(name)
    with SlowSites.start(count=FLEET, pages=8, delay=1.0) as sites:
        site_ids = [
            monitor.add_site(SiteSpec(name=f"fleet-{i}", url=url, every=None)).id
            for i, url in enumerate(sites.urls)
        ]
        scan_ids = [monitor.request_scan(site_id).id for site_id in site_ids]
        scans = wait_done(monitor, scan_ids)

    assert [s.state for s in scans] == [ScanState.DONE] * FLEET, [s.error for s in scans]
    for scan in scans:
        assert scan.counts.total == sites.urls_per_site
        assert scan.counts.broken == sites.pages  # one missing page linked from each page
    runs = runs_of(monitor, scan_ids)
    assert sorted(r[0] for r in runs) == sorted(scan_ids)  # each scan ran once
    # every run on a worker (its name starts the run's owner), each scan on a different worker …
    assert sorted(owner.partition(":")[0] for _, owner, _, _ in runs) == sorted(names)
    # … and all of them at once: the last to start started before the first to finish finished
    started = max(r[2] for r in runs)
    finished = [r[3] for r in runs]
    assert all(f is not None for f in finished)
    assert started < min(f for f in finished if f is not None)


def test_a_scan_job_delivered_twice_runs_once(
    redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    start_worker("twice1@test")
    start_worker("twice2@test")
    settings = BrokerSettings(redis_server.url, db_url=pg_url)
    monitor = Monitor.open(pg_url, migrate=False)
    app = create_celery(settings)
    try:
        with SlowSites.start(count=1, pages=4, delay=0.5) as sites:
            site = monitor.add_site(SiteSpec(name="twice", url=sites.urls[0], every=None))
            scan_id = monitor.request_scan(site.id).id
            publish = scan_publisher(app, DEFAULT_SCAN_QUEUE)
            job = FleetScan(scan_id, allow_private=("127.0.0.0/8",))
            publish(job)
            publish(job)
            (scan,) = wait_done(monitor, [scan_id])
            deadline = time.monotonic() + 30
            client = redis_server.client()
            while client.llen(DEFAULT_SCAN_QUEUE) and time.monotonic() < deadline:
                time.sleep(0.1)  # the duplicate is taken (and ends at its failed claim)
            time.sleep(1.0)
        assert scan.state is ScanState.DONE, scan.error
        assert scan.runs == 1
        assert len(runs_of(monitor, [scan_id])) == 1
    finally:
        app.close()
        monitor.close()


def test_a_dispatched_scan_is_not_sent_again_until_a_worker_took_it(redis_server: RedisServer) -> None:
    client: redis_sync.Redis = redis_server.client()
    sent: list[FleetScan] = []
    rules = FleetScan(0, allow_private=("10.0.0.0/8",), dashboard_url="https://links.example")
    dispatch = FleetDispatcher(client, sent.append, rules, "ns")

    assert dispatch(41) is True
    assert dispatch(41) is False  # still on its way
    assert dispatch(42) is True
    assert [s.scan_id for s in sent] == [41, 42]
    assert sent[0] == FleetScan(41, allow_private=("10.0.0.0/8",), dashboard_url="https://links.example")
    assert 0 < client.ttl(dispatched_key("ns", 41)) <= dispatch.ttl

    client.delete(dispatched_key("ns", 41))  # what the worker that claims it does
    assert dispatch(41) is True


def test_a_scan_that_could_not_be_sent_is_sent_on_the_next_tick(redis_server: RedisServer) -> None:
    client: redis_sync.Redis = redis_server.client()

    def broken(_: FleetScan) -> None:
        raise ConnectionError("broker refused")

    with pytest.raises(ConnectionError):
        FleetDispatcher(client, broken, FleetScan(0), "ns")(7)
    assert client.exists(dispatched_key("ns", 7)) == 0
    sent: list[FleetScan] = []
    assert FleetDispatcher(client, sent.append, FleetScan(0), "ns")(7) is True


def test_a_scan_job_survives_the_broker_round_trip() -> None:
    job = FleetScan(9, ("127.0.0.0/8",), ("DOCS_TOKEN",), "/srv/certs", "https://links.example")
    assert FleetScan.from_json(job.to_json()) == job
    with pytest.raises(ValueError, match="scan_id"):
        FleetScan.from_json({"scan_id": "9"})
    with pytest.raises(ValueError, match="list of strings"):
        FleetScan.from_json({"scan_id": 9, "allow_private": "10.0.0.0/8"})
    # serve's --scan-turn travels with the job: a worker's run of the scan gives way as serve's would.
    assert FleetScan.from_json(FleetScan(9, turn_seconds=30.0).to_json()).turn_seconds == 30.0
    assert FleetScan.from_json(FleetScan(9, turn_seconds=None).to_json()).turn_seconds is None
    assert FleetScan.from_json({"scan_id": 9}).turn_seconds == DEFAULT_TURN_SECONDS  # an older serve's job
    for bad in (-1, 0, float("nan"), "60", True):
        with pytest.raises(ValueError, match="turn"):
            FleetScan.from_json({"scan_id": 9, "turn_seconds": bad})


def test_a_killed_workers_scan_is_dispatched_again_and_finished_by_another(
    serve_fleet: tuple[TestClient, Monitor], start_worker: StartWorker
) -> None:
    _, monitor = serve_fleet
    doomed = start_worker("doomed@test")
    with SlowSites.start(count=1, pages=30, delay=1.5) as sites:
        site = monitor.add_site(SiteSpec(name="orphan", url=sites.urls[0], every=None))
        scan_id = monitor.request_scan(site.id).id
        deadline = time.monotonic() + 60
        while not sites.requests or monitor.scan(scan_id).state is not ScanState.RUNNING:
            assert time.monotonic() < deadline, "the scan did not start on the worker"
            time.sleep(0.1)
        doomed.kill()
        start_worker("heir@test")
        (scan,) = wait_done(monitor, [scan_id])

    assert scan.state is ScanState.DONE, scan.error
    assert scan.counts.total == sites.urls_per_site
    owners = [owner.partition(":")[0] for _, owner, _, _ in runs_of(monitor, [scan_id])]
    assert owners == ["doomed@test", "heir@test"]


def test_worker_health_says_whether_a_worker_of_this_host_beats(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    client: redis_sync.Redis = redis_server.client()
    assert not worker_alive(settings, None)
    client.zadd(settings.keys.workers, {f"w1@{socket.gethostname()}": time.time()})
    client.zadd(settings.keys.workers, {"old@elsewhere": time.time() - 3600})
    assert worker_alive(settings, None)
    assert worker_alive(settings, f"w1@{socket.gethostname()}")
    assert not worker_alive(settings, "old@elsewhere")  # silent for an hour
    assert not worker_alive(BrokerSettings("redis://127.0.0.1:9/0"), None)  # no broker: unhealthy


def test_a_fleet_scan_that_loses_the_broker_goes_back_to_partial_not_to_wrong_results(pg_url: str) -> None:
    """The host limiter lives in Redis: when it cannot be reached, the scan stops resumably (partial, with
    the reason) instead of recording every page as an internal error."""
    gone = BrokerSettings("redis://127.0.0.1:9/0", db_url=pg_url)  # nothing listens on port 9
    job = FleetScan(0, allow_private=("127.0.0.0/8",))
    runner = FleetJobRunner(gone, job.guard, job.env_allowlist, {})
    monitor = Monitor.open(pg_url, job_runner=runner, scan_guard=job.guard)
    try:
        with SlowSites.start(count=1, pages=2, delay=0.05) as sites:
            site = monitor.add_site(SiteSpec(name="no-broker", url=sites.urls[0], every=None))
            scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="test")
        assert scan.state is ScanState.PARTIAL
        assert "broker went away" in scan.error
        assert monitor.results(scan.id) == []
    finally:
        monitor.close()


def test_the_fleet_tick_queues_due_sites_and_hands_out_their_scans_without_running_them(
    tmp_path: Path,
) -> None:
    monitor = Monitor.open(f"sqlite:///{tmp_path / 'fleet.sqlite'}")
    try:
        due = monitor.add_site(SiteSpec(name="due", url="https://due.example/", every=timedelta(hours=1)))
        later = monitor.add_site(SiteSpec(name="by-hand", url="https://hand.example/", every=None))
        handed: list[int] = []
        on_its_way = {monitor.request_scan(later.id).id}  # already dispatched: the dispatcher says False

        def dispatch(scan_id: int) -> bool:
            if scan_id in on_its_way:
                return False
            handed.append(scan_id)
            return True

        sent = dispatch_due_scans(monitor, dispatch, now=monitor.now() + timedelta(minutes=1))
        (queued,) = monitor.scans(due.id)
    finally:
        monitor.close()
    assert sent == handed == [queued.id]
    assert queued.state is ScanState.QUEUED  # handed out, not run here


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_politeness_to_a_host_is_shared_by_the_workers_scanning_it_at_once(
    serve_fleet: tuple[TestClient, Monitor], start_worker: StartWorker
) -> None:
    """Two sites on one host, scanned at once by two workers, each scan wanting 40 pages in flight: the
    server never sees more than the one per-host cap (32 by default), not 32 per worker."""
    _, monitor = serve_fleet
    start_worker("polite1@test")
    start_worker("polite2@test")
    with SlowSites.start(count=1, pages=40, delay=1.0) as sites:
        base = sites.urls[0]
        ids = [
            monitor.add_site(SiteSpec(name=f"same-host-{i}", url=url, every=None)).id
            for i, url in enumerate((base, base + "index.html"))
        ]
        scans = wait_done(monitor, [monitor.request_scan(i).id for i in ids])
        pages = [(start, end) for _, path, start, end in sites.requests if path.startswith("/p")]
        runs = runs_of(monitor, [s.id for s in scans])

    assert [s.state for s in scans] == [ScanState.DONE] * 2
    assert len({owner.partition(":")[0] for _, owner, _, _ in runs}) == 2  # on two workers …
    assert max(r[2] for r in runs) < min(r[3] for r in runs if r[3] is not None)  # … at once
    assert 16 < most_at_once(pages) <= DEFAULT_MAX_PER_HOST
