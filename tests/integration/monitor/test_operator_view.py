"""What an operator sees of scans: ``sites list`` says ``scanning`` only for a scan a live process runs
(``partial, waiting for budget`` for a spent one), ``sites scan`` on a spent budget says so and when it
resets, and scan requests at the same moment queue one scan, never two overlapping ones."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from sqlalchemy import update
from tests.integration.monitor.sitekit import StaticSite, serve_static

from linkdoctor.monitor.model import ScanState, SiteSpec, SiteStatus
from linkdoctor.monitor.orm import ScanRow
from linkdoctor.monitor.scheduler import BudgetSpent, ScanBusy, claim
from linkdoctor.monitor.service import Monitor


def sites_cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkdoctor", "sites", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def small(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> StaticSite:
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("small") / "www")
    site.page("/index.html", [f"/{n}.html" for n in range(5)])
    for n in range(5):
        site.page(f"/{n}.html", ["/"])
    return site


def spend_budget(monitor: Monitor, small: StaticSite, name: str) -> int:
    """A site whose 2-check budget ran out mid-scan: its scan is partial. Returns the scan's id."""
    site = monitor.add_site(SiteSpec(name=name, url=small.base_url, every=None, budget=2))
    scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="before")
    assert scan.state is ScanState.PARTIAL and scan.budget_used == 2
    return scan.id


@pytest.mark.slow
def test_sites_list_says_scanning_only_for_a_scan_a_live_process_runs(db_url: str, small: StaticSite) -> None:
    monitor = Monitor.open(db_url)
    spend_budget(monitor, small, "a-waiting")
    queued = monitor.add_site(SiteSpec(name="b-queued", url=small.base_url, every=None))
    monitor.request_scan(queued.id)
    running = monitor.add_site(SiteSpec(name="c-running", url=small.base_url, every=None))
    assert claim(monitor, monitor.request_scan(running.id).id, "alive", monitor.now())
    dead = monitor.add_site(SiteSpec(name="d-dead", url=small.base_url, every=None))
    dead_scan = monitor.request_scan(dead.id).id
    assert claim(monitor, dead_scan, "killed", monitor.now())
    with monitor.session() as s:  # its process died a minute ago: no heartbeat since
        s.execute(
            update(ScanRow)
            .where(ScanRow.id == dead_scan)
            .values(lease_expires_at=monitor.now() - timedelta(minutes=1))
        )
    statuses = {o.site.name: o.status for o in monitor.sites()}
    assert statuses == {
        "a-waiting": SiteStatus.WAITING_FOR_BUDGET,
        "b-queued": SiteStatus.QUEUED,
        "c-running": SiteStatus.SCANNING,
        "d-dead": SiteStatus.INTERRUPTED,
    }
    monitor.close()
    listed = sites_cli(db_url, "list")
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("\t")[0]: line.split("\t")[1] for line in listed.stdout.splitlines()}
    assert lines == {
        "a-waiting": "partial, waiting for budget",
        "b-queued": "queued",
        "c-running": "scanning",
        "d-dead": "interrupted, resumes soon",
    }


@pytest.mark.slow
def test_sites_scan_on_a_spent_budget_says_so_and_when_it_resets(db_url: str, small: StaticSite) -> None:
    monitor = Monitor.open(db_url)
    scan_id = spend_budget(monitor, small, "spent")
    budget = monitor.budget(monitor.site("spent").id)
    assert budget.spent and budget.frees_at is not None
    with pytest.raises(BudgetSpent):
        monitor.scan_now(monitor.site("spent").id, owner="me")
    monitor.close()
    done = sites_cli(db_url, "scan", "spent")
    assert done.returncode == 1, done.stdout
    assert "spent its daily budget (2 of 2 link checks in the last 24 hours)" in done.stderr
    assert f"it resets at {budget.frees_at:%Y-%m-%d %H:%M} UTC" in done.stderr
    assert f"scan #{scan_id} (partial) continues then" in done.stderr
    again = Monitor.open(db_url)
    assert again.scan(scan_id).budget_used == 2  # not overdrawn
    assert [s.id for s in again.scans(again.site("spent").id)] == [scan_id]
    again.close()


def test_a_scan_by_hand_is_refused_while_a_live_process_runs_the_sites_scan(db_url: str) -> None:
    monitor = Monitor.open(db_url)
    site = monitor.add_site(SiteSpec(name="busy", url="http://127.0.0.1:9/", every=None))
    scan = monitor.request_scan(site.id)
    assert claim(monitor, scan.id, "serve@elsewhere", monitor.now())
    with pytest.raises(ScanBusy, match=rf"scan #{scan.id} of busy is already running \(in serve@elsewhere"):
        monitor.scan_now(site.id, owner="cli")
    assert [s.id for s in monitor.scans(site.id)] == [scan.id]
    monitor.close()
    refused = sites_cli(db_url, "scan", "busy")
    assert refused.returncode == 1
    assert "already running" in refused.stderr and "not starting a second one" in refused.stderr
    queued = sites_cli(db_url, "scan", "busy", "--queue")
    assert f"queued scan #{scan.id} (the site's running scan: no second one is started)" in queued.stdout


def test_scan_requests_at_the_same_moment_queue_one_scan(db_url: str) -> None:
    setup = Monitor.open(db_url)
    site = setup.add_site(SiteSpec(name="racy", url="http://127.0.0.1:9/", every=None))
    monitors = [Monitor.open(db_url, migrate=False) for _ in range(6)]
    start = threading.Barrier(len(monitors))
    got: list[int] = []

    def ask(monitor: Monitor) -> None:
        start.wait()
        got.append(monitor.request_scan(site.id).id)

    for _ in range(5):
        threads = [threading.Thread(target=ask, args=(m,)) for m in monitors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(set(got)) == 1, got
        assert len(setup.scans(site.id)) == 1
    for m in monitors:
        m.close()
    setup.close()


def test_the_budget_counts_a_killed_runs_checkpoints(db_url: str, tmp_path: Path) -> None:
    from linkdoctor.engine.frontier import Frontier
    from linkdoctor.monitor import checkpoints
    from linkdoctor.monitor.orm import ScanRunRow
    from linkdoctor.monitor.scan import Checkpoint

    monitor = Monitor.open(db_url)
    site = monitor.add_site(SiteSpec(name="killed", url="http://127.0.0.1:9/", every=None, budget=100))
    scan = monitor.request_scan(site.id)
    assert claim(monitor, scan.id, "victim", monitor.now())
    with monitor.session() as s:
        run = ScanRunRow(scan_id=scan.id, site_id=site.id, owner="victim", started_at=monitor.now(), checks=0)
        s.add(run)
        s.flush()
        run_id = run.id
    assert checkpoints.save(
        monitor, scan.id, "victim", run_id, Checkpoint(40, Frontier()), lease=monitor.lease
    )
    budget = monitor.budget(site.id)  # the victim was killed here, before any commit
    assert (budget.used, budget.left) == (40, 60)
    monitor.close()


@pytest.mark.slow
def test_sites_scan_that_runs_out_of_budget_says_when_it_resets(db_url: str, small: StaticSite) -> None:
    monitor = Monitor.open(db_url)
    site = monitor.add_site(SiteSpec(name="short", url=small.base_url, every=None, budget=2))
    monitor.close()
    done = sites_cli(db_url, "scan", "short")
    assert done.returncode == 0, done.stderr
    assert "partial:" in done.stdout and "; 2 checks" in done.stdout
    again = Monitor.open(db_url)
    budget = again.budget(site.id)
    again.close()
    assert budget.frees_at is not None
    assert (
        "the daily budget ran out (2 of 2 link checks in the last 24 hours); it resets at "
        f"{budget.frees_at:%Y-%m-%d %H:%M} UTC"
    ) in done.stdout
