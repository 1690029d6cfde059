"""``kill -9`` of the coordinator (the ``serve`` process running a scan) mid-scan: the scheduler of a new
process takes the scan over under the same id, replays the pages the workers already stored instead of
fetching them again, and finishes with the result set of an in-process scan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from benchmarks.nginxctl import NginxServer
from tests.integration.distributed.cluster import RedisServer
from tests.integration.distributed.conftest import LoggedSite, StartWorker
from tests.integration.distributed.test_serve import stored

from linkdoctor.distributed.run import scan_job_runner
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.service import Monitor

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
LEASE_S = 2.0
KILL_AFTER_ROWS = 150
BUSY_TIMEOUT_S = 90.0
COORDINATOR = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from linkdoctor.distributed.run import scan_job_runner
    from linkdoctor.distributed.settings import BrokerSettings
    from linkdoctor.monitor.service import Monitor

    broker, db, scan_id, lease = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    runner = scan_job_runner(BrokerSettings(broker, db_url=db), allow_private=("127.0.0.1/32",))
    monitor = Monitor.open(db, lease=timedelta(seconds=lease), job_runner=runner)
    monitor.run_scan(scan_id, owner="first-coordinator")
    """
)


def requests(server: NginxServer, start: int = 0) -> Counter[tuple[str, str]]:
    return Counter((entry.method, entry.uri) for entry in server.access_log_entries()[start:])


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
    log = (tmp_path / "coordinator.log").open("wb")
    coordinator = subprocess.Popen(
        [sys.executable, "-c", COORDINATOR, redis_server.url, pg_url, str(scan.id), str(LEASE_S)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while store.count(f"site-{scan.id}")[0] < KILL_AFTER_ROWS:
            assert time.monotonic() < deadline, "the workers never stored enough pages"
            assert coordinator.poll() is None, "the coordinator ended before it could be killed"
            time.sleep(0.02)
        os.kill(coordinator.pid, signal.SIGKILL)
    finally:
        coordinator.wait(timeout=30)
        log.close()
    assert coordinator.returncode == -signal.SIGKILL
    stored_at_kill = store.count(f"site-{scan.id}")[0]
    assert local.scan(scan.id).state is ScanState.RUNNING

    time.sleep(LEASE_S + 0.5)  # the killed coordinator's lease runs out
    runner = scan_job_runner(BrokerSettings(redis_server.url, db_url=pg_url), allow_private=("127.0.0.1/32",))
    restarted = Monitor.open(pg_url, lease=timedelta(seconds=30), job_runner=runner)
    try:
        assert restarted.run_due_scans(owner="second-coordinator") == [scan.id]
        resumed = restarted.scan(scan.id)
        results = restarted.results(scan.id, limit=100_000)
        scans = restarted.scans(distributed.id)
    finally:
        restarted.close()
        local.close()
        store.close()

    assert resumed.state is ScanState.DONE, resumed.error
    assert resumed.runs == 2
    assert [s.id for s in scans] == [scan.id]  # the same scan, no second one
    assert stored(results) == stored(expected_results)
    assert len(results) == len(expected_results)  # no duplicated result row
    assert stored_at_kill < len(in_process_requests)  # it was killed well before the end
    # Every request of the distributed scan, across both coordinators, was made exactly once: what the
    # workers had stored was replayed, not fetched again.
    assert requests(nginx, before) == in_process_requests
