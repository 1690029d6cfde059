"""The ``/api/v1`` API on a real database (SQLite and PostgreSQL): site CRUD, scans run by the app's own
scheduler against a local nginx site, results, diffs and history, and the SSRF guard in server mode."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.integration.web.conftest import MakeClient, csrf_token, log_in, wait_for_scan


def write(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token(client)}


def add_site(client: TestClient, url: str, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/sites", json={"name": "docs", "url": url, "every": None, **fields}, headers=write(client)
    )
    assert response.status_code == 201, response.text
    site: dict[str, Any] = response.json()
    return site


def test_site_round_trips_through_the_api(client: TestClient) -> None:
    created = add_site(
        client,
        "http://127.0.0.1:9/",
        every="6h",
        budget=300,
        scope=["^http://127\\.0\\.0\\.1:9/"],
        options={
            "depth": 3,
            "accept": [429],
            "headers_env": [{"name": "Authorization", "env": "DOCS_TOKEN"}],
        },
    )
    fetched = client.get(f"/api/v1/sites/{created['id']}").json()
    # The app's scheduler may start the new site's first scan in between, which moves its next run on.
    assert fetched["next_run_at"] >= created["next_run_at"]
    assert {**fetched, "next_run_at": None} == {**created, "next_run_at": None}
    assert (fetched["every"], fetched["budget"], fetched["options"]["depth"]) == ("6h", 300, 3)
    assert fetched["options"]["headers_env"] == [{"name": "Authorization", "env": "DOCS_TOKEN"}]


def test_site_can_be_replaced_and_removed(client: TestClient) -> None:
    site = add_site(client, "http://127.0.0.1:9/")
    replaced = client.put(
        f"/api/v1/sites/{site['id']}",
        json={"name": "docs", "url": "http://127.0.0.1:9/v2/", "cron": "0 3 * * *", "every": None},
        headers=write(client),
    ).json()
    assert (replaced["url"], replaced["cron"], replaced["every"]) == (
        "http://127.0.0.1:9/v2/",
        "0 3 * * *",
        None,
    )
    assert client.delete(f"/api/v1/sites/{site['id']}", headers=write(client)).status_code == 204
    assert client.get(f"/api/v1/sites/{site['id']}").status_code == 404


def test_duplicate_site_name_is_422(client: TestClient) -> None:
    add_site(client, "http://127.0.0.1:9/")
    response = client.post(
        "/api/v1/sites", json={"name": "docs", "url": "http://127.0.0.1:10/"}, headers=write(client)
    )
    assert response.status_code == 422
    assert "already exists" in response.json()["detail"]


def test_interval_and_cron_together_are_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/sites",
        json={"name": "docs", "url": "http://127.0.0.1:9/", "every": "1d", "cron": "0 3 * * *"},
        headers=write(client),
    )
    assert response.status_code == 422


def test_control_characters_are_refused_before_the_database(client: TestClient) -> None:
    response = client.post(
        "/api/v1/sites", json={"name": "do\x00cs", "url": "http://127.0.0.1:9/"}, headers=write(client)
    )
    assert response.status_code == 422


def test_missing_site_and_scan_are_404(client: TestClient) -> None:
    assert client.get("/api/v1/sites/4242").status_code == 404
    assert client.get("/api/v1/scans/4242").status_code == 404
    assert client.get("/api/v1/scans/4242/results").status_code == 404
    assert client.post("/api/v1/sites/4242/scans", headers=write(client)).status_code == 404


def test_loopback_site_is_refused_without_an_allowlist(
    make_client: MakeClient, db_url: str, nginx_site: str
) -> None:
    web = make_client(db_url, allow_private=())
    log_in(web)
    response = web.post("/api/v1/sites", json={"name": "local", "url": nginx_site}, headers=write(web))
    assert response.status_code == 422
    assert "refused by the SSRF guard: 127.0.0.1 is a loopback address" in response.json()["detail"]


def test_scan_of_the_nginx_site_finds_its_broken_links(client: TestClient, nginx_site: str) -> None:
    site = add_site(client, nginx_site)
    queued = client.post(f"/api/v1/sites/{site['id']}/scans", headers=write(client))
    assert queued.status_code == 202
    scan = wait_for_scan(client, site["id"])
    assert scan["state"] == "done", scan
    broken = client.get(f"/api/v1/scans/{scan['id']}/results", params={"category": "broken"}).json()
    by_path = {r["url"].removeprefix(nginx_site.rstrip("/")): r for r in broken}
    assert set(by_path) == {"/missing.html", "/gone", "/internal"}
    assert (by_path["/missing.html"]["status"], by_path["/missing.html"]["diagnosis"]["code"]) == (
        404,
        "http.not-found",
    )
    assert by_path["/gone"]["status"] == 410
    assert by_path["/missing.html"]["referrers"][0]["url"] == nginx_site


def test_scan_refuses_a_redirect_to_a_loopback_address_outside_the_allowlist(
    client: TestClient, nginx_site: str
) -> None:
    site = add_site(client, nginx_site)
    client.post(f"/api/v1/sites/{site['id']}/scans", headers=write(client))
    scan = wait_for_scan(client, site["id"])
    results = client.get(f"/api/v1/scans/{scan['id']}/results").json()
    internal = next(r for r in results if r["url"].endswith("/internal"))
    assert "SSRF guard" in internal["error_message"], internal


def test_first_scan_diff_lists_every_broken_link_as_new(client: TestClient, nginx_site: str) -> None:
    site = add_site(client, nginx_site)
    client.post(f"/api/v1/sites/{site['id']}/scans", headers=write(client))
    scan = wait_for_scan(client, site["id"])
    diff = client.get(f"/api/v1/scans/{scan['id']}/diff").json()
    assert diff["previous_scan_id"] is None
    assert len(diff["new_broken"]) == 3
    history = client.get(f"/api/v1/sites/{site['id']}/history").json()
    assert history[-1]["broken"] == 3


def test_results_filter_by_diagnosis_code(client: TestClient, nginx_site: str) -> None:
    site = add_site(client, nginx_site)
    client.post(f"/api/v1/sites/{site['id']}/scans", headers=write(client))
    scan = wait_for_scan(client, site["id"])
    found = client.get(f"/api/v1/scans/{scan['id']}/results", params={"code": "http.not-found"}).json()
    assert [r["url"].rsplit("/", 1)[1] for r in found] == ["missing.html"]
