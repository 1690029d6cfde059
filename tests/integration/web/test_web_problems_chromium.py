"""The dashboard's scan, diff and alert views in real headless Chromium, grouped as every report groups
them: against a real ``linkdoctor serve`` process that scans a real nginx site twice (a missing page linked
through 50 fragments from 12 pages and 2 missing anchors on a healthy page; then a second missing page),
and sends its alerts to a real webhook server.

* the scan page lists 3 problems (the anchors of one page together), each with a collapsed list of the
  places it was found on that opens on a click; the code filter narrows it in place;
* the site page's diff says "4 problems, 1 new since the last scan" and lists the new one with its pages,
  the chart draws the problem count on its own axis, and the alerts read as they were sent;
* the webhook received alerts that name the pages each new problem was found on, with lines.

Fails (never skips) when Chromium is missing: ``apt-get install chromium``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from harness.chromium import Page, chromium_page
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import StaticSite, serve_static, write_problem_site
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import WebUser, log_in, serve_process
from tests.integration.web.test_web_dashboard_chromium import fill, wait_for
from tests.support.alert_sinks import WebhookSink, webhook_sink

pytestmark = pytest.mark.timeout(300)


@dataclass
class Scanned:
    base: str
    site: StaticSite
    hook: WebhookSink
    site_id: int
    first: int
    last: int


def scan(admin: WebUser, site_id: int, after: int = 0) -> int:
    """Ask for a scan and wait (bounded) until a scan newer than ``after`` is done; its id."""
    assert admin.api("POST", f"/sites/{site_id}/scans").status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        scans = admin.api("GET", f"/sites/{site_id}/scans").json()
        if scans and scans[0]["id"] > after and scans[0]["state"] in ("done", "failed"):
            assert scans[0]["state"] == "done", scans[0]
            return int(scans[0]["id"])
        time.sleep(0.2)
    raise AssertionError("the scan did not finish within 60 s")


@pytest.fixture(scope="module")
def scanned(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scanned]:
    home = tmp_path_factory.mktemp("serve-home")
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("problem-site"))
    write_problem_site(site)
    db = f"sqlite:///{home / 'linkdoctor.sqlite'}"
    with webhook_sink() as hook, serve_process(db, home, "--tick", "0.3") as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        body = {"name": "docs", "url": site.base_url, "every": None, "notify": [hook.apprise_url]}
        created = admin.api("POST", "/sites", json={**body, "alert_after": 1})
        assert created.status_code == 201, created.text
        site_id = int(created.json()["id"])
        first = scan(admin, site_id)
        write_problem_site(site, extra=("/missing-2.html",))
        last = scan(admin, site_id, after=first)
        deadline = time.monotonic() + 30
        while len(hook.payloads) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        yield Scanned(served.base, site, hook, site_id, first, last)


async def logged_in(page: Page, base: str) -> None:
    await page.open(f"{base}/login")
    await wait_for(
        page, "document.readyState === 'complete' && !!document.getElementById('login-form')", "login"
    )
    await fill(page, {"username": "admin", "password": ADMIN_PASSWORD})
    await page.evaluate("document.getElementById('login-form').submit()")
    await wait_for(page, "location.pathname === '/' && document.readyState === 'complete'", "overview")


GROUPS = """Array.from(document.querySelectorAll('#results li.target-group')).map(g => ({
  target: g.dataset.target, anchors: g.classList.contains('anchors'),
  problems: Array.from(g.querySelectorAll('.problem')).map(p => ({
    url: p.querySelector('.problem-url').textContent, code: p.dataset.code,
    links: +p.dataset.links, pages: +p.dataset.pages,
    open: p.querySelector('details.found-on').open,
    places: p.querySelectorAll('details.found-on ul.referrers li').length,
    visible: Array.from(p.querySelectorAll('details.found-on ul.referrers li'))
      .filter(li => li.checkVisibility()).length}))}))"""


@pytest.mark.slow
async def test_the_scan_page_shows_one_problem_per_target_and_cause_with_collapsible_places(
    chromium: str, scanned: Scanned
) -> None:
    async with chromium_page(chromium) as page:
        await logged_in(page, scanned.base)
        await page.open(f"{scanned.base}/scans/{scanned.first}")
        await wait_for(page, "document.querySelector('#results[data-view=problems]') !== null", "problems")
        headline = await page.evaluate("document.getElementById('headline').textContent")
        assert headline == (
            "3 problems: 1 missing page (linked 50 times from 12 pages), "
            "2 missing anchors (linked 2 times from 1 page)"
        )
        groups: list[dict[str, Any]] = await page.evaluate(GROUPS)
        changelog, anchors = groups
        assert changelog["target"] == scanned.site.url("/changelog.html") and not changelog["anchors"]
        [missing] = changelog["problems"]
        assert (missing["code"], missing["links"], missing["pages"]) == ("http.not-found", 50, 12)
        assert (missing["open"], missing["places"], missing["visible"]) == (False, 50, 0)  # collapsed
        assert anchors["target"] == scanned.site.url("/guide.html") and anchors["anchors"]
        assert sorted(p["url"] for p in anchors["problems"]) == [
            scanned.site.url("/guide.html#gone"),
            scanned.site.url("/guide.html#nope"),
        ]

        # a click on the summary opens the list: each place with its page, line and fragment
        await page.evaluate("document.querySelector('#results details.found-on summary').click()")
        places = await wait_for(
            page,
            "(() => { const d = document.querySelector('#results details.found-on');"
            " const shown = Array.from(d.querySelectorAll('li')).filter(li => li.checkVisibility());"
            " return d.open && shown.length ? shown.map(li => li.textContent.trim()) : null; })()",
            "the opened list of places",
        )
        assert len(places) == 50
        assert f"{scanned.site.url('/p0.html')} line 1 #v0 “/changelog.html#v0”" in places

        # the diagnosis filter narrows the problems in place (HTMX)
        await wait_for(page, "typeof htmx !== 'undefined'", "htmx")
        await page.evaluate(
            "(() => { const s = document.getElementById('code-filter'); s.value = 'http.fragment-missing';"
            " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
        )
        await wait_for(
            page,
            "document.querySelectorAll('#results .problem').length === 2"
            " && location.search.includes('code=http.fragment-missing')",
            "only the missing anchors",
        )
        assert page.problems() == []


@pytest.mark.slow
async def test_the_site_page_shows_the_grouped_diff_the_problem_axis_and_the_alerts(
    chromium: str, scanned: Scanned
) -> None:
    missing_2 = scanned.site.url("/missing-2.html")
    async with chromium_page(chromium) as page:
        await logged_in(page, scanned.base)
        await page.open(f"{scanned.base}/sites/{scanned.site_id}")
        await wait_for(page, "document.getElementById('diff-headline') !== null", "the diff")
        diff = await page.evaluate("document.getElementById('diff-headline').textContent")
        assert diff == "4 problems, 1 new since the last scan"
        new = await page.evaluate(
            "Array.from(document.querySelectorAll('ul.new-problems .problem')).map(p => ({"
            " url: p.querySelector('.problem-url').textContent, pages: +p.dataset.pages,"
            " places: Array.from(p.querySelectorAll('ul.referrers li')).map(li => li.textContent.trim())}))"
        )
        assert [(p["url"], p["pages"]) for p in new] == [(missing_2, 12)]
        assert f"{scanned.site.url('/p0.html')} line 6 “/missing-2.html”" in new[0]["places"]
        still = await page.evaluate(
            "(() => { const d = document.querySelector('ul.still-problems').closest('details');"
            " return {open: d.open, problems: d.querySelectorAll('.problem').length}; })()"
        )
        assert still == {"open": False, "problems": 3}

        chart = await page.evaluate(
            "(() => { const l = document.querySelector('#history-chart polyline.problems');"
            " return {values: l.dataset.values, axis: l.dataset.axis, top: l.dataset.top,"
            " ok: document.querySelector('#history-chart polyline.ok').dataset.values}; })()"
        )
        assert chart == {**chart, "values": "3,4", "axis": "problems", "top": "4"}

        alerts = await page.evaluate(
            "Array.from(document.querySelectorAll('#alerts li.alert')).map(a => ({"
            " title: a.querySelector('.alert-title').textContent, open: a.querySelector('details').open,"
            " state: a.dataset.state, body: a.querySelector('pre.alert-body').textContent}))"
        )
        assert [a["title"] for a in alerts] == [
            "linkdoctor: 4 problems on docs, 1 new since the last scan",
            "linkdoctor: 3 problems on docs, the first scan",
        ]
        assert alerts[0]["open"] and alerts[0]["state"] == "sent"
        assert f"- missing page: {missing_2}" in alerts[0]["body"]
        assert f"  found on {scanned.site.url('/p0.html')} line 6" in alerts[0]["body"]
        assert page.problems() == []


def test_the_webhook_received_alerts_that_name_the_pages_of_each_new_problem(scanned: Scanned) -> None:
    first, second = scanned.hook.payloads
    assert first["title"] == "linkdoctor: 3 problems on docs, the first scan"
    assert (
        f"  found on {scanned.site.url('/p0.html')} line 1 (#v0), line 2 (#v12), line 3 (#v24)"
        in first["message"]
    )
    assert second["title"] == "linkdoctor: 4 problems on docs, 1 new since the last scan"
    assert f"- missing page: {scanned.site.url('/missing-2.html')} (http.not-found" in second["message"]
    assert f"  found on {scanned.site.url('/p1.html')} line 6" in second["message"]
    assert "changelog.html" not in second["message"]  # known since the first scan: not news
