"""Fixtures of the web integration tests: the dashboard on a real database (SQLite and PostgreSQL through
``db_url`` of ``tests/conftest.py``), a logged-in browser-like client, and a small nginx site with known
broken links.

* ``site_root`` / ``nginx_site`` — pages ``/`` → ``/ok.html``, ``/missing.html`` (404), ``/gone`` (410),
  ``/moved`` (301 → ``/ok.html``) and ``/internal`` (302 → 127.0.0.2, outside the 127.0.0.1/32 allowlist),
  served by a real nginx on 127.0.0.1.
* ``make_client(db_url, **settings)`` — a started app (lifespan run) in a ``TestClient``; the admin's
  password comes from the environment.
* ``client`` — ``make_client`` on ``db_url`` with 127.0.0.1 allowlisted and a fast scheduler, logged in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.nginx import NginxFactory
from harness.ports import free_port

from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings

ADMIN_PASSWORD = "correct horse battery"
LOOPBACK = (ip_network("127.0.0.1/32"),)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

INDEX = """<!doctype html><html><head><title>Home</title></head><body>
<a href="/ok.html">fine</a> <a href="/missing.html">missing page</a> <a href="/gone">gone</a>
<a href="/moved">moved</a> <a href="/internal">internal</a>
</body></html>
"""


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-site")
    (root / "index.html").write_text(INDEX)
    (root / "ok.html").write_text("<!doctype html><html><body><p>fine</p></body></html>\n")
    return root


@pytest.fixture(scope="session")
def nginx_site(nginx_factory: NginxFactory, site_root: Path) -> str:
    """The base URL (``http://127.0.0.1:PORT/``) of the test site."""
    port = free_port()
    block = (
        "server {\n"
        f"    listen 127.0.0.1:{port};\n"
        f"    root {site_root};\n"
        "    location = /gone { return 410; }\n"
        "    location = /moved { return 301 /ok.html; }\n"
        f"    location = /internal {{ return 302 http://127.0.0.2:{port}/; }}\n"
        "}\n"
    )
    return nginx_factory(block, "web-site").url("/")


def csrf_token(client: TestClient, path: str = "/settings") -> str:
    match = CSRF_FIELD.search(client.get(path).text)
    assert match is not None, f"no CSRF field on {path}"
    return match[1]


def log_in(client: TestClient, password: str = ADMIN_PASSWORD) -> None:
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"username": "admin", "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeClient]:
    monkeypatch.setenv("LINKDOCTOR_ADMIN_PASSWORD", ADMIN_PASSWORD)
    with ExitStack() as stack:

        def make(url: str, **overrides: Any) -> TestClient:
            defaults = {"allow_private": LOOPBACK, "tick": 0.2, "allow_env": ("DOCS_TOKEN",)}
            settings = ServeSettings(db_url=url, **{**defaults, **overrides})
            return stack.enter_context(TestClient(create_app(settings, announce=lambda _: None)))

        yield make


@pytest.fixture
def client(make_client: MakeClient, db_url: str) -> TestClient:
    """A logged-in client of a started app on ``db_url`` (SQLite and PostgreSQL)."""
    web = make_client(db_url)
    log_in(web)
    return web


def wait_for_scan(client: TestClient, site_id: int, *, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the API until the site's latest scan has finished (bounded in time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scans = client.get(f"/api/v1/sites/{site_id}/scans").json()
        if scans and scans[0]["state"] in ("done", "failed", "partial"):
            latest: dict[str, Any] = scans[0]
            return latest
        time.sleep(0.1)
    raise AssertionError(f"no finished scan of site {site_id} within {timeout} s")
