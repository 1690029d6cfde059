"""``/metrics``: the Prometheus text, here with the alerts that could not be delivered (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from linkdoctor.monitor.model import ScanState, SiteOptions, SiteSpec
from linkdoctor.monitor.service import Monitor


def test_metrics_count_sites_and_undelivered_alerts(client: TestClient) -> None:
    app: Any = client.app
    monitor: Monitor = app.state.runtime.monitor
    spec = SiteSpec(
        name="down",
        url="http://127.0.0.1:9/",
        every=None,
        notify=("json://127.0.0.1:9/hook",),  # nothing listens there: the alert is refused
        options=SiteOptions(headers_env=(("Authorization", "LINKDOCTOR_TEST_UNSET_VARIABLE"),)),
    )
    site = monitor.add_site(spec)
    assert monitor.run_scan(monitor.request_scan(site.id).id, owner="test").state is ScanState.FAILED

    text = client.get("/metrics").text
    assert 'linkdoctor_sites{status="failed"} 1.0' in text
    assert 'linkdoctor_alerts_undelivered{state="retrying"} 1.0' in text
    assert 'linkdoctor_alerts_undelivered{state="given_up"} 0.0' in text
