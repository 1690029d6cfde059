"""The dashboard in real headless Chromium against a real ``linkdoctor serve`` process: log in, add a site
pointing at the local nginx test site, run a scan, and see the broken links and the history chart. The page
must raise no console errors and no Content-Security-Policy violations on the way.

Fails (never skips) when Chromium is missing: ``apt-get install chromium``. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness.chromium import Page, chromium_page
from harness.ports import free_port
from tests.integration.web.conftest import ADMIN_PASSWORD

WAIT = 30.0


@pytest.fixture
def dashboard(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A ``linkdoctor serve`` process on ``db_url`` with 127.0.0.1 allowlisted; yields its base URL."""
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "LINKDOCTOR_ADMIN_PASSWORD": ADMIN_PASSWORD}
    command = [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port), "--db", db_url]
    command += ["--allow-private", "127.0.0.1/32", "--tick", "0.5", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"linkdoctor serve did not answer within {WAIT} s")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def wait_for(page: Page, expression: str, what: str) -> Any:
    """Poll a JavaScript expression until it is truthy (navigations in between are retried), bounded."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            value = await page.evaluate(expression)
        except RuntimeError:  # the page navigated away under the evaluation
            value = None
        if value:
            return value
        await asyncio.sleep(0.1)
    url = await page.evaluate("location.href")
    raise AssertionError(f"timed out waiting for {what} (at {url})")


async def fill(page: Page, values: dict[str, str]) -> None:
    await page.evaluate(
        f"Object.entries({json.dumps(values)}).forEach(([n, v]) => document.querySelector(`[name='${{n}}']`).value = v)"
    )


@pytest.mark.slow
async def test_log_in_add_a_site_scan_it_and_see_broken_links_and_the_chart(
    chromium: str, dashboard: str, nginx_site: str
) -> None:
    async with chromium_page(chromium) as page:
        await page.open(f"{dashboard}/")
        await wait_for(
            page, "location.pathname === '/login' && document.readyState === 'complete'", "login form"
        )
        await fill(page, {"username": "admin", "password": ADMIN_PASSWORD})
        await page.evaluate("document.getElementById('login-form').submit()")
        await wait_for(
            page,
            "location.pathname === '/' && document.querySelector('h1')?.textContent === 'Sites'",
            "overview",
        )

        await page.open(f"{dashboard}/settings")
        # No schedule: scanned on request only, so the one scan is the one the test asks for.
        await fill(page, {"name": "nginx test site", "url": nginx_site, "every": "", "budget": "500"})
        await page.evaluate("document.getElementById('add-site-button').click()")
        await wait_for(
            page,
            "/^\\/sites\\/\\d+$/.test(location.pathname) && document.readyState === 'complete'",
            "site page",
        )
        assert await page.evaluate("document.querySelector('h1').textContent") == "nginx test site"

        await wait_for(page, "typeof htmx !== 'undefined'", "htmx")
        await page.evaluate("document.getElementById('scan-now').click()")
        # HTMX swaps in the polling scans panel, then reloads the page when the scan has finished.
        await wait_for(
            page, "document.getElementById('history-chart') !== null", "history chart after the scan"
        )
        states = await page.evaluate(
            "Array.from(document.querySelectorAll('#scans tr[data-state]')).map(r => r.dataset.state)"
        )
        assert states == ["done"]
        broken_line = await page.evaluate(
            "document.querySelector('#history-chart polyline.broken').dataset.values"
        )
        assert broken_line == "3"
        new_broken = await page.evaluate(
            "Array.from(document.querySelectorAll('ul.new-problems .problem-url')).map(code => code.textContent)"
        )
        assert sorted(url.removeprefix(nginx_site.rstrip("/")) for url in new_broken) == [
            "/gone",
            "/internal",
            "/missing.html",
        ]

        await page.evaluate("document.querySelector('#scans a[href^=\"/scans/\"]').click()")
        await wait_for(
            page, "location.pathname.startsWith('/scans/') && document.readyState === 'complete'", "scan page"
        )
        await page.evaluate("document.getElementById('links-tab').click()")
        await wait_for(
            page,
            "location.search.includes('view=links') && document.querySelector('#results tbody tr') !== null",
            "the links view of the scan",
        )
        rows = await page.evaluate(
            "Array.from(document.querySelectorAll('#results tbody tr')).map(r => "
            "({category: r.dataset.category, code: r.dataset.code, url: r.querySelector('.link-url').textContent,"
            " fix: r.querySelectorAll('ol.fix li').length, referrers: r.querySelectorAll('ul.referrers li').length}))"
        )
        missing = next(r for r in rows if r["url"].endswith("/missing.html"))
        assert missing == {**missing, "category": "broken", "code": "http.not-found"}
        assert missing["fix"] >= 1 and missing["referrers"] == 1
        assert {r["category"] for r in rows} == {"broken"}

        # The category filter swaps the table in place through HTMX.
        await page.evaluate(
            "(() => { const s = document.getElementById('category-filter'); s.value = 'redirected';"
            " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
        )
        await wait_for(
            page,
            "Array.from(document.querySelectorAll('#results tbody tr')).map(r => r.dataset.category).join() === 'redirected'",
            "redirected rows after filtering",
        )
        assert "category=redirected" in await page.evaluate("location.search")
        assert page.problems() == []
