"""Alert targets pass the SSRF guard, against a real ``serve`` process on SQLite and PostgreSQL.

The server allowlists 127.0.0.3 only. Canary listeners on 127.0.0.2, on ``[::1]`` and on 127.0.0.1 (reached
by the name ``localhost``, so through a DNS answer) count every connection they get. A target on one of
them is refused when it is added (a clear 422); a site stored without that check (by the operator's tools,
or before the check existed) still sends no byte to a canary when its alert is delivered, while the
allowlisted webhook and SMTP server get the alert.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness.ports import free_port
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import Served, WebUser, log_in, stop, wait_healthy
from tests.support.alert_sinks import SmtpSink, WebhookSink, smtp_sink, webhook_sink

from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.service import Monitor

ALLOWED = "127.0.0.3"
DELIVERY_TIMEOUT = 60.0


@dataclass
class Canary:
    """A TCP listener that accepts and counts connections, whatever protocol they would speak."""

    host: str
    port: int
    connections: list[str] = field(default_factory=list)


@contextmanager
def canary(host: str) -> Iterator[Canary]:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(16)
    listener.settimeout(0.2)
    bird = Canary(host, int(listener.getsockname()[1]))
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connection, peer = listener.accept()
            except TimeoutError:
                continue
            bird.connections.append(str(peer))
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield bird
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


@dataclass
class Targets:
    hook: WebhookSink
    smtp: SmtpSink
    canaries: list[Canary]

    @property
    def forbidden(self) -> list[str]:
        """One target of each kind on a canary: webhooks (json, form, xml), SMTP, a name, IPv6."""
        v4, v6, named = self.canaries
        mail = "?from=linkdoctor@example.org&to=ops@example.org&mode=insecure"
        return [
            f"json://127.0.0.2:{v4.port}/hook",
            f"form://127.0.0.2:{v4.port}/hook",
            f"xml://[::1]:{v6.port}/hook",
            f"mailto://127.0.0.2:{v4.port}{mail}",
            f"mailto://{ALLOWED}:{v4.port}{mail}&smtp=127.0.0.2",
            f"json://localhost:{named.port}/hook",
        ]


@pytest.fixture
def targets() -> Iterator[Targets]:
    with ExitStack() as stack:
        hook = stack.enter_context(webhook_sink(ALLOWED))
        smtp = stack.enter_context(smtp_sink(ALLOWED))
        canaries = [stack.enter_context(canary(host)) for host in ("127.0.0.2", "::1", "127.0.0.1")]
        yield Targets(hook, smtp, canaries)


@contextmanager
def serve_allowing_only(db_url: str, home: Path) -> Iterator[Served]:
    """``linkdoctor serve`` with 127.0.0.3 as its only allowlisted network and a fast scheduler."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
    env |= {"HOME": str(home), "LINKDOCTOR_ADMIN_PASSWORD": ADMIN_PASSWORD}
    command = [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port), "--db", db_url]
    command += ["--allow-private", f"{ALLOWED}/32", "--tick", "0.5", "--log-level", "warning"]
    process = subprocess.Popen(
        command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield Served(base, process, port, db_url)
    finally:
        stop(process)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    cluster = request.getfixturevalue("postgres_cluster")
    return str(cluster.create_database(f"alerts_{uuid.uuid4().hex[:12]}"))


def site(name: str, notify: list[str]) -> dict[str, object]:
    # Nothing listens on the site's port: its one link is broken, and the first scan alerts.
    return {"name": name, "url": f"http://{ALLOWED}:9/", "every": None, "alert_after": 1, "notify": notify}


@pytest.mark.slow
def test_an_alert_target_on_a_forbidden_address_is_refused_when_added(
    database: str, tmp_path: Path, targets: Targets
) -> None:
    with serve_allowing_only(database, tmp_path) as served:
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        for number, target in enumerate(targets.forbidden):
            answer = admin.api("POST", "/sites", json=site(f"s{number}", [target]))
            assert answer.status_code == 422, (target, answer.text)
            assert "notification target" in answer.text and "SSRF guard" in answer.text, answer.text
        allowed = admin.api("POST", "/sites", json=site("ok", [targets.hook.apprise_url]))
        assert allowed.status_code == 201, allowed.text
    assert all(not bird.connections for bird in targets.canaries)


@pytest.mark.slow
def test_a_delivered_alert_reaches_the_allowlisted_targets_and_no_canary(
    database: str, tmp_path: Path, targets: Targets
) -> None:
    # Stored without the server's checks, as the sites CLI or an older version would have stored it.
    monitor = Monitor.open(database)
    try:
        notify = (targets.hook.apprise_url, targets.smtp.apprise_url, *targets.forbidden)
        spec = SiteSpec(name="www", url=f"http://{ALLOWED}:9/", every=None, alert_after=1, notify=notify)
        site_id = monitor.add_site(spec).id
    finally:
        monitor.close()
    with serve_allowing_only(database, tmp_path) as served:
        admin: WebUser = log_in(served.base, "admin", ADMIN_PASSWORD)
        assert admin.api("POST", f"/sites/{site_id}/scans").status_code == 202
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while not (targets.hook.payloads and targets.smtp.messages) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert targets.hook.payloads and "www" in targets.hook.payloads[0]["title"]
    assert targets.smtp.messages
    assert {bird.host: bird.connections for bird in targets.canaries} == {
        "127.0.0.2": [],
        "::1": [],
        "127.0.0.1": [],
    }
