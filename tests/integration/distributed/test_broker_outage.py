"""A broker outage mid-scan stops the scan loudly and resumably: it is put back as partial (never failed,
never finished with links missing), keeps what the workers stored, and a later tick, once Redis is back,
finishes it with the result set of an in-process scan."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from harness.redis import RedisServer
from tests.integration.distributed.conftest import LoggedSite, StartWorker
from tests.integration.distributed.test_serve import stored

from linkdoctor.distributed.run import scan_job_runner
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.distributed.store import FetchStore
from linkdoctor.monitor.model import Scan, ScanState, SiteSpec
from linkdoctor.monitor.service import Monitor

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
STOP_AFTER_ROWS = 150
BUSY_TIMEOUT_S = 90.0
STOPPED_SCAN_TIMEOUT_S = 60.0
WORKERS_BACK_TIMEOUT_S = 60.0
RESUME_TIMEOUT_S = 180.0
WORKERS = ("o1@test", "o2@test")
T = TypeVar("T")


class Bounded(threading.Thread):
    """A call on a daemon thread, so a hung scan fails the test instead of hanging it."""

    def __init__(self, call: Callable[[], T]) -> None:
        super().__init__(daemon=True)
        self._call = call
        self.outcome: list[object] = []

    def run(self) -> None:
        try:
            self.outcome.append(self._call())
        except BaseException as exc:
            self.outcome.append(exc)


def bounded(call: Callable[[], T], timeout: float, what: str) -> T:
    thread = Bounded(call)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"{what} did not end within {timeout} s")
    (outcome,) = thread.outcome
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome  # type: ignore[return-value]


def test_a_broker_outage_leaves_the_scan_partial_and_a_later_tick_finishes_it(
    logged_site: LoggedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    site, _nginx = logged_site
    for name in WORKERS:
        start_worker(name)
    runner = scan_job_runner(BrokerSettings(redis_server.url, db_url=pg_url), allow_private=("127.0.0.1/32",))
    monitor = Monitor.open(pg_url, lease=timedelta(seconds=30), job_runner=runner)
    local = Monitor.open(pg_url, migrate=False)
    store = FetchStore.open(pg_url)
    try:
        in_process = local.add_site(SiteSpec(name="in-process", url=site.base_url, every=None))
        expected = local.run_scan(local.request_scan(in_process.id).id, owner="local")
        expected_results = local.results(expected.id, limit=100_000)
        distributed = monitor.add_site(SiteSpec(name="via-workers", url=site.base_url, every=None))
        scan = monitor.request_scan(distributed.id)

        running = Bounded(lambda: monitor.run_scan(scan.id, owner="coordinator"))
        running.start()
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while store.count(f"site-{scan.id}")[0] < STOP_AFTER_ROWS:
            assert time.monotonic() < deadline, "the workers never stored enough pages"
            assert running.is_alive(), "the scan ended before the broker could be stopped"
            time.sleep(0.02)
        redis_server.stop()
        running.join(STOPPED_SCAN_TIMEOUT_S)
        assert not running.is_alive(), "the scan did not stop when the broker went away"
        (stopped,) = running.outcome
        assert isinstance(stopped, Scan), stopped
        assert stopped.state is ScanState.PARTIAL
        assert "broker" in stopped.error
        assert store.count(f"site-{scan.id}")[0] >= STOP_AFTER_ROWS  # what was stored is kept
        assert monitor.results(scan.id) == []  # nothing half-done was committed

        tick = bounded(lambda: monitor.run_due_scans(owner="tick-while-down"), RESUME_TIMEOUT_S, "a tick")
        assert tick == [scan.id]
        assert monitor.scan(scan.id).state is ScanState.PARTIAL  # still down: still resumable

        redis_server.restart()
        client = redis_server.client()
        deadline = time.monotonic() + WORKERS_BACK_TIMEOUT_S
        while any(client.zscore("linkdoctor:workers", name) is None for name in WORKERS):
            assert time.monotonic() < deadline, "the workers did not reconnect to the restarted broker"
            time.sleep(0.1)

        tick = bounded(
            lambda: monitor.run_due_scans(owner="tick-after"), RESUME_TIMEOUT_S, "the resuming tick"
        )
        assert tick == [scan.id]
        resumed = monitor.scan(scan.id)
        results = monitor.results(scan.id, limit=100_000)
    finally:
        monitor.close()
        local.close()
        store.close()
    assert resumed.state is ScanState.DONE, resumed.error
    assert stored(results) == stored(expected_results)
    assert len(results) == len(expected_results)  # no duplicated result row
