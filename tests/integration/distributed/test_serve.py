"""``linkdoctor serve --broker``: the monitor's scans run their fetches on the workers and store the same
results as an in-process scan; the dashboard shows the workers, and ``/metrics`` speaks Prometheus."""

from __future__ import annotations

import ipaddress

import pytest
from fastapi.testclient import TestClient
from harness.redis import RedisServer
from harness.sites import GeneratedSite
from tests.integration.distributed.conftest import StartWorker
from tests.integration.web.conftest import ADMIN_PASSWORD, log_in

from linkdoctor.distributed.run import scan_job_runner
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.monitor.model import ScanState, SiteSpec, StoredResult
from linkdoctor.monitor.service import Monitor
from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(180)]
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


def stored(results: list[StoredResult]) -> set[tuple[object, ...]]:
    return {
        (
            r.url,
            r.category,
            r.status,
            r.precise_status,
            r.diagnosis.code if r.diagnosis else None,
            r.referrers,
        )
        for r in results
    }


def test_scan_through_workers_stores_what_an_in_process_scan_stores(
    generated_site: GeneratedSite, redis_server: RedisServer, pg_url: str, start_worker: StartWorker
) -> None:
    start_worker("s1@test")
    start_worker("s2@test")
    runner = scan_job_runner(BrokerSettings(redis_server.url, db_url=pg_url), allow_private=("127.0.0.1/32",))
    distributed = Monitor.open(pg_url, job_runner=runner)
    local = Monitor.open(pg_url, migrate=False)
    try:
        site_a = distributed.add_site(SiteSpec(name="via-workers", url=generated_site.base_url, every=None))
        site_b = local.add_site(SiteSpec(name="in-process", url=generated_site.base_url, every=None))
        scan_a = distributed.run_scan(distributed.request_scan(site_a.id).id, owner="a")
        scan_b = local.run_scan(local.request_scan(site_b.id).id, owner="b")

        assert scan_a.state is ScanState.DONE, scan_a.error
        assert scan_b.state is ScanState.DONE, scan_b.error
        results_a = distributed.results(scan_a.id, limit=100_000)
        results_b = local.results(scan_b.id, limit=100_000)
    finally:
        distributed.close()
        local.close()
    assert len(results_a) > 100
    assert stored(results_a) == stored(results_b)


def test_dashboard_lists_connected_workers_and_metrics_report_them(
    redis_server: RedisServer, pg_url: str, start_worker: StartWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKDOCTOR_ADMIN_PASSWORD", ADMIN_PASSWORD)
    start_worker("m1@test")
    start_worker("m2@test")
    settings = ServeSettings(
        db_url=pg_url, broker_url=redis_server.url, allow_private=LOOPBACK, tick=0, public_status=True
    )
    with TestClient(create_app(settings, announce=lambda _: None)) as client:
        metrics = client.get("/metrics")  # public, like the status view
        log_in(client)  # the workers panel is for users; anonymous visitors get the public status view
        page = client.get("/")

    assert page.status_code == 200
    assert 'data-worker="m1@test"' in page.text and 'data-worker="m2@test"' in page.text
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "linkdoctor_workers 2.0" in metrics.text
    assert "linkdoctor_queue_depth 0.0" in metrics.text
    assert "linkdoctor_broker_up 1.0" in metrics.text


def test_metrics_need_a_token_when_status_pages_are_private(pg_url: str) -> None:
    settings = ServeSettings(db_url=pg_url, allow_private=LOOPBACK, tick=0)
    with TestClient(create_app(settings, announce=lambda _: None)) as client:
        assert client.get("/metrics").status_code == 401
