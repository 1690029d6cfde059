"""``file:`` links: on a web page they are broken for visitors (``url.file-on-web``) and never looked up on
this machine's disk, so no result tells whether a file exists; in a local folder they are checked on disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.raw_http import answer, raw_http_server

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, CheckResult
from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.service import Monitor

EXISTING = "file:///etc/passwd"
FILE_LINKS = (EXISTING, f"{EXISTING}#x", "file:///nonexistent/linkdoctor-secret")
PAGE = answer(
    b"HTTP/1.1 200 OK",
    ('<link rel="canonical" href="file:///etc/passwd">\n'
     + "\n".join(f'<a href="{url}">file</a>' for url in FILE_LINKS)).encode(),
)  # fmt: skip
FAST = CheckConfig(retries=0, timeout=10.0)
assert Path("/etc/passwd").exists()  # the file the links name is really there


def _verdict(result: CheckResult) -> tuple[str, str | None, str | None, int | None, str]:
    code = result.diagnosis.code if result.diagnosis else None
    error = result.error.value if result.error else None
    return result.category.value, code, error, result.status, result.error_message


async def test_file_links_on_a_web_page_are_broken_alike_and_never_read() -> None:
    with raw_http_server({"/": PAGE}) as base:
        report = await check_async(FAST, collect_inputs([f"{base}/"]))
    results = {result.url: result for result in report.results}
    verdicts = {_verdict(results[url]) for url in FILE_LINKS}
    assert len(verdicts) == 1
    category, code, _, _, _ = verdicts.pop()
    assert (category, code) == (Category.BROKEN.value, "url.file-on-web")


def test_check_reports_file_links_of_a_served_page_identically_in_its_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    with raw_http_server({"/": PAGE}) as base:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "linkdoctor",
                "check",
                f"{base}/",
                "--no-progress",
                "--format",
                f"json-v1:{out}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    assert done.returncode == 2, done.stderr  # broken links found, no crash
    rows = {row["url"]: row for row in json.loads(out.read_text())["results"]}
    shown = [
        {k: v for k, v in rows[url].items() if k not in ("url", "final_url", "referrers")}
        for url in FILE_LINKS
    ]
    assert shown[0] == shown[1] == shown[2]
    assert shown[0]["category"] == "broken"


def test_a_monitor_scan_never_opens_a_file_link(db_url: str) -> None:
    monitor = Monitor.open(db_url)
    try:
        with raw_http_server({"/": PAGE}) as base:
            site = monitor.add_site(SiteSpec(name="files", url=f"{base}/", every=None))
            scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="test")
        stored = {result.url: result for result in monitor.results(scan.id)}
    finally:
        monitor.close()
    seen = {
        (r.category, r.diagnosis.code if r.diagnosis else None, r.error, r.error_message, r.status)
        for url, r in stored.items()
        if url in FILE_LINKS
    }
    assert set(FILE_LINKS) <= set(stored)
    assert len(seen) == 1
    assert seen.pop()[:3] == (Category.BROKEN, "url.file-on-web", "unsupported-scheme")


async def test_a_local_folder_still_checks_its_file_links_on_disk(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "there.html").write_text('<h2 id="here">Here</h2>')
    there, missing = (site / "there.html").as_uri(), (site / "missing.html").as_uri()
    (site / "index.html").write_text(
        f'<a href="{there}">there</a> <a href="{there}#here">here</a> <a href="{there}#nowhere">no</a> '
        f'<a href="{missing}">missing</a>'
    )
    report = await check_async(FAST, collect_inputs([str(site)]))
    results = {result.url: result for result in report.results}
    codes = {url: r.diagnosis.code if r.diagnosis else r.category.value for url, r in results.items()}
    assert codes[there] == "ok"
    assert codes[f"{there}#here"] == "ok"
    assert codes[f"{there}#nowhere"] == "file.anchor-missing"
    assert codes[missing] == "file.not-found"


def _redirect(location: bytes) -> bytes:
    return (
        b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )


async def test_a_redirect_to_a_file_url_is_never_followed() -> None:
    answers = {
        "/": answer(b"HTTP/1.1 200 OK", b'<a href="/there">there</a> <a href="/missing">missing</a>'),
        "/there": _redirect(EXISTING.encode()),
        "/missing": _redirect(FILE_LINKS[2].encode()),
    }
    with raw_http_server(answers) as base:
        report = await check_async(FAST, collect_inputs([f"{base}/"]))
        results = {result.url: result for result in report.results}
        there, missing = results[f"{base}/there"], results[f"{base}/missing"]
    assert _verdict(there) == _verdict(missing)
    assert (there.category, there.diagnosis and there.diagnosis.code) == (Category.BROKEN, "url.file-on-web")


async def test_a_symlink_in_a_checked_folder_is_checked_where_it_is(tmp_path: Path) -> None:
    """A symlink to a file outside the folder is a page of the folder (as a web server serves it): it is
    read, and its links resolve where it is (this ended in a traceback)."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    docs.mkdir()
    outside.mkdir()
    (outside / "shared.md").write_text("[home](index.md) [gone](gone.md)\n")
    (docs / "shared.md").symlink_to(outside / "shared.md")
    (docs / "index.md").write_text("[shared](shared.md)\n")
    report = await check_async(FAST, collect_inputs([str(docs)]))
    verdicts = {r.url.removeprefix(docs.as_uri()): r.category for r in report.results}
    assert verdicts == {"/shared.md": Category.OK, "/index.md": Category.OK, "/gone.md": Category.BROKEN}


async def test_a_link_to_a_fifo_or_a_name_too_long_is_broken_with_its_reason_not_a_hang(
    tmp_path: Path,
) -> None:
    """Opening a FIFO blocks until a writer comes (the run hung for good, deaf to Ctrl-C); a name past the
    file system's limit raised ``OSError`` where the report read it (a traceback)."""
    os.mkfifo(tmp_path / "pipe.md")
    long = "x" * 300
    (tmp_path / "a.md").write_text(f"[pipe](pipe.md)\n[long]({long}.md)\n")
    report = await asyncio.wait_for(check_async(FAST, collect_inputs([str(tmp_path / "a.md")])), timeout=30)
    by_url = {r.url.rsplit("/", 1)[-1]: r for r in report.results}
    assert by_url["pipe.md"].category is Category.BROKEN
    assert "is not a regular file" in by_url["pipe.md"].error_message
    assert by_url[f"{long}.md"].category is Category.BROKEN
    assert "File name too long" in by_url[f"{long}.md"].error_message


def test_check_of_a_link_to_a_fifo_or_a_name_too_long_exits_2_without_a_traceback(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    (tmp_path / "a.md").write_text(f"[pipe](pipe.md)\n[long]({'x' * 300}.md)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-config", "--no-progress", str(tmp_path / "a.md")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
