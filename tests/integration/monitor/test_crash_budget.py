"""``kill -9`` of a real ``linkdoctor serve`` in the middle of a scan of a generated site served by nginx: the
killed run is charged the checks it made (to within a checkpoint interval), a restarted ``serve`` takes the
scan over within a minute, and no URL whose check was committed before the kill is requested again.

The requests are counted in nginx's access log, so what is measured is what the site really served.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from harness.nginx import AccessLogEntry, NginxPool
from harness.sitegen import SiteSpec as GeneratedSpec
from harness.sites import GeneratedSite, serve_generated_site
from sqlalchemy import func, select
from tests.integration.web.served import serve_process

from linkdoctor.engine.crawl import PARSE_BACKLOG_FACTOR
from linkdoctor.engine.frontier import Frontier
from linkdoctor.monitor.model import ScanState, SiteSpec
from linkdoctor.monitor.orm import ScanRow, ScanRunRow
from linkdoctor.monitor.scan import DEFAULT_CHECKPOINT
from linkdoctor.monitor.service import Monitor
from linkdoctor.options import DEFAULT_MAX_CONCURRENCY

# A site with no redirects, retries or fragments to refetch, so that one check is one request.
SPEC = GeneratedSpec(
    pages=3000, links_per_page=6, broken_share=0.0, redirect_chains=0, fragments=False, assets=False, seed=5
)
KILL_AFTER = 1200  # requests seen in nginx's log
TAKEOVER = 60.0  # seconds from the restart to the first new request
# Checks begun but not finished when a checkpoint is taken (fetch slots and pages waiting for the parser):
# charged, and fetched again by the next run, since their results were not saved.
IN_FLIGHT = (1 + PARSE_BACKLOG_FACTOR) * DEFAULT_MAX_CONCURRENCY


@pytest.fixture(scope="module")
def site(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedSite]:
    base = tmp_path_factory.mktemp("crash-site")
    with NginxPool(nginx_bin, base / "nginx") as pool:
        yield serve_generated_site(pool, base / "www", SPEC, access_log=True)


def requests(site: GeneratedSite) -> list[AccessLogEntry]:
    """Page and asset requests served so far (robots.txt, fetched again by each run, left out)."""
    return [e for e in site.server.access_log_entries(settle=0.05) if e.uri != "/robots.txt"]


def wait_for_requests(site: GeneratedSite, count: int, timeout: float) -> None:
    assert site.server.access_log is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if site.server.access_log.exists():
            with site.server.access_log.open("rb") as log:
                if sum(1 for _ in log) >= count:
                    return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} requests within {timeout} s")


@pytest.mark.slow
def test_kill_9_mid_scan_charges_what_was_made_and_resumes_without_refetching(
    db_url: str, site: GeneratedSite, tmp_path: Path
) -> None:
    assert site.server.access_log is not None
    site.server.access_log.write_bytes(b"")  # this test's requests only (the site is shared per module)
    setup = Monitor.open(db_url)
    added = setup.add_site(SiteSpec(name="big", url=site.base_url, every=None, budget=100_000))
    scan_id = setup.request_scan(added.id).id

    with serve_process(db_url, tmp_path, "--tick", "1") as first:
        wait_for_requests(site, KILL_AFTER, timeout=120)
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
        killed_at = time.time()
    made = requests(site)
    with setup.session() as s:
        row = s.get(ScanRow, scan_id)
        assert row is not None and row.frontier is not None
        assert row.state == ScanState.RUNNING.value  # its owner died holding it
        saved = Frontier.from_json(row.frontier)
        charged = s.scalar(select(func.sum(ScanRunRow.checks)).where(ScanRunRow.scan_id == scan_id))
    committed = {urlsplit(r.url).path or "/" for r in saved.resources if not r.pending}
    print(f"\n{len(made)} requests before the kill; {charged} checks charged; {len(committed)} committed")
    assert charged is not None
    # Charged at the last checkpoint: at most one interval behind the requests, and ahead of them by no more
    # than the checks it had begun and not yet sent.
    assert charged <= len(made) + IN_FLIGHT
    assert len(made) - charged <= DEFAULT_CHECKPOINT.every_checks + IN_FLIGHT
    assert len(committed) >= charged - IN_FLIGHT

    restarted_at = time.monotonic()
    with serve_process(db_url, tmp_path, "--tick", "5"):
        deadline = time.monotonic() + 300
        resumed_after: float | None = None
        while time.monotonic() < deadline:
            if resumed_after is None and len(requests(site)) > len(made):
                resumed_after = time.monotonic() - restarted_at
            if setup.scan(scan_id).state is ScanState.DONE:
                break
            time.sleep(0.5)
        done = setup.scan(scan_id)
    assert done.state is ScanState.DONE, done
    assert resumed_after is not None and resumed_after < TAKEOVER
    after = [e for e in requests(site) if e.at > killed_at]
    again = {e.uri for e in after} & committed
    print(f"resumed {resumed_after:.1f} s after the restart; {len(after)} requests after the kill")
    assert again == set(), sorted(again)[:10]
    assert done.runs == 2
    # Both runs, each charged what it did: the first what its last checkpoint counted (the requests it made
    # after that checkpoint died with it, within the interval asserted above), the second what it made.
    second = len(requests(site)) - len(made)
    assert charged + second - IN_FLIGHT <= done.budget_used <= charged + second + IN_FLIGHT
    setup.close()
