"""A real ``linkdoctor serve`` process against hostile users and hostile sites (issue #17, items 1 and 2):

* only the environment variables the operator allows (``--allow-env``, ``LINKDOCTOR_SITE_*``) may be named
  by a site, checked when it is saved (422) and when it is scanned (a site stored earlier sends nothing);
* a site's headers go to the site's own host, never to the other hosts its pages link to (a canary on
  127.0.0.2 receives nothing), and a member cannot move its site, with the headers an admin gave it, to
  another host;
* a catastrophic pattern plus a long link does not freeze the service: ``/healthz`` answers within a second
  while the scan runs, and SIGTERM stops ``serve`` promptly.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.hostile_sites import CANARY_HOST, HostileSite, hostile_site
from tests.integration.web.served import USER_PASSWORD, Served, WebUser, log_in, serve_process

from linkdoctor.monitor.model import SiteOptions, SiteSpec
from linkdoctor.monitor.service import Monitor

SERVER_SECRET = "server-secret-value-4c1b"  # the value of a variable the operator never allowed
SITE_TOKEN = "site-token-value-9e2a"  # the value of an allowed variable (LINKDOCTOR_SITE_ prefix)
CATASTROPHIC = "^(.+)+!$"
FINISHED = ("done", "failed", "partial")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    cluster = request.getfixturevalue("postgres_cluster")
    url: str = cluster.create_database(f"hostile_{uuid.uuid4().hex[:12]}")
    return url


@pytest.fixture
def site() -> Iterator[HostileSite]:
    with hostile_site() as hostile:
        yield hostile


def serve(db_url: str, home: Path, *options: str) -> Any:
    env = {"SERVER_SECRET": SERVER_SECRET, "LINKDOCTOR_SITE_TOKEN": SITE_TOKEN, "DOCS_TOKEN": "docs"}
    options = ("--allow-private", f"{CANARY_HOST}/32", "--allow-env", "DOCS_TOKEN", *options)
    return serve_process(db_url, home, *options, env=env)


def site_body(url: str, variable: str, **options: Any) -> dict[str, Any]:
    return {
        "name": f"site {uuid.uuid4().hex[:8]}",
        "url": url,
        "every": None,
        "options": {"headers_env": [{"name": "X-Token", "env": variable}], **options},
    }


def scan_to_the_end(admin: WebUser, site_id: int, timeout: float = 90) -> dict[str, Any]:
    scan = admin.api("POST", f"/sites/{site_id}/scans")
    assert scan.status_code == 202, scan.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, Any] = admin.api("GET", f"/scans/{scan.json()['id']}").json()
        if state["state"] in FINISHED:
            return state
        time.sleep(0.3)
    raise AssertionError(f"the scan did not finish within {timeout} s")


# --- item 1: server secrets -----------------------------------------------------------------------------
def test_a_site_may_not_name_a_variable_the_operator_did_not_allow(
    db_url: str, tmp_path: Path, site: HostileSite
) -> None:
    with serve(db_url, tmp_path) as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        for variable in ("LINKDOCTOR_ADMIN_PASSWORD", "SERVER_SECRET"):
            refused = admin.api("POST", "/sites", json=site_body(site.base, variable))
            assert refused.status_code == 422, refused.text
            assert variable in refused.json()["detail"] and "--allow-env" in refused.json()["detail"]
        allowed = admin.api("POST", "/sites", json=site_body(site.base, "LINKDOCTOR_SITE_TOKEN"))
        assert allowed.status_code == 201, allowed.text
        replaced = admin.api(
            "PUT", f"/sites/{allowed.json()['id']}", json=site_body(site.base, "LINKDOCTOR_ADMIN_PASSWORD")
        )
        assert replaced.status_code == 422, replaced.text
        assert admin.api("POST", "/sites", json=site_body(site.base, "DOCS_TOKEN")).status_code == 201
        form = {
            "name": "form site",
            "url": site.base,
            "every": "",
            "budget": "100",
            "alert_after": "2",
            "headers_env": "X-Token: SERVER_SECRET",
        }
        page = admin.form("/settings/sites", form)
        assert page.status_code == 422 and "SERVER_SECRET" in page.text
        edit = admin.form(f"/sites/{allowed.json()['id']}/edit", form)
        assert edit.status_code == 422 and "SERVER_SECRET" in edit.text
    assert SERVER_SECRET not in site.site.values() + site.canary_got.values()


def test_a_site_stored_before_the_allowlist_sends_nothing(
    db_url: str, tmp_path: Path, site: HostileSite
) -> None:
    monitor = Monitor.open(db_url)  # the way a site got in before serve had --allow-env
    try:
        options = SiteOptions(headers_env=(("X-Token", "SERVER_SECRET"),))
        stored = monitor.add_site(SiteSpec(name="old", url=site.base + "/", every=None, options=options))
    finally:
        monitor.close()
    with serve(db_url, tmp_path, "--tick", "0.3") as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        scan = scan_to_the_end(admin, stored.id)
    assert scan["state"] == "failed" and "SERVER_SECRET" in scan["error"], scan
    assert SERVER_SECRET not in site.site.values() + site.canary_got.values()


def test_site_headers_go_to_the_site_host_only(db_url: str, tmp_path: Path, site: HostileSite) -> None:
    with serve(db_url, tmp_path, "--tick", "0.3") as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        added = admin.api("POST", "/sites", json=site_body(site.base + "/", "LINKDOCTOR_SITE_TOKEN"))
        assert added.status_code == 201, added.text
        scan = scan_to_the_end(admin, added.json()["id"])
    assert scan["state"] == "done", scan
    assert site.site.headers() and all(h.get("x-token") == SITE_TOKEN for h in site.site.headers())
    assert site.canary_got.headers(), "the scan should have checked the canary link"
    for headers in site.canary_got.headers():
        assert "x-token" not in headers and "authorization" not in headers, headers
    assert SITE_TOKEN not in site.canary_got.values()


def test_a_member_cannot_move_its_site_and_the_admins_header_to_another_host(
    db_url: str, tmp_path: Path, site: HostileSite
) -> None:
    # An admin gives a member's site a secret header; the header goes to the site's host, so moving the
    # site to a host of the member's (here the canary) would have it sent there.
    with serve(db_url, tmp_path, "--tick", "0.3") as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        account = {"username": "member", "password": USER_PASSWORD, "role": "member"}
        assert admin.api("POST", "/users", json=account).status_code == 201
        member = log_in(served.base, "member", USER_PASSWORD)
        added = member.api("POST", "/sites", json={"name": "docs", "url": site.base + "/", "every": None})
        assert added.status_code == 201, added.text
        site_id = added.json()["id"]
        equipped = site_body(site.base + "/", "LINKDOCTOR_SITE_TOKEN") | {"name": "docs"}
        assert admin.api("PUT", f"/sites/{site_id}", json=equipped).status_code == 200
        moved = equipped | {"url": site.canary + "/"}
        refused = member.api("PUT", f"/sites/{site_id}", json=moved)
        assert refused.status_code == 403 and "another scheme, host or port" in refused.text, refused.text
        assert member.session_api("PUT", f"/sites/{site_id}", json=moved).status_code == 403
        form = {"name": "docs", "url": site.canary + "/", "every": "", "budget": "100", "alert_after": "2"}
        assert member.form(f"/sites/{site_id}/edit", form).status_code == 403
        # Another path on the site's own origin is still the member's to choose.
        elsewhere = equipped | {"url": site.base + "/slow/0"}
        assert member.api("PUT", f"/sites/{site_id}", json=elsewhere).status_code == 200
        assert admin.api("GET", f"/sites/{site_id}").json()["url"] == site.base + "/slow/0"
        scan = scan_to_the_end(admin, site_id)
    assert scan["state"] == "done", scan
    assert any(h.get("x-token") == SITE_TOKEN for h in site.site.headers())
    assert SITE_TOKEN not in site.canary_got.values()


# --- item 2: a catastrophic pattern ---------------------------------------------------------------------
def test_healthz_answers_within_a_second_while_a_catastrophic_scan_runs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    with hostile_site(slow_links=64, slow=3.0) as hostile, serve(db, tmp_path, "--tick", "0.3") as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        options = {"exclude": [CATASTROPHIC], "max_pages": 5}
        body = {"name": "hostile", "url": hostile.base + "/", "every": None, "options": options}
        added = admin.api("POST", "/sites", json=body)
        assert added.status_code == 201, added.text
        scan = admin.api("POST", f"/sites/{added.json()['id']}/scans").json()
        running = wait_running(admin, scan["id"], hostile)
        assert running, "the scan never started"
        slowest = max(healthz_seconds(served) for _ in range(10))
        assert slowest < 1.0, f"/healthz took {slowest:.2f} s while the scan ran"
        state = admin.api("GET", f"/scans/{scan['id']}").json()["state"]
        assert state == "running", "the scan should still be running while /healthz is asked"
        stopped_in = sigterm_seconds(served)
    assert stopped_in < 10.0, f"serve took {stopped_in:.1f} s to stop on SIGTERM during a scan"


def wait_running(admin: WebUser, scan_id: int, hostile: HostileSite, timeout: float = 30) -> bool:
    """Until the scan runs and has reached the site's slow pages (so its pattern ran on the long link)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slow_requests = [p for p, _ in hostile.site.requests if p.startswith("/slow/")]
        if slow_requests:
            return True
        time.sleep(0.1)
    state: str = admin.api("GET", f"/scans/{scan_id}").json()["state"]
    return state == "running"


def healthz_seconds(served: Served) -> float:
    started = time.monotonic()
    try:
        answer = httpx.get(f"{served.base}/healthz", timeout=5)
    except httpx.TimeoutException:
        return 5.0
    assert answer.status_code == 200
    return time.monotonic() - started


def sigterm_seconds(served: Served) -> float:
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    try:
        served.process.wait(timeout=20)
    except Exception:
        return 20.0
    return time.monotonic() - started
