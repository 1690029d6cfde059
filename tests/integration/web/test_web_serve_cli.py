"""``linkdoctor serve`` on a fresh machine: no configuration, an empty home directory. It creates its SQLite
database in the user data directory, prints the generated admin password once, and serves a dashboard that
the admin can log in to."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from harness.ports import free_port

pytestmark = pytest.mark.slow  # each test starts `linkdoctor serve` processes
START_TIMEOUT = 30.0
PASSWORD_LINE = re.compile(r"log in as 'admin' with password (\S+) ")


@dataclass
class Served:
    base: str
    home: Path
    output: list[str]


def _read_until(process: subprocess.Popen[str], pattern: str, lines: list[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"serve exited ({process.poll()}) before printing {pattern!r}: {lines}")
        lines.append(line)
        if pattern in line:
            return
    raise AssertionError(f"serve did not print {pattern!r} within {START_TIMEOUT} s: {lines}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
    env |= {"HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output: list[str] = []
    try:
        _read_until(process, "dashboard on", output)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"the dashboard did not answer within {START_TIMEOUT} s")
        yield Served(base, tmp_path, output)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_fresh_serve_keeps_its_sqlite_database_in_the_user_data_dir(served: Served) -> None:
    assert (served.home / ".local" / "share" / "linkdoctor" / "linkdoctor.sqlite").is_file()
    assert any("dashboard on http://127.0.0.1:" in line for line in served.output)


def test_fresh_serve_prints_the_admin_password_once_and_it_logs_in(served: Served) -> None:
    passwords = [m[1] for line in served.output if (m := PASSWORD_LINE.search(line))]
    assert len(passwords) == 1, served.output
    with httpx.Client(base_url=served.base, timeout=10, follow_redirects=True) as browser:
        login = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token is not None
        answer = browser.post(
            "/login",
            data={"username": "admin", "password": passwords[0], "csrf_token": token[1], "next": "/"},
        )
        assert answer.status_code == 200, (answer.url, answer.text[:1000], served.output)
        assert "<h1>Sites</h1>" in answer.text, answer.text[:1000]
        assert "No sites yet" in answer.text
        assert browser.get("/static/htmx.min.js").status_code == 200


def test_serve_refuses_a_bad_allowlist_with_exit_code_3(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "serve", "--allow-private", "localhost", "--db", "sqlite://"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 3
    assert "--allow-private 'localhost' is not an IP network" in result.stderr
