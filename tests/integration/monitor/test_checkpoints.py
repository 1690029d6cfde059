"""A running scan's checkpoints: taken at a bounded interval by count and by time, each a frontier that
resumes without re-checking what it holds, charged once to the budget, and a lost lease stops the run."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import StaticSite, serve_static

from linkdoctor.engine.frontier import Frontier
from linkdoctor.monitor import checkpoints
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.orm import ScanRunRow
from linkdoctor.monitor.scan import (
    Checkpoint,
    CheckpointPolicy,
    CheckpointSink,
    LeaseLost,
    ScanJob,
    run_scan_job,
    save_progress,
)
from linkdoctor.monitor.scheduler import claim
from linkdoctor.monitor.service import Monitor

LEAVES = 600


def keep(into: list[Checkpoint]) -> CheckpointSink:
    """A sink that keeps every checkpoint and lets the run go on."""

    def sink(checkpoint: Checkpoint) -> bool:
        into.append(checkpoint)
        return True

    return sink


@pytest.fixture(scope="module")
def leafy(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> StaticSite:
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("leafy") / "www")
    leaves = [f"/leaf/{n}.txt" for n in range(LEAVES)]
    site.page("/index.html", leaves)
    for leaf in leaves:
        site.write(leaf, "x")
    return site


@pytest.fixture
def monitor(db_url: str) -> Iterator[Monitor]:
    m = Monitor.open(db_url, checkpoint_policy=CheckpointPolicy(every_seconds=600, every_checks=50))
    yield m
    m.close()


def test_checkpoints_come_every_n_checks_and_resume_without_rechecking(leafy: StaticSite) -> None:
    saved: list[Checkpoint] = []
    policy = CheckpointPolicy(every_seconds=600, every_checks=50, poll_seconds=0.001)
    spec = SiteSpec(name="leafy", url=leafy.base_url, budget=10_000)
    outcome = run_scan_job(ScanJob(spec=spec, budget=10_000, checkpoint=keep(saved), policy=policy))
    assert outcome.checks == LEAVES + 1
    assert len(saved) >= 2  # the checks begin in a burst (every fetch slot at once), then by ones
    for before, after in itertools.pairwise(saved):
        assert after.checks - before.checks >= policy.every_checks
    point = saved[-1].frontier
    done = {r.url for r in point.resources if not r.pending}
    assert done and all(r.result is not None for r in point.resources if not r.pending)
    resumed = run_scan_job(ScanJob(spec=spec, budget=10_000, frontier=point))
    assert resumed.checks == LEAVES + 1 - len(done)  # only what the checkpoint had not finished
    assert {r.url for r in resumed.results} == {r.url for r in outcome.results}


def test_a_checkpoint_is_taken_after_the_time_interval_even_below_the_count() -> None:
    class Slow:
        """A crawler that makes one check every 10 ms."""

        checks = 0

        def frontier(self) -> Frontier:
            return Frontier()

    crawler = Slow()
    saved: list[Checkpoint] = []

    async def main() -> None:
        async def crawl() -> None:
            for _ in range(60):
                await asyncio.sleep(0.01)
                crawler.checks += 1

        policy = CheckpointPolicy(every_seconds=0.2, every_checks=1_000, poll_seconds=0.01)
        saver = asyncio.create_task(save_progress(crawler, keep(saved), policy, lambda: None))
        await crawl()
        saver.cancel()

    asyncio.run(main())
    assert 2 <= len(saved) <= 4  # about every 0.2 s of a 0.6 s crawl, though no count was reached
    assert [c.checks for c in saved] == sorted(c.checks for c in saved)


def test_a_lost_lease_stops_the_run(leafy: StaticSite) -> None:
    calls: list[int] = []

    def lost(checkpoint: Checkpoint) -> bool:
        calls.append(checkpoint.checks)
        return False

    policy = CheckpointPolicy(every_seconds=600, every_checks=20, poll_seconds=0.001)
    spec = SiteSpec(name="leafy", url=leafy.base_url, budget=10_000)
    with pytest.raises(LeaseLost):
        run_scan_job(ScanJob(spec=spec, budget=10_000, checkpoint=lost, policy=policy))
    assert len(calls) == 1


def test_checkpoints_and_the_commit_charge_each_check_once(
    monitor: Monitor, leafy: StaticSite, tmp_path: Path
) -> None:
    site = monitor.add_site(SiteSpec(name="leafy", url=leafy.base_url, every=None, budget=10_000))
    scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="a")
    assert scan.state is ScanState.DONE
    assert scan.budget_used == LEAVES + 1
    again = monitor.run_scan(monitor.request_scan(site.id).id, owner="a")
    assert again.budget_used == LEAVES + 1


def test_a_checkpoint_renews_the_lease_and_a_stale_owner_cannot_write_one(monitor: Monitor) -> None:
    site = monitor.add_site(SiteSpec(name="x", url="http://127.0.0.1:9/", every=None))
    scan = monitor.request_scan(site.id)
    assert claim(monitor, scan.id, "holder", monitor.now())
    with monitor.session() as s:
        run = ScanRunRow(scan_id=scan.id, site_id=site.id, owner="holder", started_at=monitor.now(), checks=0)
        s.add(run)
        s.flush()
        run_id = run.id
    point = Checkpoint(7, Frontier())
    assert checkpoints.save(monitor, scan.id, "holder", run_id, point, lease=timedelta(minutes=5))
    assert not checkpoints.save(monitor, scan.id, "intruder", run_id, point, lease=timedelta(minutes=5))
    assert checkpoints.save(
        monitor, scan.id, "holder", run_id, Checkpoint(9, Frontier()), lease=timedelta(minutes=5)
    )
    assert monitor.scan(scan.id).budget_used == 9  # 7, then 2 more: never 7 + 9


def test_checkpoints_of_a_frontier_slow_to_copy_come_further_apart() -> None:
    class Big:
        """A crawler whose frontier takes 50 ms to copy, making a check every 10 ms."""

        checks = 0

        def frontier(self) -> Frontier:
            time.sleep(0.05)
            return Frontier()

    crawler = Big()
    saved: list[Checkpoint] = []

    async def main() -> None:
        policy = CheckpointPolicy(every_seconds=600, every_checks=1, poll_seconds=0.01, max_share=0.1)
        saver = asyncio.create_task(save_progress(crawler, keep(saved), policy, lambda: None))
        for _ in range(120):
            await asyncio.sleep(0.01)
            crawler.checks += 1
        saver.cancel()

    asyncio.run(main())
    # A copy costs 50 ms and may take 10% of the time: one each 0.5 s or more, not one per check.
    assert 1 <= len(saved) <= 4, [c.checks for c in saved]
