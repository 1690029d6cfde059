"""``check --cache`` against a real nginx that logs every request: a second run makes no request for the
links that were ``ok`` or ``redirected`` (acceptance 4), while pages are fetched and failures re-checked."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from harness.nginx import AccessLogEntry, NginxFactory, NginxServer, quote
from harness.ports import free_port

from linkdoctor.cli import cli

pytestmark = pytest.mark.nginx

# Links whose check needs no page body: an image, a PDF and a redirect linked with <a href> (tried as pages,
# but nothing to parse), a page outside the start folder (checked, not crawled).
NOT_PAGES = ("/docs/img.png", "/docs/manual.pdf", "/docs/old.png", "/elsewhere/page.html")
PAGES = ("/docs/", "/docs/guide.html")


@dataclass(frozen=True)
class Site:
    server: NginxServer
    cache: Path

    def run(self, *extra: str, exit_code: int = 2) -> tuple[Result, Counter[str]]:
        """One ``check --cache`` run, and the URIs nginx served during it (with how often)."""
        before = len(self.settled_log())
        result = CliRunner().invoke(
            cli,
            [
                "check",
                "--no-config",
                "--no-progress",
                "--retries",
                "0",
                "--format",
                "json-v1",
                "--cache",
                "--cache-file",
                str(self.cache),
                *extra,
                self.server.url("/docs/"),
            ],
        )
        assert result.exit_code == exit_code, result.output  # 2: the missing image is broken in every run
        served = Counter(entry.uri for entry in self.settled_log()[before:])
        return result, served

    def settled_log(self) -> list[AccessLogEntry]:
        """The access log once nginx has written it all: it logs a request after answering it, so the
        last lines of a run may land a moment after the client is done."""
        entries = self.server.access_log_entries()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.1)
            again = self.server.access_log_entries()
            if len(again) == len(entries):
                return again
            entries = again
        return entries


@pytest.fixture
def site(nginx_factory: NginxFactory, tmp_path: Path) -> Site:
    root = tmp_path / "www"
    (root / "docs").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    (root / "docs" / "index.html").write_text(
        '<a href="guide.html">guide</a>\n<img src="img.png">\n<a href="manual.pdf">pdf</a>\n'
        '<a href="/elsewhere/page.html">elsewhere</a>\n'
    )
    (root / "docs" / "guide.html").write_text(
        '<img src="img.png">\n<img src="missing.png">\n<a href="old.png">old</a>\n'
    )
    (root / "docs" / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "docs" / "manual.pdf").write_bytes(b"%PDF-1.4\n")
    (root / "elsewhere" / "page.html").write_text("<p>elsewhere</p>\n")
    port = free_port()
    block = (
        f"server {{ listen 127.0.0.1:{port}; root {quote(root)};\n"
        "  location = /docs/old.png { return 301 /docs/img.png; } }"
    )
    server = nginx_factory(block, "cache-site", access_log=True)
    return Site(server, tmp_path / "state" / "cache.sqlite")


def categories(result: Result) -> dict[str, str]:
    return {r["url"]: r["category"] for r in json.loads(result.stdout)["results"]}


def test_a_second_run_makes_no_request_for_links_that_were_ok(site: Site) -> None:
    first, served_first = site.run()
    assert all(served_first[uri] >= 1 for uri in NOT_PAGES)
    second, served_second = site.run()
    assert {uri: served_second[uri] for uri in NOT_PAGES} == dict.fromkeys(NOT_PAGES, 0)
    assert categories(second) == categories(first)


def test_pages_are_fetched_and_broken_links_rechecked_every_run(site: Site) -> None:
    site.run()
    _, served = site.run()
    assert all(served[page] == 1 for page in PAGES)
    assert served["/docs/missing.png"] >= 1


def test_cached_results_keep_their_redirect_chain(site: Site) -> None:
    site.run()
    second, _ = site.run()
    moved = next(r for r in json.loads(second.stdout)["results"] if r["url"].endswith("/docs/old.png"))
    assert moved["category"] == "redirected"
    assert moved["final_url"] == site.server.url("/docs/img.png")
    assert [hop["status"] for hop in moved["redirects"]] == [301]


def test_results_past_max_cache_age_are_checked_again(site: Site) -> None:
    site.run()
    _, served = site.run("--max-cache-age", "0")
    assert all(served[uri] >= 1 for uri in NOT_PAGES)


def test_other_settings_do_not_reuse_the_results(site: Site) -> None:
    site.run()
    _, served = site.run("--accept", "200..299,429")
    assert all(served[uri] >= 1 for uri in NOT_PAGES)


def test_a_damaged_cache_file_is_rebuilt_with_a_warning_and_another_file_is_never_replaced(
    site: Site,
) -> None:
    site.run()
    raw = bytearray(site.cache.read_bytes())
    raw[100:] = b"\xff" * (len(raw) - 100)  # the cache's own header, its pages damaged
    site.cache.write_bytes(bytes(raw))
    result, _ = site.run()
    assert "warning: the cache file" in result.stderr
    assert "rebuilt" in result.stderr
    _, served = site.run()
    assert served["/docs/img.png"] == 0

    site.cache.write_bytes(b"notes that are not a cache\n" * 100)
    result, _ = site.run(exit_code=3)
    assert "is not a linkdoctor cache" in result.stderr
    assert site.cache.read_bytes() == b"notes that are not a cache\n" * 100
