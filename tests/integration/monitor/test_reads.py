"""Reads of the monitor's SQLite database take no write lock: the dashboard and the API read a snapshot
while a scan stores its results, and a long read (a big scan's page) never holds the scan up.

Before, every transaction began ``BEGIN IMMEDIATE``: a page read waited for the scan's writes, and a scan's
write waited for a page read, failing with "database is locked" past the busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.monitor.sitekit import Clock

from linkdoctor.monitor import db
from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.orm import ScanRow
from linkdoctor.monitor.service import Monitor

BUSY_MS = 300  # what a writer or a reader waits for a lock here before "database is locked"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "linkdoctor.sqlite"


@pytest.fixture
def monitor(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Monitor]:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", BUSY_MS)
    opened = Monitor.open(f"sqlite:///{path}", clock=Clock())
    yield opened
    opened.close()


def _writer(path: Path) -> sqlite3.Connection:
    """Another process's connection, as a scan storing its results holds it: the write lock taken."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_MS / 1000)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE scans SET runs = runs + 1")
    return connection


def test_every_read_of_the_dashboard_and_the_api_goes_on_while_a_scan_writes(
    monitor: Monitor, path: Path
) -> None:
    site = monitor.add_site(SiteSpec(name="www", url="http://127.0.0.1:9/", every=None))
    scan = monitor.request_scan(site.id)
    writer = _writer(path)
    try:
        assert monitor.site(site.id).id == site.id
        assert [s.site.id for s in monitor.sites()] == [site.id]
        assert [s.id for s in monitor.scans(site.id)] == [scan.id]
        assert monitor.scan(scan.id).runs == scan.runs  # the snapshot: the writer has not committed
        assert monitor.results(scan.id) == []
        assert monitor.diff(scan.id).scan_id == scan.id
        assert monitor.problems(scan.id).counts.problems == 0
        assert monitor.certificates(scan.id) == []
        assert monitor.history(site.id) == []
        assert monitor.alerts(site.id) == []
        assert monitor.budget(site.id).used == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_long_read_does_not_hold_up_a_scans_writes(monitor: Monitor, path: Path) -> None:
    site = monitor.add_site(SiteSpec(name="www", url="http://127.0.0.1:9/", every=None))
    monitor.request_scan(site.id)
    with monitor.db.read() as session:
        assert len(session.scalars(select(ScanRow)).all()) == 1
        writer = _writer(path)  # would wait out the busy timeout and fail, were the read holding the lock
        writer.execute("COMMIT")
        writer.close()
    with monitor.session() as session:  # and a read-write transaction still takes the lock
        session.execute(select(ScanRow.id))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _writer(path)
