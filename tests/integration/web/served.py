"""A real ``linkdoctor serve`` process for the hostile-user tests, and browser-like clients of it.

* :func:`serve_process` starts ``python -m linkdoctor serve`` on a free 127.0.0.1 port with the admin
  password from the environment, waits for ``/healthz``, and stops it (SIGTERM, then SIGKILL) afterwards.
* :class:`WebUser` is one logged-in user: an httpx client holding the session cookie, the session's CSRF
  token, and an API token of the same user.
* :func:`setup_users` has the admin add a member, a second member and a viewer through the users API.
* :func:`database_url` is the database of a fixture run on SQLite and on PostgreSQL (``request.param``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.ports import free_port
from tests.integration.web.conftest import ADMIN_PASSWORD

# A fixture's params for the same tests on SQLite and on PostgreSQL (with database_url).
DATABASES = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))
START_TIMEOUT = 30.0
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
USER_PASSWORD = "a long enough password"


@dataclass
class Served:
    """A running serve process: its base URL and what it printed (stdout lines, read after it stops)."""

    base: str
    process: subprocess.Popen[str]
    port: int
    db_url: str


@contextmanager
def serve_process(
    db_url: str, home: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[Served]:
    """``linkdoctor serve --db db_url`` with 127.0.0.1 allowlisted and no scheduler unless ``options`` say
    otherwise (later options win)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
    environment |= {"HOME": str(home), "LINKDOCTOR_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONUNBUFFERED": "1"}
    environment |= env or {}
    command = [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port), "--db", db_url]
    command += ["--allow-private", "127.0.0.1/32", "--tick", "0", "--log-level", "warning", *options]
    process = subprocess.Popen(
        command, env=environment, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield Served(base, process, port, db_url)
    finally:
        stop(process)


def database_url(request: pytest.FixtureRequest, home: Path, name: str) -> str:
    """A fresh database for a fixture parametrized with :data:`DATABASES`: a SQLite file in ``home``, or a
    new database named after ``name`` on the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{home / 'linkdoctor.sqlite'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return str(cluster.create_database(f"{name}_{uuid.uuid4().hex[:12]}"))


def wait_healthy(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"linkdoctor serve exited with {process.returncode} before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"linkdoctor serve did not answer within {START_TIMEOUT} s")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class WebUser:
    """One user of the dashboard and the API (or an anonymous visitor: ``name`` is ``anonymous``)."""

    name: str
    client: httpx.Client
    csrf: str = ""
    token: str = ""
    user_id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API call with the API token (anonymous: with nothing)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def session_api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API call riding on the session cookie, with the session's CSRF header."""
        return self.client.request(method, f"/api/v1{path}", headers={"X-CSRF-Token": self.csrf}, **kwargs)

    def form(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """A dashboard form post with the session's CSRF token."""
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})})


def anonymous(base: str) -> WebUser:
    return WebUser("anonymous", httpx.Client(base_url=base, timeout=20, follow_redirects=False))


def log_in(base: str, username: str, password: str) -> WebUser:
    """Log in through the form; the user also gets an API token (created with the session)."""
    client = httpx.Client(base_url=base, timeout=20, follow_redirects=False)
    match = CSRF_FIELD.search(client.get("/login").text)
    assert match is not None, "no CSRF field on the login form"
    answer = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": match[1], "next": "/"}
    )
    assert answer.status_code == 303, (username, answer.status_code, answer.text[:300])
    settings = CSRF_FIELD.search(client.get("/settings").text)
    assert settings is not None
    user = WebUser(username, client, csrf=settings[1])
    created = user.session_api("POST", "/tokens", json={"name": "tests"})
    assert created.status_code == 201, created.text
    user.token = created.json()["token"]
    user.user_id = user.api("GET", "/me").json()["user_id"]
    return user


def add_user_by_cli(served: Served, username: str, *options: str) -> None:
    """``linkdoctor users add`` on the server's database (the operator's way, in every version)."""
    command = [sys.executable, "-m", "linkdoctor", "users", "--db", served.db_url, "add", username]
    result = subprocess.run(
        [*command, "--password-env", "PW", *options],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PW": USER_PASSWORD},
    )
    assert result.returncode == 0, result.stderr


def setup_users(base: str) -> dict[str, WebUser]:
    """The admin, two members (``member``, ``other``) and a ``viewer``, all logged in, plus an anonymous
    visitor."""
    admin = log_in(base, "admin", ADMIN_PASSWORD)
    for name, role in (("member", "member"), ("other", "member"), ("viewer", "viewer")):
        added = admin.api("POST", "/users", json={"username": name, "password": USER_PASSWORD, "role": role})
        assert added.status_code == 201, added.text
    users = {"admin": admin, "anonymous": anonymous(base)}
    users |= {name: log_in(base, name, USER_PASSWORD) for name in ("member", "other", "viewer")}
    return users
