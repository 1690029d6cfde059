"""Config-file sections at work against a real nginx that logs requests: ``[remap]`` rewrites links before
they are checked (keeping their referrers), and ``[[hosts]]`` paces and caps requests to matching hosts."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from harness.nginx import AccessLogEntry, NginxFactory, NginxServer, quote
from harness.ports import free_port

from linkdoctor.cli import cli

pytestmark = pytest.mark.nginx


@pytest.fixture
def server(nginx_factory: NginxFactory, tmp_path: Path) -> NginxServer:
    root = tmp_path / "www"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "index.html").write_text(
        '<a href="https://old.invalid/docs/target.html">moved site</a>\n'
        '<a href="https://old.invalid/docs/gone.html">gone</a>\n'
        + "".join(f'<img src="img-{n}.png">\n' for n in range(5))
    )
    (root / "docs" / "target.html").write_text("<p>here now</p>\n")
    for n in range(5):
        (root / "docs" / f"img-{n}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    port = free_port()
    return nginx_factory(
        f"server {{ listen 127.0.0.1:{port}; root {quote(root)}; }}", "effects", access_log=True
    )


def check(project: Path, config: str, url: str) -> dict[str, dict[str, Any]]:
    (project / "linkdoctor.toml").write_text(config)
    result = CliRunner().invoke(
        cli,
        ["check", "--config", str(project / "linkdoctor.toml"), "--no-progress", "--format", "json-v1", url],
    )
    assert result.exit_code in (0, 2), result.output
    return {r["url"]: r for r in json.loads(result.stdout)["results"]}


def settled_log(server: NginxServer) -> list[AccessLogEntry]:
    """nginx logs a request after answering it: wait until the log stops growing (bounded)."""
    entries = server.access_log_entries()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        again = server.access_log_entries()
        if len(again) == len(entries):
            break
        entries = again
    return entries


def test_remapped_links_are_checked_at_the_new_url_with_the_original_referrers(
    server: NginxServer, tmp_path: Path
) -> None:
    base = server.url("/")
    config = f'retries = 0\n[remap]\n"^https://old\\\\.invalid/(.*)" = "{base}$1"\n'
    results = check(tmp_path, config, server.url("/docs/"))
    target, gone = results[server.url("/docs/target.html")], results[server.url("/docs/gone.html")]
    assert target["category"] == "ok"
    assert gone["category"] == "broken"
    assert [(r["url"], r["line"]) for r in gone["referrers"]] == [(server.url("/docs/"), 2)]
    assert target["referrer_count"] == 1  # an ok link keeps only its count (see --all-referrers)
    with_all = check(tmp_path, "all_referrers = true\n" + config, server.url("/docs/"))
    kept = with_all[server.url("/docs/target.html")]["referrers"]
    assert [(r["url"], r["line"]) for r in kept] == [(server.url("/docs/"), 1)]
    assert not [url for url in results if "old.invalid" in url]
    assert "/docs/target.html" in {entry.uri for entry in settled_log(server)}


def test_host_interval_and_concurrency_pace_requests_to_matching_hosts(
    server: NginxServer, tmp_path: Path
) -> None:
    config = 'retries = 0\nignore_robots = true\n[[hosts]]\nmatch = ["127.0.0.1"]\nmax_concurrency = 1\ninterval = 0.25\n'
    results = check(tmp_path, config, server.url("/docs/"))
    assert results[server.url("/docs/img-4.png")]["category"] == "ok"
    times = sorted(entry.at for entry in settled_log(server))
    assert len(times) >= 6  # the page and five images
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.24  # nginx logs with millisecond resolution


def test_a_host_table_that_does_not_match_leaves_the_pace_alone(server: NginxServer, tmp_path: Path) -> None:
    config = 'retries = 0\nignore_robots = true\n[[hosts]]\nmatch = ["*.elsewhere.example"]\ninterval = 2\n'
    started = time.monotonic()
    check(tmp_path, config, server.url("/docs/"))
    assert time.monotonic() - started < 5  # paced, its five gaps would take 10 s
