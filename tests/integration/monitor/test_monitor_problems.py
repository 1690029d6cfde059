"""The monitor groups a scan's results as every report does (one problem per target document and cause) on
a real nginx site and a real database (SQLite and PostgreSQL): a missing page linked through 50 fragments
from 12 pages plus 2 missing anchors on a healthy page is 3 problems in the stored scan, its diff and its
alert; the alert received by a real webhook names the pages each new problem was found on, with lines; a
site that did not change has no new problems and sends no alert; a new fragment link into the known
missing page is no new problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from sqlalchemy import select
from tests.integration.monitor.sitekit import (
    PROBLEM_FRAGMENTS,
    PROBLEM_PAGES,
    Clock,
    StaticSite,
    serve_static,
    write_problem_site,
)
from tests.support.alert_sinks import WebhookSink, webhook_sink

from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.orm import LinkStateRow
from linkdoctor.monitor.service import Monitor

PAGES, FRAGMENTS = PROBLEM_PAGES, PROBLEM_FRAGMENTS
build = write_problem_site


@pytest.fixture
def site(nginx_factory: NginxFactory, tmp_path: Path) -> StaticSite:
    served = serve_static(nginx_factory, tmp_path / "www")
    build(served)
    return served


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        yield sink


@pytest.fixture
def monitor(db_url: str) -> Iterator[Monitor]:
    m = Monitor.open(db_url, clock=Clock(), dashboard_url="http://127.0.0.1:8484/")
    yield m
    m.close()


def test_fragment_links_into_a_missing_page_are_one_problem_in_the_scan_the_diff_and_the_alert(
    monitor: Monitor, site: StaticSite, hook: WebhookSink
) -> None:
    spec = SiteSpec(name="www", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=1)
    added = monitor.add_site(spec)
    scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert scan.counts.broken == FRAGMENTS + 2  # links, as before
    assert scan.problems == 3

    grouped = monitor.problems(scan.id)
    assert grouped.counts.problems == 3
    assert grouped.headline == (
        "3 problems: 1 missing page (linked 50 times from 12 pages), 2 missing anchors (linked 2 times from 1 page)"
    )
    page, *anchors = grouped.problems
    assert (page.url, page.links, page.pages, len(page.fragments)) == (
        site.url("/changelog.html"),
        50,
        12,
        50,
    )
    assert sorted(a.url for a in anchors) == [site.url("/guide.html#gone"), site.url("/guide.html#nope")]

    diff = monitor.diff(scan.id)
    assert (diff.problems, len(diff.new_problems), diff.still_problems, diff.fixed_problems) == (3, 3, (), ())

    assert len(hook.payloads) == 1
    title, body = hook.payloads[0]["title"], hook.payloads[0]["message"]
    assert title == "linkdoctor: 3 problems on www, the first scan"
    assert "1051" not in body and f"- missing page: {site.url('/changelog.html')} (http.not-found" in body
    # found on pages, with line numbers (p0.html has #v0, #v12, #v24, #v36, #v48 on lines 1 to 5)
    assert f"  found on {site.url('/p0.html')} line 1 (#v0), line 2 (#v12), line 3 (#v24) and 2 more" in body
    assert f"  found on {site.base_url} line 13" in body  # a missing anchor, linked from the index
    assert "  … and 9 more pages" in body


def test_an_unchanged_site_has_no_new_problem_and_a_new_fragment_link_is_none_either(
    monitor: Monitor, site: StaticSite, hook: WebhookSink
) -> None:
    spec = SiteSpec(name="www", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=1)
    added = monitor.add_site(spec)
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    second = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    diff = monitor.diff(second.id)
    assert (len(diff.new_problems), len(diff.still_problems), diff.fixed_problems) == (0, 3, ())
    assert diff.new_broken == ()
    assert len(hook.payloads) == 1  # the first scan's alert only

    build(site, extra=("/changelog.html#brand-new", "/missing-2.html"))
    third = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    diff = monitor.diff(third.id)
    assert [p.url for p in diff.new_problems] == [site.url("/missing-2.html")]
    assert len(hook.payloads) == 2
    title, body = hook.payloads[1]["title"], hook.payloads[1]["message"]
    assert title == "linkdoctor: 4 problems on www, 1 new since the last scan"
    assert f"- missing page: {site.url('/missing-2.html')}" in body
    assert f"  found on {site.url('/p0.html')} line 7" in body
    assert site.url("/changelog.html") not in body  # known already: not news


def test_a_problem_that_goes_away_is_reported_fixed_once(
    monitor: Monitor, site: StaticSite, hook: WebhookSink
) -> None:
    spec = SiteSpec(name="www", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=1)
    added = monitor.add_site(spec)
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    site.write(
        "/changelog.html",
        "<!doctype html><html><body>"
        + "".join(f'<h2 id="v{i}">{i}</h2>' for i in range(FRAGMENTS))
        + "</body></html>",
    )
    fixed = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert fixed.problems == 2
    assert [p.url for p in monitor.diff(fixed.id).fixed_problems] == [site.url("/changelog.html")]
    title, body = hook.payloads[1]["title"], hook.payloads[1]["message"]
    assert title == "linkdoctor: 1 problem fixed on www, 2 problems left"
    assert f"Fixed (1):\n- missing page: {site.url('/changelog.html')}" in body


def test_problems_whose_links_alerted_before_the_upgrade_do_not_alert_again(
    monitor: Monitor, site: StaticSite, hook: WebhookSink
) -> None:
    spec = SiteSpec(name="www", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=1)
    added = monitor.add_site(spec)
    with monitor.session() as s:  # streaks as earlier versions kept them: one row per link URL
        for url in ("/changelog.html#v7", "/guide.html#nope", "/guide.html#gone"):
            s.add(LinkStateRow(site_id=added.id, url=site.url(url), broken_streak=3, alerted=True))
    monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert hook.payloads == []
    with monitor.session() as s:
        keys = sorted(s.scalars(select(LinkStateRow.url).where(LinkStateRow.site_id == added.id)))
    assert keys == sorted(p.key for p in monitor.problems(monitor.scans(added.id)[0].id).problems)
