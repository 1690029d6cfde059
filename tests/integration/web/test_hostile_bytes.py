"""Bytes that are not UTF-8 in a status line or a header never lose a scan: ``check -o r.json`` writes
valid JSON, a monitored scan (SQLite and PostgreSQL) stores and shows the reason readably, and a scan
whose results the database refuses is failed with the reason, never left running."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from tests.integration.web.conftest import csrf_token, wait_for_scan
from tests.support.raw_http import answer, raw_http_server

from linkdoctor.models import Category, CheckResult, Summary
from linkdoctor.monitor import finish
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.scan import ScanJob, ScanOutcome
from linkdoctor.monitor.service import Monitor

HOSTILE_REASON = b"Not\x01Found\x7f\xff"
SHOWN_REASON = "Not\\x01Found\\x7f\\xff"  # the bytes that are not text, written as \xNN
ODD_HEADER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Odd: caf\xe9\xff\x01\r\n"
    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
)
ANSWERS = {
    "/": answer(b"HTTP/1.1 200 OK", b'<a href="/odd">odd</a> <a href="/header">header</a>'),
    "/odd": answer(b"HTTP/1.1 404 " + HOSTILE_REASON, b"gone"),
    "/header": ODD_HEADER,
}


def test_check_writes_valid_json_with_the_reason_readable(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with raw_http_server(ANSWERS) as base:
        done = subprocess.run(
            [sys.executable, "-m", "linkdoctor", "check", f"{base}/", "--no-progress", "-o", str(out)],
            capture_output=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr.decode(errors="replace")  # a broken link, no traceback
        assert b"Traceback" not in done.stderr
        rows = {row["url"]: row for row in json.loads(out.read_bytes().decode("utf-8"))["results"]}
        odd, header = rows[f"{base}/odd"], rows[f"{base}/header"]
    assert (odd["status"], odd["reason"], odd["category"]) == (404, SHOWN_REASON, "broken")
    assert header["category"] == "ok"


def test_a_monitored_scan_stores_and_shows_the_reason(client: TestClient) -> None:
    with raw_http_server(ANSWERS) as base:
        site = client.post(
            "/api/v1/sites",
            json={"name": "hostile", "url": f"{base}/", "every": None},
            headers={"X-CSRF-Token": csrf_token(client)},
        )
        assert site.status_code == 201, site.text
        site_id = site.json()["id"]
        queued = client.post(f"/api/v1/sites/{site_id}/scans", headers={"X-CSRF-Token": csrf_token(client)})
        assert queued.status_code == 202, queued.text
        scan = wait_for_scan(client, site_id)
        assert scan["state"] == "done", scan
        results = client.get(f"/api/v1/scans/{scan['id']}/results").json()
        odd = next(row for row in results if row["url"] == f"{base}/odd")
    assert (odd["status"], odd["reason"]) == (404, SHOWN_REASON)
    page = client.get(f"/scans/{scan['id']}?view=links&category=broken")  # the links tab shows each reason
    assert page.status_code == 200
    assert SHOWN_REASON in page.text


def _outcome(results: tuple[CheckResult, ...]) -> ScanOutcome:
    return ScanOutcome(results=results, summary=Summary.from_results(results), checks=len(results))


def test_text_a_driver_refuses_is_stored_escaped(db_url: str) -> None:
    raw = CheckResult("http://h.example/x", Category.BROKEN, status=404, reason="Not\x00Found\udcff")

    def job(_: ScanJob) -> ScanOutcome:
        return _outcome((raw,))

    monitor = Monitor.open(db_url, job_runner=job)
    try:
        site = monitor.add_site(SiteSpec(name="h", url="http://h.example/", every=None))
        scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="test")
        assert scan.state is ScanState.DONE, scan.error
        (stored,) = monitor.results(scan.id)
    finally:
        monitor.close()
    assert stored.reason == "Not\\x00Found\\xff"


def test_a_commit_error_fails_the_scan_with_a_reason(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_: object) -> dict[str, object]:
        raise OperationalError("INSERT INTO results …", {}, Exception("disk I/O error\nmore detail"))

    monkeypatch.setattr(finish, "result_row", refused)
    ok = CheckResult("http://h.example/", Category.OK, status=200)
    monitor = Monitor.open(db_url, job_runner=lambda _: _outcome((ok,)), lease=timedelta(minutes=1))
    try:
        site = monitor.add_site(SiteSpec(name="h", url="http://h.example/", every=None))
        scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="test")
        stored = monitor.scan(scan.id)
    finally:
        monitor.close()
    assert stored.state is ScanState.FAILED
    assert stored.error == "could not store the results: Exception: disk I/O error"
