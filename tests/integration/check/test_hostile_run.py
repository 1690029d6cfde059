"""The hostile run (issue 18): a default recursive ``linkdoctor check`` of the hostile server's index, which
links to every hostile endpoint, finishes by itself in bounded time and memory, prints no traceback,
reports every endpoint with a precise reason, and downloads far less than the server offers.

Measured from the child process (``/proc``): a resource bound, not a speed test. What keeps it bounded: big
pages parsed a piece at a time in the parser process, links past the per-page cap only counted, at most
--max-sitemap-urls taken from the million-URL sitemap index (its other sitemaps checked, not downloaded),
robots.txt read to 500 KiB, and bodies cut at --max-body."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.hostile_run import MALFORMED, hostile_site, run_check

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

PROTOCOL = ("broken", "http.protocol-error")
TIMEOUT = ("broken", "net.timeout")
TRUNCATED = ("ok", "http.body-truncated")
# endpoint → (category, diagnosis code); the ones not named here must be ok (the traps' start pages are).
EXPECTED = {
    "/always-429": ("unverified", "http.rate-limited"),
    "/slow": TIMEOUT,
    "/drip": TIMEOUT,
    "/endless": TRUNCATED,
    "/gzip-bomb": TRUNCATED,
    "/many-links": TRUNCATED,
    "/sitemap-bomb.xml.gz": TRUNCATED,  # the sitemap is cut at its cap: say so
    "/reset": ("broken", "net.connection-closed"),
    "/empty-reply": ("broken", "net.connection-closed"),
    "/redirect-loop": ("broken", "http.redirect-loop"),
    "/redirect-many": ("broken", "http.too-many-redirects"),
    "/bot-protected": ("unverified", "http.bot-protection"),
    "/linkedin": ("unverified", "http.bot-protection"),
    "/cookie-required": ("broken", "http.forbidden"),
    "/auth": ("broken", "http.unauthorized"),
    "/redirect-to-file": ("broken", "url.file-on-web"),
    "/retry-after-years": ("unverified", "http.rate-limited"),
    "/retry-after-far-date": ("unverified", "http.rate-limited"),
    "raw /bad-status-line": PROTOCOL,
    "raw /garbage-status": PROTOCOL,
    "raw /http09": PROTOCOL,
    "raw /broken-header": PROTOCOL,
    "raw /oversized-header": PROTOCOL,
    "raw /many-headers": PROTOCOL,
    "raw /negative-length": PROTOCOL,
    "raw /duplicate-length": PROTOCOL,
    "raw /broken-chunked": PROTOCOL,
    "raw /non-utf8-reason": ("broken", "http.not-found"),
    "raw /malformed-location": ("broken", "url.invalid"),
    "raw /never-answers": TIMEOUT,
    "raw /slow-headers": TIMEOUT,
}
WALL_LIMIT = 120.0
RSS_LIMIT = 200 * 1024**2
DOWNLOAD_LIMIT = 100 * 1024**2  # the server offers 64 GiB of endless body, bombs of GiBs, a million URLs


async def test_a_default_check_of_the_hostile_server_is_bounded(
    gzip_bomb_body: bytes, tmp_path: Path
) -> None:
    async with hostile_site(gzip_bomb_body) as site:
        run = await run_check(site.index, tmp_path, limit=WALL_LIMIT + 60)
        sent = site.sent()
        endpoints = site.endpoints()

    assert run.wall <= WALL_LIMIT, f"{run.wall:.0f} s"
    assert run.peak_rss <= RSS_LIMIT, f"{run.peak_rss / 2**20:.0f} MB"
    # the parser process too: the whole tree's RSS, summed as sampled every 0.1 s
    assert run.peak_tree_rss <= RSS_LIMIT, f"{run.peak_tree_rss / 2**20:.0f} MB with the parser process"
    assert sent <= DOWNLOAD_LIMIT, f"{sent / 2**20:.0f} MB downloaded"
    assert run.code == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr + run.stdout
    assert run.report is not None
    results = {r["url"]: r for r in run.report["results"]}
    for url, name in endpoints.items():
        result = results.get(url)
        assert result is not None, f"{name} is missing from the report"
        code = (result.get("diagnosis") or {}).get("code")
        if name in EXPECTED:
            assert (result["category"], code) == EXPECTED[name], name
        elif result["category"] != "ok":
            assert code, f"{name}: {result['category']} without a reason"
    for url in MALFORMED:
        if url in results:
            assert results[url]["category"] in ("broken", "excluded"), url
