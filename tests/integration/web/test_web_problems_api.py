"""The API speaks in problems, as the reports and the dashboard do, and keeps its link lists for the
clients that read them: ``/scans/{id}/problems`` (grouped, with headline counts, filter and paging),
``/scans/{id}/diff`` (new, still and fixed problems next to the link lists) and ``/sites/{id}/alerts``
(the alerts as sent), on a real nginx site and a real database. One app and one login for the module
(password hashing is deliberately slow)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import StaticSite, serve_static, write_problem_site
from tests.integration.web.conftest import ADMIN_PASSWORD, log_in
from tests.support.alert_sinks import webhook_sink

from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.service import Monitor
from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings


@dataclass
class Served:
    client: TestClient
    site: StaticSite
    site_id: int
    first: int
    last: int


@pytest.fixture(scope="module")
def served(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("problem-site"))
    write_problem_site(site)
    db = f"sqlite:///{tmp_path_factory.mktemp('db') / 'linkdoctor.sqlite'}"
    monitor = Monitor.open(db)
    settings = ServeSettings(db_url=db, allow_private=(ip_network("127.0.0.1/32"),), tick=0)
    with pytest.MonkeyPatch.context() as env, webhook_sink() as hook:
        env.setenv("LINKDOCTOR_ADMIN_PASSWORD", ADMIN_PASSWORD)
        with TestClient(create_app(settings, service=monitor, announce=lambda _: None)) as client:
            log_in(client)
            spec = SiteSpec(
                name="docs", url=site.base_url, every=None, notify=(hook.apprise_url,), alert_after=1
            )
            added = monitor.add_site(spec)
            first = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
            write_problem_site(site, extra=("/changelog.html#brand-new", "/missing-2.html"))
            last = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
            yield Served(client, site, added.id, first.id, last.id)
    monitor.close()


def test_problems_are_grouped_by_target_and_cause_with_every_place_and_its_fragment(served: Served) -> None:
    body = served.client.get(f"/api/v1/scans/{served.first}/problems").json()
    assert body["counts"]["problems"] == 3 and body["counts"]["links"] == 52 and body["counts"]["pages"] == 13
    assert body["headline"].startswith("3 problems: 1 missing page (linked 50 times from 12 pages)")
    page, *anchors = body["problems"]
    assert page == {
        **page,
        "kind": "document",
        "label": "missing page",
        "url": served.site.url("/changelog.html"),
        "code": "http.not-found",
        "status": 404,
        "links": 50,
        "pages": 12,
    }
    assert page["found_on"][0] == {
        "page": served.site.url("/p0.html"),
        "line": 1,
        "text": "/changelog.html#v0",
        "fragment": "v0",
    }
    assert len(page["found_on"]) == 50 and page["fix"]
    assert [(a["kind"], a["anchor"], a["found_on"][0]["line"]) for a in anchors] == [
        ("anchor", "gone", 14),
        ("anchor", "nope", 13),
    ]


def test_problems_filter_by_code_and_page_while_the_counts_cover_the_scan(served: Served) -> None:
    url = f"/api/v1/scans/{served.first}/problems"
    anchors = served.client.get(url, params={"code": "http.fragment-missing"}).json()
    assert [p["anchor"] for p in anchors["problems"]] == ["gone", "nope"]
    second = served.client.get(url, params={"limit": 1, "offset": 1}).json()
    assert [p["anchor"] for p in second["problems"]] == ["gone"] and second["counts"]["problems"] == 3
    assert served.client.get("/api/v1/scans/999999/problems").status_code == 404


def test_the_diff_adds_problems_and_keeps_its_link_lists(served: Served) -> None:
    diff = served.client.get(f"/api/v1/scans/{served.last}/diff").json()
    assert (diff["previous_scan_id"], diff["problems"]) == (served.first, 4)
    assert [p["url"] for p in diff["new_problems"]] == [served.site.url("/missing-2.html")]
    assert diff["new_problems"][0]["pages"] == 12
    assert len(diff["still_problems"]) == 3 and diff["fixed_problems"] == []
    changelog = next(p for p in diff["still_problems"] if p["code"] == "http.not-found")
    assert changelog["links"] == 62  # 50 fragments, and a new one on each of the 12 pages: no new problem
    # the link lists, as before: every new link URL is there
    new_links = {e["url"] for e in diff["new_broken"]}
    assert new_links == {served.site.url("/missing-2.html"), served.site.url("/changelog.html#brand-new")}
    assert set(diff) >= {"new_broken", "fixed", "still_broken", "new_redirects", "certificates"}


def test_the_alerts_read_as_they_were_sent_newest_first(served: Served) -> None:
    alerts: list[dict[str, Any]] = served.client.get(f"/api/v1/sites/{served.site_id}/alerts").json()
    assert [a["title"] for a in alerts] == [
        "linkdoctor: 4 problems on docs, 1 new since the last scan",
        "linkdoctor: 3 problems on docs, the first scan",
    ]
    assert f"  found on {served.site.url('/p0.html')} line 7" in alerts[0]["body"]
    assert alerts[0]["sent_at"] is not None and "targets" not in alerts[0]
    assert served.client.get("/api/v1/sites/999999/alerts").status_code == 404
