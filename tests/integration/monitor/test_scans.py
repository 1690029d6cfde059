"""Scans end to end on a real nginx site and a real database (SQLite and PostgreSQL): results, the diff
between two scans of a changed site, one alert per scan to a real SMTP server and a real webhook, the
flapping threshold, history and retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import Clock, StaticSite, serve_static
from tests.support.alert_sinks import SmtpSink, WebhookSink, smtp_sink, webhook_sink

from linkdoctor.models import Category
from linkdoctor.monitor import db
from linkdoctor.monitor.model import DiffEntry, ScanState, SiteOptions, SiteSpec, SiteStatus
from linkdoctor.monitor.service import Monitor


@pytest.fixture
def site(nginx_factory: NginxFactory, tmp_path: Path) -> StaticSite:
    served = serve_static(
        nginx_factory, tmp_path / "www", extra="location = /old.html { return 301 /a.html; }"
    )
    served.page("/index.html", ["/a.html", "/b.html", "/missing-1.html"])
    served.page("/a.html", ["/"])
    served.page("/b.html", ["/a.html"])
    return served


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, WebhookSink]]:
    with smtp_sink() as smtp, webhook_sink() as hook:
        yield smtp, hook


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def monitor(db_url: str, clock: Clock) -> Iterator[Monitor]:
    m = Monitor.open(db_url, clock=clock, dashboard_url="http://127.0.0.1:8484/")
    yield m
    m.close()


def urls(entries: tuple[DiffEntry, ...]) -> list[str]:
    return [e.url for e in entries]


def test_a_scan_stores_every_link_with_its_referrers(monitor: Monitor, site: StaticSite) -> None:
    added = monitor.add_site(SiteSpec(name="www", url=site.base_url, every=None))
    scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert scan.state is ScanState.DONE
    assert scan.counts.broken == 1
    broken = monitor.results(scan.id, category="broken")
    assert [r.url for r in broken] == [site.url("/missing-1.html")]
    assert broken[0].status == 404
    assert broken[0].diagnosis is not None and broken[0].diagnosis.code
    assert [ref.url for ref in broken[0].referrers] == [site.base_url]
    assert monitor.results(scan.id, code=broken[0].diagnosis.code) == broken
    overview = monitor.sites()[0]
    assert (overview.status, overview.broken, overview.sparkline) == (SiteStatus.BROKEN, 1, (1,))


def test_two_scans_of_a_changed_site_give_the_diff_and_one_alert_each(
    monitor: Monitor, site: StaticSite, sinks: tuple[SmtpSink, WebhookSink], clock: Clock
) -> None:
    smtp, hook = sinks
    spec = SiteSpec(
        name="www", url=site.base_url, every=None, notify=(smtp.apprise_url, hook.apprise_url), alert_after=1
    )
    added = monitor.add_site(spec)
    first = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert (len(smtp.messages), len(hook.payloads)) == (1, 1)
    assert "missing-1.html" in hook.payloads[0]["message"]

    site.write("/missing-1.html", "<html><body>now here</body></html>")  # fixed
    site.page("/index.html", ["/a.html", "/b.html", "/missing-1.html", "/missing-2.html", "/old.html"])
    clock.advance(timedelta(hours=1))
    second = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")

    diff = monitor.diff(second.id)
    assert diff.previous_scan_id == first.id
    assert urls(diff.new_broken) == [site.url("/missing-2.html")]
    assert urls(diff.fixed) == [site.url("/missing-1.html")]
    assert urls(diff.still_broken) == []
    assert urls(diff.new_redirects) == [site.url("/old.html")]
    assert diff.new_redirects[0].final_url == site.url("/a.html")
    assert (len(smtp.messages), len(hook.payloads)) == (2, 2)
    assert "1 problem on www, 1 new since the last scan" in str(smtp.messages[1]["Subject"])
    body = hook.payloads[1]["message"]
    assert "missing-2.html" in body and "Fixed" in body and f"/scans/{second.id}" in body


def test_the_diff_reads_the_links_it_can_list_not_every_stored_link(
    monitor: Monitor, site: StaticSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans of 300 ok links and 2 broken ones: the diff decodes the stored JSON of the broken links
    (and of the links broken before), never of every ok link; a fixed problem is still read whole."""
    pages = [f"/ok-{n}.html" for n in range(300)]
    site.page("/index.html", [*pages, "/missing-1.html", "/missing-2.html"])
    for page in pages:
        site.write(page, "<html><body>fine</body></html>")
    added = monitor.add_site(SiteSpec(name="www", url=site.base_url, every=None))
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    site.write("/missing-1.html", "<html><body>now here</body></html>")
    second = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")

    decoded: list[object] = []

    class Counting:
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(text: str | bytes) -> object:
            decoded.append(text)
            return orjson.loads(text)

    monkeypatch.setattr(db, "orjson", Counting)
    diff = monitor.diff(second.id)
    assert second.counts.ok >= 300
    assert urls(diff.still_broken) == [site.url("/missing-2.html")]
    assert urls(diff.fixed) == [site.url("/missing-1.html")]
    assert [p.url for p in diff.fixed_problems] == [site.url("/missing-1.html")]
    assert [loc.page for loc in diff.fixed_problems[0].found_on] == [site.base_url]
    assert 0 < len(decoded) < 30


def test_a_link_alerts_only_after_the_threshold_of_broken_scans(
    monitor: Monitor, site: StaticSite, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    _, hook = sinks
    added = monitor.add_site(
        SiteSpec(name="www", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=2)
    )
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert hook.payloads == []  # broken once: could be a blip
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert len(hook.payloads) == 1  # broken twice in a row
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert len(hook.payloads) == 1  # still broken: already told


def test_a_failed_scan_alerts(monitor: Monitor, sinks: tuple[SmtpSink, WebhookSink]) -> None:
    _, hook = sinks
    spec = SiteSpec(
        name="www",
        url="http://127.0.0.1:9/",
        every=None,
        notify=(hook.apprise_url,),
        options=SiteOptions(headers_env=(("Authorization", "LINKDOCTOR_TEST_UNSET_VARIABLE"),)),
    )
    added = monitor.add_site(spec)
    scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert scan.state is ScanState.FAILED
    assert "LINKDOCTOR_TEST_UNSET_VARIABLE" in scan.error
    assert len(hook.payloads) == 1 and "failed" in hook.payloads[0]["title"]
    assert monitor.sites()[0].status is SiteStatus.FAILED


def test_history_keeps_daily_counts_after_retention_drops_old_results(
    db_url: str, site: StaticSite, clock: Clock
) -> None:
    monitor = Monitor.open(db_url, clock=clock, keep_scans=2)
    added = monitor.add_site(SiteSpec(name="www", url=site.base_url, every=None))
    scans = []
    for _day in range(3):
        scans.append(monitor.run_scan(monitor.request_scan(added.id).id, owner="test"))
        clock.advance(timedelta(days=1))
    assert monitor.results(scans[0].id) == []  # pruned
    assert monitor.results(scans[2].id) != []
    assert monitor.scan(scans[0].id).counts.broken == 1  # the scan row keeps its counts
    history = monitor.history(added.id)
    assert [(d.broken, d.scans) for d in history] == [(1, 1), (1, 1), (1, 1)]
    assert history[0].ok == monitor.scan(scans[0].id).counts.ok
    monitor.close()


def test_results_filter_by_category(monitor: Monitor, site: StaticSite) -> None:
    added = monitor.add_site(SiteSpec(name="www", url=site.base_url, every=None))
    scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    ok = monitor.results(scan.id, category=Category.OK.value)
    assert site.url("/a.html") in [r.url for r in ok]
    assert all(r.category is Category.OK for r in ok)
