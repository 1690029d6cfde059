"""What an operator sees of a real ``linkdoctor serve``: a scan asked for while the site is being scanned
(API, dashboard, ``sites scan``) joins it or is refused with a message, never a second overlapping scan; and
at the default log level, stderr carries JSON Lines for HTTP requests, scans started and finished with their
counts, and alerts sent or failed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.nginx import NginxFactory
from harness.ports import free_port
from tests.integration.monitor.sitekit import StaticSite, serve_static
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import Served, log_in, stop, wait_healthy
from tests.support.alert_sinks import webhook_sink

from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.service import Monitor

PAGES = 40


@contextmanager
def serve_logging(db_url: str, home: Path, log: Path, *options: str) -> Iterator[Served]:
    """``linkdoctor serve`` with its default log level, stderr into ``log``, 127.0.0.1 allowlisted."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
    environment |= {"HOME": str(home), "LINKDOCTOR_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port), "--db", db_url]
    command += ["--allow-private", "127.0.0.1/32", *options]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, env=environment, cwd=home, stdout=subprocess.DEVNULL, stderr=stderr, text=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        yield Served(base, process, port, db_url)
    finally:
        stop(process)


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def slow_site(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> StaticSite:
    """Pages of 8 KB sent at 1 KB/s: a scan of it runs for several seconds."""
    site = serve_static(nginx_factory, tmp_path_factory.mktemp("slow") / "www", extra="limit_rate 1k;")
    pages = [f"/p{n}.html" for n in range(PAGES)]
    site.page("/index.html", pages)
    for page in pages:
        site.write(page, "<!doctype html><p>" + "x" * 8192 + "</p>")
    return site


@pytest.mark.slow
def test_a_scan_asked_for_while_the_site_is_scanning_joins_it_or_is_refused(
    db_url: str, slow_site: StaticSite, tmp_path: Path
) -> None:
    monitor = Monitor.open(db_url)
    site = monitor.add_site(SiteSpec(name="slow", url=slow_site.base_url, every=None))
    scan_id = monitor.request_scan(site.id).id
    with serve_logging(db_url, tmp_path, tmp_path / "serve.log", "--tick", "1") as served:
        wait_until(lambda: monitor.scan(scan_id).state is ScanState.RUNNING, 30, "the scan starting")
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        asked = admin.api("POST", f"/sites/{site.id}/scans")
        assert asked.status_code == 202 and asked.json()["id"] == scan_id  # the API joins the running scan
        assert asked.json()["state"] == "running"
        form = admin.form(f"/sites/{site.id}/scan")
        assert form.status_code == 303  # the dashboard's "scan now" joins it too
        panel = admin.client.post(
            f"/sites/{site.id}/scan", data={"csrf_token": admin.csrf}, headers={"HX-Request": "true"}
        )
        assert panel.status_code == 200 and panel.text.count("data-scan=") == 1
        cli = subprocess.run(
            [sys.executable, "-m", "linkdoctor", "sites", "--db", db_url, "scan", "slow"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert cli.returncode == 1, cli.stdout
        assert f"scan #{scan_id} of slow is already running" in cli.stderr
        assert "not starting a second one" in cli.stderr
        assert monitor.scan(scan_id).state is ScanState.RUNNING
        assert [s.id for s in monitor.scans(site.id)] == [scan_id]
        os.kill(served.process.pid, signal.SIGKILL)  # no need to wait for the slow scan
        served.process.wait(timeout=30)
    monitor.close()


def lines(log: Path) -> list[dict[str, Any]]:
    """Every line of the log as JSON: a line that is not JSON fails the test."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_serve_logs_requests_scans_and_alerts_as_json_lines_at_the_default_level(
    db_url: str, nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    site = serve_static(nginx_factory, tmp_path / "www")
    site.page("/index.html", ["/a.html", "/gone.html"])
    site.page("/a.html", ["/"])
    log = tmp_path / "serve.log"
    with webhook_sink() as hook:
        monitor = Monitor.open(db_url)
        heard = monitor.add_site(
            SiteSpec(name="heard", url=site.base_url, every=None, alert_after=1, notify=(hook.apprise_url,))
        )
        unheard = monitor.add_site(
            SiteSpec(
                name="unheard",
                url=site.base_url,
                every=None,
                alert_after=1,
                notify=(f"json://127.0.0.1:{free_port()}/hook",),  # nobody listens there
            )
        )
        for added in (heard, unheard):
            monitor.request_scan(added.id)
        with serve_logging(db_url, tmp_path, log, "--tick", "1") as served:
            assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
            wait_until(lambda: bool(hook.payloads), 60, "the alert reaching the webhook")
            wait_until(lambda: '"alert.retrying"' in log.read_text(), 60, "the failed alert being logged")
        monitor.close()
    records = lines(log)
    events = [r for r in records if "event" in r]
    assert all({"ts", "level", "logger", "msg"} <= r.keys() for r in records)
    requests = [r for r in events if r["event"] == "request"]
    assert any(r["path"] == "/healthz" and r["status"] == 200 and r["method"] == "GET" for r in requests)
    started = [r for r in events if r["event"] == "scan.started"]
    assert {r["site"] for r in started} == {"heard", "unheard"}
    finished = [r for r in events if r["event"] == "scan.done"]
    assert {r["site"] for r in finished} == {"heard", "unheard"}
    for record in finished:
        assert (record["links"], record["ok"], record["broken"], record["checks"]) == (3, 2, 1, 3)
        assert record["level"] == "info"
    sent = [r for r in events if r["event"] == "alert.sent"]
    assert [r["site_id"] for r in sent] == [heard.id]
    retrying = [r for r in events if r["event"] == "alert.retrying"]
    assert retrying and retrying[0]["site_id"] == unheard.id and retrying[0]["level"] == "warning"
