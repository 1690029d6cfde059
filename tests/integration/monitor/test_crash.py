"""``kill -9`` during a scan: nothing committed is lost, and on restart the scan resumes under a new owner
(same scan, never a duplicate); a scan abandoned too often is marked failed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import Clock, StaticSite, serve_static

from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.scheduler import MAX_INTERRUPTIONS, claim
from linkdoctor.monitor.service import Monitor

VICTIM = textwrap.dedent(
    """
    import pathlib, sys, time
    from datetime import timedelta
    from linkdoctor.monitor.service import Monitor

    db_url, scan_id, marker = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])

    def stuck(job):
        marker.write_text("running")
        time.sleep(120)
        raise SystemExit("not killed")

    monitor = Monitor.open(db_url, lease=timedelta(seconds=1), job_runner=stuck)
    monitor.run_scan(scan_id, owner="victim")
    """
)


def wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_9_during_a_scan_loses_nothing_and_the_scan_resumes_once(
    db_url: str, nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    site: StaticSite = serve_static(nginx_factory, tmp_path / "www")
    site.page("/index.html", ["/a.html", "/gone.html"])
    site.page("/a.html", ["/"])
    monitor = Monitor.open(db_url, lease=timedelta(seconds=1))
    added = monitor.add_site(SiteSpec(name="www", url=site.base_url, every=None))
    first = monitor.run_scan(monitor.request_scan(added.id).id, owner="before")
    committed = monitor.results(first.id)
    second = monitor.request_scan(added.id)

    marker = tmp_path / "marker"
    victim = subprocess.Popen(
        [sys.executable, "-c", VICTIM, db_url, str(second.id), str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(marker, timeout=60)
        assert monitor.scan(second.id).state is ScanState.RUNNING
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    time.sleep(1.5)  # the victim's lease runs out
    restarted = Monitor.open(db_url, lease=timedelta(seconds=30))
    assert restarted.run_due_scans(owner="survivor") == [second.id]
    resumed = restarted.scan(second.id)
    assert resumed.state is ScanState.DONE
    assert resumed.runs == 2
    assert [s.id for s in restarted.scans(added.id)] == [second.id, first.id]  # no duplicate scan
    assert restarted.results(first.id) == committed
    assert [r.url for r in restarted.results(second.id)] == [r.url for r in committed]
    assert restarted.run_due_scans(owner="survivor") == []
    restarted.close()
    monitor.close()


def test_a_scan_abandoned_too_often_is_marked_failed(db_url: str) -> None:
    clock = Clock()
    monitor = Monitor.open(db_url, clock=clock, lease=timedelta(minutes=1))
    added = monitor.add_site(SiteSpec(name="www", url="http://127.0.0.1:9/", every=None))
    scan = monitor.request_scan(added.id)
    assert claim(monitor, scan.id, "first", clock())
    for attempt in range(MAX_INTERRUPTIONS):
        clock.advance(timedelta(minutes=2))  # the holder died: its lease ran out
        assert claim(monitor, scan.id, f"crashed-{attempt}", clock())
    clock.advance(timedelta(minutes=2))
    assert monitor.run_due_scans(owner="last") == [scan.id]
    failed = monitor.scan(scan.id)
    assert failed.state is ScanState.FAILED
    assert "interrupted" in failed.error
    monitor.close()


def test_a_live_lease_is_not_taken_over(db_url: str) -> None:
    clock = Clock()
    monitor = Monitor.open(db_url, clock=clock, lease=timedelta(minutes=1))
    added = monitor.add_site(SiteSpec(name="www", url="http://127.0.0.1:9/", every=None))
    scan = monitor.request_scan(added.id)
    assert claim(monitor, scan.id, "holder", clock())
    clock.advance(timedelta(seconds=30))
    assert not claim(monitor, scan.id, "intruder", clock())
    assert monitor.run_due_scans(owner="intruder") == []
    monitor.close()
