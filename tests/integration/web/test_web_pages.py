"""The dashboard's server-rendered pages on a real database (SQLite and PostgreSQL): the scan table and its
filters, explain, the settings form with its errors, and the security headers every page carries."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.integration.web.conftest import csrf_token, wait_for_scan


def scanned_site(client: TestClient, url: str) -> tuple[int, int]:
    token = csrf_token(client)
    added = client.post(
        "/settings/sites",
        data={
            "csrf_token": token,
            "name": "nginx",
            "url": url,
            "every": "",  # on request only: exactly the one scan asked for
            "budget": "1500",
            "alert_after": "2",
        },
        follow_redirects=False,
    )
    site_id = int(added.headers["location"].rsplit("/", 1)[1])
    client.post(f"/sites/{site_id}/scan", data={"csrf_token": token})
    return site_id, wait_for_scan(client, site_id)["id"]


def test_scan_page_shows_broken_links_with_diagnosis_fix_and_referrers(
    client: TestClient, nginx_site: str
) -> None:
    _, scan_id = scanned_site(client, nginx_site)
    page = client.get(f"/scans/{scan_id}", params={"view": "links"}).text
    assert re.findall(r'<tr data-category="(\w+)"', page) == ["broken"] * 3
    assert 'href="/explain/http.not-found"' in page
    assert "redirect the old URL with 301" in page  # a fix step of http.not-found
    assert f"<code>{nginx_site}</code>" in page  # the referrer
    assert '<details class="found-on" open><summary>1 place</summary>' in page


def test_scan_page_shows_problems_by_default_with_their_fix_and_where_they_were_found(
    client: TestClient, nginx_site: str
) -> None:
    _, scan_id = scanned_site(client, nginx_site)
    page = client.get(f"/scans/{scan_id}").text
    assert 'data-problems="3">3 problems: ' in page
    codes = sorted(re.findall(r'<div class="problem" [^>]*data-code="([^"]+)"', page))
    assert codes == ["http.gone", "http.not-found", "net.refused"]
    assert "redirect the old URL with 301" in page
    assert f"found on 1 page, linked 1 time: <code>{nginx_site}</code> line 2" in page


def test_scan_page_filters_by_category_and_code(client: TestClient, nginx_site: str) -> None:
    _, scan_id = scanned_site(client, nginx_site)
    redirected = client.get(f"/scans/{scan_id}", params={"view": "links", "category": "redirected"}).text
    assert re.findall(r'<tr data-category="(\w+)"', redirected) == ["redirected"]
    by_code = client.get(
        f"/scans/{scan_id}", params={"view": "links", "category": "", "code": "http.not-found"}
    ).text
    assert re.findall(r'data-code="([^"]*)"', by_code) == ["http.not-found"]


def test_site_page_shows_the_history_chart_and_the_diff(client: TestClient, nginx_site: str) -> None:
    site_id, _ = scanned_site(client, nginx_site)
    page = client.get(f"/sites/{site_id}").text
    assert 'id="history-chart"' in page
    assert re.search(r'<polyline class="broken" points="[^"]+" data-values="3">', page)
    assert "New problems (3)" in page
    assert 'data-problems="3" data-new="3">3 problems, all new</span>' in page
    assert re.search(r'<polyline class="problems" points="[^"]+" data-values="3" data-axis="problems"', page)


def test_overview_lists_the_site_with_its_broken_count(client: TestClient, nginx_site: str) -> None:
    scanned_site(client, nginx_site)
    page = client.get("/").text
    assert 'data-status="broken"' in page
    assert re.search(r'class="num broken-count">3<', page)
    assert re.search(r'class="num problem-count">3<', page)
    assert 'class="sparkline"' in page


def test_settings_form_shows_what_is_wrong_and_keeps_the_input(client: TestClient) -> None:
    response = client.post(
        "/settings/sites",
        data={
            "csrf_token": csrf_token(client),
            "name": "docs",
            "url": "http://127.0.0.1:9/",
            "every": "1d",
            "cron": "0 3 * * *",
        },
    )
    assert response.status_code == 422
    assert "give an interval or a cron expression, not both" in response.text
    assert 'value="0 3 * * *"' in response.text


def test_edit_form_saves_the_site(client: TestClient) -> None:
    token = csrf_token(client)
    added = client.post(
        "/settings/sites",
        data={
            "csrf_token": token,
            "name": "docs",
            "url": "http://127.0.0.1:9/",
            "every": "1d",
            "budget": "1500",
        },
        follow_redirects=False,
    )
    site_id = int(added.headers["location"].rsplit("/", 1)[1])
    edit = client.get(f"/sites/{site_id}/edit").text
    assert 'value="docs"' in edit
    saved = client.post(
        f"/sites/{site_id}/edit",
        data={
            "csrf_token": token,
            "name": "docs",
            "url": "http://127.0.0.1:9/v2/",
            "every": "6h",
            "budget": "200",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    site = client.get(f"/api/v1/sites/{site_id}").json()
    assert (site["url"], site["every"], site["budget"]) == ("http://127.0.0.1:9/v2/", "6h", 200)


def test_explain_pages_cover_statuses_and_diagnosis_codes(client: TestClient) -> None:
    assert "496" in client.get("/explain").text
    assert "SSL Certificate Required" in client.get("/explain/496").text
    assert "How to fix it" in client.get("/explain/tls.client-cert-required").text
    assert client.get("/explain/no-such-code").status_code == 404


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_missing_pages_are_404(client: TestClient) -> None:
    assert client.get("/sites/999").status_code == 404
    assert client.get("/scans/999").status_code == 404
