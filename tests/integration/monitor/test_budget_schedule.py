"""The daily budget and the scheduler: a 3,000-link site stops at 1,500 checks, marks itself partial and
finishes the rest the next day from its saved frontier; due scans run exactly once across two monitors on
one database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import Clock, StaticSite, serve_static

from linkdoctor.models import Summary
from linkdoctor.monitor.model import ScanState, SiteOptions, SiteSpec
from linkdoctor.monitor.scan import ScanJob, ScanOutcome
from linkdoctor.monitor.service import Monitor

PAGES = 20
LEAVES_PER_PAGE = 149  # 20 pages + 20 × 149 leaves = 3,000 links to check


@pytest.fixture(scope="module")
def big_site(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> StaticSite:
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("big") / "www")
    pages = ["/"] + [f"/p{n}.html" for n in range(1, PAGES)]
    for number, page in enumerate(pages):
        leaves = [f"/leaf/{number}-{k}.txt" for k in range(LEAVES_PER_PAGE)]
        site.page("/index.html" if page == "/" else page, [*pages[1:], *leaves] if page == "/" else leaves)
        for leaf in leaves:
            site.write(leaf, "x")
    return site


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def monitor(db_url: str, clock: Clock) -> Iterator[Monitor]:
    m = Monitor.open(db_url, clock=clock)
    yield m
    m.close()


@pytest.mark.slow
def test_the_budget_stops_a_3000_link_site_at_1500_and_the_next_day_finishes_it(
    monitor: Monitor, big_site: StaticSite, clock: Clock
) -> None:
    site = monitor.add_site(SiteSpec(name="big", url=big_site.base_url, every=timedelta(days=1), budget=1500))

    started = time.perf_counter()
    [scan_id] = monitor.run_due_scans(owner="node-a")
    first_day = time.perf_counter() - started
    scan = monitor.scan(scan_id)
    assert scan.state is ScanState.PARTIAL
    assert scan.budget_used == 1500
    assert 0 < scan.counts.total < 3000

    clock.advance(timedelta(hours=12))
    assert monitor.run_due_scans(owner="node-a") == []  # no budget left within 24 hours

    clock.advance(timedelta(hours=12, seconds=1))
    assert monitor.run_due_scans(owner="node-a") == [scan_id]  # resumes the same scan; no new one
    scan = monitor.scan(scan_id)
    assert scan.state is ScanState.DONE
    assert scan.budget_used == 3000  # nothing checked twice
    assert scan.runs == 2
    assert scan.counts.total == 3000 and scan.counts.ok == 3000
    assert [s.id for s in monitor.scans(site.id)] == [scan_id]
    print(f"\nbudgeted first day: 1500 checks in {first_day:.2f}s")


def test_a_due_site_is_queued_once_and_not_again_until_its_interval_passes(
    monitor: Monitor, clock: Clock
) -> None:
    calls: list[ScanJob] = []

    def record(job: ScanJob) -> ScanOutcome:
        calls.append(job)
        return ScanOutcome((), Summary(), checks=0)

    monitor.job_runner = record
    monitor.add_site(SiteSpec(name="a", url="http://127.0.0.1:9/", every=timedelta(hours=6)))
    assert len(monitor.run_due_scans(owner="n")) == 1
    assert monitor.run_due_scans(owner="n") == []
    clock.advance(timedelta(hours=6))
    assert len(monitor.run_due_scans(owner="n")) == 1
    assert len(calls) == 2


def test_two_monitors_on_one_database_run_each_due_scan_exactly_once(db_url: str, clock: Clock) -> None:
    runs: list[str] = []
    lock = threading.Lock()

    def slow_runner(job: ScanJob) -> ScanOutcome:
        with lock:
            runs.append(job.spec.name)
        time.sleep(0.05)
        return ScanOutcome((), Summary(), checks=0)

    setup = Monitor.open(db_url, clock=clock)
    for n in range(6):
        setup.add_site(SiteSpec(name=f"site-{n}", url=f"http://127.0.0.1:9/{n}", every=timedelta(days=1)))
    setup.close()
    monitors = [Monitor.open(db_url, clock=clock, job_runner=slow_runner) for _ in range(2)]
    ticks: list[list[int]] = [[], []]
    timings: list[float] = []

    def tick(index: int) -> None:
        started = time.perf_counter()
        ticks[index] = monitors[index].run_due_scans(owner=f"node-{index}")
        timings.append(time.perf_counter() - started)

    threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(runs) == [f"site-{n}" for n in range(6)]
    assert sorted(ticks[0] + ticks[1]) == sorted(set(ticks[0] + ticks[1]))
    assert len(ticks[0] + ticks[1]) == 6
    for m in monitors:
        m.close()


def test_an_idle_scheduler_tick_is_fast(monitor: Monitor) -> None:
    for n in range(50):
        monitor.add_site(SiteSpec(name=f"s{n}", url=f"http://127.0.0.1:9/{n}", every=None))
    started = time.perf_counter()
    for _ in range(10):
        assert monitor.run_due_scans(owner="n") == []
    per_tick = (time.perf_counter() - started) / 10
    print(f"\nidle tick over 50 sites: {per_tick * 1000:.1f} ms")
    assert per_tick < 0.5


def test_a_scan_job_config_error_fails_the_scan_not_the_tick(monitor: Monitor, tmp_path: Path) -> None:
    monitor.add_site(
        SiteSpec(
            name="a",
            url="http://127.0.0.1:9/",
            options=SiteOptions(
                cert_path=str(tmp_path / "absent.pem"), key_path=str(tmp_path / "absent.key")
            ),
        )
    )
    [scan_id] = monitor.run_due_scans(owner="n")
    scan = monitor.scan(scan_id)
    assert scan.state is ScanState.FAILED
    assert "absent.pem" in scan.error
