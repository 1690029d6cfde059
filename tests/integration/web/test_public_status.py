"""``serve --public-status`` against a real process, on SQLite and on PostgreSQL: an anonymous visitor sees
each site's name, state and counts, and no secret of the site: not its URL (which may carry a token), not
its notification targets (Slack and Discord tokens, ``?pass=`` values), not its ``headers_env`` names, not
the links its pages hold.
"""

from __future__ import annotations

import http.server
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import Served, WebUser, anonymous, log_in, serve_process
from tests.support.threaded_site import threaded_site

SECRETS = {
    "url": "URLSECRET1",
    "slack": "SLACKSECRET2",
    "pass": "PASSSECRET3",
    "discord": "DISCORDSECRET4",
    "header": "HEADERNAMESECRET5",
    "link": "LINKSECRET6",
}


@pytest.fixture
def site_server(tmp_path: Path) -> Iterator[str]:
    """A tiny site on 127.0.0.1 whose page links to a missing page with a token in its query."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text(
        f'<!doctype html><html><body><a href="/ok.html">ok</a> <a href="/gone.html?api_key={SECRETS["link"]}">x</a>'
        "</body></html>"
    )
    (root / "ok.html").write_text("<!doctype html><html><body>fine</body></html>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with threaded_site(handler) as base:
        yield base.rstrip("/")


@pytest.fixture
def public(db_url: str, tmp_path: Path) -> Iterator[Served]:
    env = {SECRETS["header"]: "the header's value"}  # the scan sends it; its name is the secret here
    options = ("--public-status", "--tick", "0.3", "--allow-env", SECRETS["header"])
    with serve_process(db_url, tmp_path, *options, env=env) as served:
        yield served


def add_scanned_site(admin: WebUser, site: str) -> dict[str, object]:
    body = {
        "name": "docs site",
        "url": f"{site}/?token={SECRETS['url']}",
        "every": None,
        "notify": [
            f"slack://T0AAAAAAA/B0BBBBBBB/{SECRETS['slack']}",
            f"json://hooks.example.invalid/x?pass={SECRETS['pass']}",
            f"discord://1234567/{SECRETS['discord']}",
        ],
        "options": {"headers_env": [{"name": "X-Key", "env": SECRETS["header"]}]},
    }
    created = admin.api("POST", "/sites", json=body)
    assert created.status_code == 201, created.text
    site_id = created.json()["id"]
    assert admin.api("POST", f"/sites/{site_id}/scans").status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        scans = admin.api("GET", f"/sites/{site_id}/scans").json()
        if scans and scans[0]["state"] in ("done", "failed"):
            assert scans[0]["state"] == "done", scans[0]
            return {"site": site_id, "scan": scans[0]["id"], "broken": scans[0]["counts"]["broken"]}
        time.sleep(0.2)
    raise AssertionError("the scan did not finish within 60 s")


def test_the_public_view_shows_names_states_and_counts_and_no_secret(
    public: Served, site_server: str
) -> None:
    admin = log_in(public.base, "admin", ADMIN_PASSWORD)
    made = add_scanned_site(admin, site_server)
    assert made["broken"] == 1
    visitor = anonymous(public.base)

    status = visitor.api("GET", "/status")
    assert status.status_code == 200
    [shown] = status.json()
    assert shown["name"] == "docs site" and shown["status"] == "broken"
    assert shown["counts"]["broken"] == 1 and shown["counts"]["ok"] >= 1
    assert set(shown) == {"id", "name", "status", "broken", "counts", "last_scan_at"}

    overview = visitor.client.get("/")
    assert overview.status_code == 200 and "docs site" in overview.text
    seen = {"/": overview.text, "/api/v1/status": status.text}
    for path in ("/metrics", "/explain", f"/api/v1/sites/{made['site']}/history"):
        answer = visitor.client.get(path)
        seen[path] = answer.text
    for path, text in seen.items():
        for what, secret in SECRETS.items():
            assert secret not in text, f"{what} secret shown to anonymous visitors at {path}"
        assert "hooks.example.invalid" not in text and "X-Key" not in text, path


def test_the_public_view_gives_anonymous_visitors_nothing_beyond_it(public: Served, site_server: str) -> None:
    admin = log_in(public.base, "admin", ADMIN_PASSWORD)
    made = add_scanned_site(admin, site_server)
    visitor = anonymous(public.base)
    for path in (
        "/api/v1/sites",
        f"/api/v1/sites/{made['site']}",
        f"/api/v1/sites/{made['site']}/scans",
        f"/api/v1/scans/{made['scan']}",
        f"/api/v1/scans/{made['scan']}/results",
        f"/api/v1/scans/{made['scan']}/diff",
        f"/api/v1/scans/{made['scan']}/problems",
        f"/api/v1/sites/{made['site']}/alerts",
    ):
        assert visitor.client.get(path).status_code == 401, path
    for path in (
        f"/sites/{made['site']}",
        f"/sites/{made['site']}/scans",
        f"/scans/{made['scan']}",
        "/settings",
    ):
        assert visitor.client.get(path).status_code == 303, path  # to the login form


def test_without_public_status_the_status_view_needs_a_user(db_url: str, tmp_path: Path) -> None:
    with serve_process(db_url, tmp_path) as served:
        visitor = anonymous(served.base)
        assert visitor.api("GET", "/status").status_code == 401
        assert visitor.client.get("/").status_code == 303
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        assert admin.api("GET", "/status").json() == []
