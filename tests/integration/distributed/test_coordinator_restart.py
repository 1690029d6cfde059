"""``kill -9`` of the coordinator (the ``serve`` process running a scan) mid-scan: the scheduler of a new
process takes the scan over under the same id, replays the pages the workers already stored instead of
fetching them again, and finishes with the result set of an in-process scan."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from harness.nginx import NginxServer
from harness.redis import RedisServer
from sqlalchemy import select
from tests.integration.distributed.conftest import LoggedSite, StartWorker, chain_ends
from tests.integration.distributed.test_serve import stored

from linkdoctor.distributed.store import FETCHES, FetchStore
from linkdoctor.engine.soft404 import PROBE_PREFIX
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.service import Monitor

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
LEASE_S = 2.0
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
KILL_AFTER_ROWS = 150
BUSY_TIMEOUT_S = 90.0
DRAIN_TIMEOUT_S = 60.0
RESUME_TIMEOUT_S = 180.0
COORDINATOR = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from linkdoctor.distributed.run import scan_job_runner
    from linkdoctor.distributed.settings import BrokerSettings
    from linkdoctor.monitor.service import Monitor

    broker, db, scan_id, lease, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    runner = scan_job_runner(BrokerSettings(broker, db_url=db), allow_private=("127.0.0.1/32",))
    monitor = Monitor.open(db, lease=timedelta(seconds=lease), job_runner=runner)
    if mode == "run":
        monitor.run_scan(scan_id, owner="first-coordinator")
    else:  # one scheduler tick, as a restarted serve makes it
        print(monitor.run_due_scans(owner="second-coordinator"))
    """
)


def coordinate(broker: str, db: str, scan_id: int, mode: str, log: Path) -> subprocess.Popen[bytes]:
    """A coordinator process: ``run`` runs the scan, ``tick`` makes one scheduler tick and prints its scans."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", COORDINATOR, broker, db, str(scan_id), str(LEASE_S), mode],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def requests(server: NginxServer, start: int = 0) -> Counter[tuple[str, str]]:
    """Requests served from entry ``start`` on, without the soft-404 probes (a random path each run)."""
    return Counter(
        (entry.method, entry.uri)
        for entry in server.access_log_entries()[start:]
        if not entry.uri.startswith(PROBE_PREFIX)
    )


def retried(server: NginxServer) -> set[tuple[str, str]]:
    """Requests whose answer is worth another attempt (a 500): a fetch between two attempts when the
    coordinator died is not done, and the next coordinator makes its attempts again."""
    return {(e.method, e.uri) for e in server.access_log_entries() if e.status in RETRIED_STATUSES}


def stored_paths(store: FetchStore, scan: str) -> set[str]:
    """The paths of the pages the workers stored for ``scan`` so far, each under its own URL."""
    with store.engine.connect() as connection:
        pages = connection.execute(select(FETCHES.c.page).where(FETCHES.c.scan == scan)).scalars().all()
    urls = (urlsplit(json.loads(page)["result"]["url"]) for page in pages)
    return {url.path + (f"?{url.query}" if url.query else "") for url in urls}


def test_a_restarted_coordinator_resumes_the_scan_without_fetching_stored_pages_again(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    pg_url: str,
    start_worker: StartWorker,
    tmp_path: Path,
) -> None:
    site, nginx = logged_site
    start_worker("r1@test")
    start_worker("r2@test")
    local = Monitor.open(pg_url)
    in_process = local.add_site(SiteSpec(name="in-process", url=site.base_url, every=None))
    expected = local.run_scan(local.request_scan(in_process.id).id, owner="local")
    assert expected.state is ScanState.DONE, expected.error
    expected_results = local.results(expected.id, limit=100_000)
    before = len(nginx.access_log_entries())
    in_process_requests = requests(nginx)

    distributed = local.add_site(SiteSpec(name="via-workers", url=site.base_url, every=None))
    scan = local.request_scan(distributed.id)
    store = FetchStore.open(pg_url)
    coordinator = coordinate(redis_server.url, pg_url, scan.id, "run", tmp_path / "first.log")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while store.count(f"site-{scan.id}")[0] < KILL_AFTER_ROWS:
            assert time.monotonic() < deadline, "the workers never stored enough pages"
            assert coordinator.poll() is None, "the coordinator ended before it could be killed"
            time.sleep(0.02)
        os.kill(coordinator.pid, signal.SIGKILL)
    finally:
        coordinator.wait(timeout=30)
    assert coordinator.returncode == -signal.SIGKILL
    assert local.scan(scan.id).state is ScanState.RUNNING

    # The batches the dead coordinator published are still done and stored by the workers.
    client = redis_server.client()
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while client.llen("linkdoctor.batches") or client.hlen("unacked"):
        assert time.monotonic() < deadline, "the workers did not drain the queue"
        time.sleep(0.05)
    time.sleep(LEASE_S + 0.5)  # the killed coordinator's lease runs out
    stored_at_restart = store.count(f"site-{scan.id}")[0]
    restart_at = len(nginx.access_log_entries())
    fetched_before_restart = set(requests(nginx, before))
    stored_at_restart_paths = stored_paths(store, f"site-{scan.id}")

    second = coordinate(redis_server.url, pg_url, scan.id, "tick", tmp_path / "second.log")
    try:
        second.wait(timeout=RESUME_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        second.kill()
        second.wait(timeout=30)
        pytest.fail(
            f"the restarted coordinator did not finish the scan: {(tmp_path / 'second.log').read_text()}"
        )
    try:
        assert (tmp_path / "second.log").read_text().strip().splitlines()[-1] == f"[{scan.id}]"
        resumed = local.scan(scan.id)
        results = local.results(scan.id, limit=100_000)
        scans = local.scans(distributed.id)
        fetched = requests(nginx, before)
        fetched_after_restart = set(requests(nginx, restart_at))
    finally:
        local.close()
        store.close()

    assert resumed.state is ScanState.DONE, resumed.error
    assert resumed.runs == 2
    assert [s.id for s in scans] == [scan.id]  # the same scan, no second one
    assert stored(results) == stored(expected_results)
    assert len(results) == len(expected_results)  # no duplicated result row
    assert KILL_AFTER_ROWS <= stored_at_restart < len(in_process_requests)  # killed well before the end
    assert set(fetched) == set(in_process_requests)  # nothing missed, nothing extra
    # What the workers had fetched and stored before the restart was replayed, not fetched again.
    assert fetched_after_restart  # the restarted coordinator had work left
    excused = retried(nginx) | {("GET", path) for path in chain_ends(site, stored_at_restart_paths)}
    assert fetched_before_restart & fetched_after_restart <= excused
