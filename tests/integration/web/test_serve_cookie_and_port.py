"""``linkdoctor serve`` as an operator starts it: the session cookie is ``Secure`` by itself when the public
address is https, and a busy port fails with one clear line before the URL or the one-time admin password
is printed (a password shown for a server that never ran would be a secret in a log for nothing).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import CSRF_FIELD, anonymous, serve_process


def login_cookie(base: str) -> str:
    """The Set-Cookie header of a successful login."""
    visitor = anonymous(base)
    form = visitor.client.get("/login")
    token = CSRF_FIELD.search(form.text)
    assert token is not None
    # Sent by hand: a client keeps a Secure cookie off plain http, as it should.
    session = form.headers["set-cookie"].split(";")[0]
    answer = visitor.client.post(
        "/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token[1], "next": "/"},
        headers={"Cookie": session},
    )
    assert answer.status_code == 303, answer.text[:300]
    return answer.headers["set-cookie"]


def test_the_session_cookie_is_secure_when_the_base_url_is_https(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ld.sqlite'}"
    with serve_process(db, tmp_path, "--base-url", "https://links.example.org/") as served:
        cookie = login_cookie(served.base)
    assert "linkdoctor_session=" in cookie and "secure" in cookie.lower(), cookie
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_the_session_cookie_is_not_secure_on_plain_http(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ld.sqlite'}"
    with serve_process(db, tmp_path) as served:
        cookie = login_cookie(served.base)
    assert "secure" not in cookie.lower(), cookie


def test_a_busy_port_fails_with_one_line_before_the_url_or_the_admin_password(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "linkdoctor",
                "serve",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{tmp_path}/d.sqlite",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "HOME": str(tmp_path)},
        )
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert result.stdout == ""  # no URL, no generated admin password
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0] and "in use" in lines[0], lines
