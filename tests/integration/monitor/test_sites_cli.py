"""``linkdoctor sites``: add, list, scan, history and remove through the real console entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness.nginx import NginxFactory
from tests.integration.monitor.sitekit import serve_static


def run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkdoctor", "sites", "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_add_scan_list_history_remove(db_url: str, nginx_factory: NginxFactory, tmp_path: Path) -> None:
    site = serve_static(nginx_factory, tmp_path / "www")
    site.page("/index.html", ["/a.html", "/gone.html"])
    site.page("/a.html", ["/"])
    added = run(db_url, "add", site.base_url, "--name", "www", "--manual")
    assert added.returncode == 0, added.stderr
    assert "added www (#1)" in added.stdout and "scanned on request" in added.stdout
    scanned = run(db_url, "scan", "www")
    assert scanned.returncode == 0, scanned.stderr
    assert "done: 3 links, 2 ok, 0 redirected, 1 broken" in scanned.stdout
    listed = run(db_url, "list")
    assert listed.stdout.split("\t")[:3] == ["www", "broken", "1 broken"]
    history = run(db_url, "history", "www")
    assert "\tdone\t1 broken of 3" in history.stdout
    assert run(db_url, "remove", "www").returncode == 0
    assert "no sites yet" in run(db_url, "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "https://a.example/", "--every", "often"), "--every takes"),
        (("scan", "nowhere"), "no site named 'nowhere'"),
    ],
)
def test_bad_input_exits_3_with_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    done = run(f"sqlite:///{tmp_path / 'db.sqlite'}", *args)
    assert done.returncode == 3
    assert message in done.stderr


def test_add_stores_the_sites_ca_bundle_and_certificate_window(tmp_path: Path) -> None:
    from linkdoctor.monitor.service import Monitor

    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    ca = tmp_path / "internal-ca.pem"
    added = run(
        db_url,
        "add",
        "https://intranet.example/",
        "--manual",
        "--cacert",
        str(ca),
        "--cert-warning-days",
        "30",
    )
    assert added.returncode == 0, added.stderr
    monitor = Monitor.open(db_url)
    try:
        options = monitor.site("intranet.example").spec.options
    finally:
        monitor.close()
    assert options.cacert_path == str(ca)
    assert options.cert_warning_days == 30


def test_an_interval_over_a_year_is_refused(tmp_path: Path) -> None:
    done = run(f"sqlite:///{tmp_path / 'db.sqlite'}", "add", "https://a.example/", "--every", "30000d")
    assert done.returncode == 3
    assert "year" in done.stderr
