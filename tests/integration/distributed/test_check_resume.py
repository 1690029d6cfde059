"""``linkdoctor check --broker`` survives its own end: after ``kill -9`` the same scan runs again with
``--resume KEY`` and gives the result set of an in-process run without fetching again what the workers
stored (in Redis: the check has no database, even when a worker has one); SIGTERM writes a partial report
marked ``crawl.interrupted`` and keeps the scan resumable; a finished scan leaves no key behind; a bad
``--resume`` is one line and exit 3. Real Redis, nginx, worker processes and ``check`` processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from harness.nginx import NginxServer
from harness.ports import free_port
from harness.redis import RedisServer
from harness.workers import Worker
from tests.integration.distributed.conftest import LoggedSite, StartWorker, chain_ends

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.claim import HeldScan
from linkdoctor.distributed.coordinator import new_scan_key
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.soft404 import PROBE_PREFIX

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
KILL_AFTER_PAGES = 150
BUSY_TIMEOUT_S = 90.0
RUN_TIMEOUT_S = 150.0
STOP_TIMEOUT_S = 60.0
SCAN_LINE = re.compile(r"linkdoctor: scan (cli-[0-9a-f]+); resume with --resume (cli-[0-9a-f]+)")

Row = tuple[Any, ...]


def linkdoctor(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """A ``linkdoctor`` process (its own session: a signal reaches it alone), stderr to ``log``."""
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "linkdoctor", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def finish(process: subprocess.Popen[bytes], log: Path, timeout: float = RUN_TIMEOUT_S) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
        pytest.fail(f"linkdoctor did not finish in {timeout:.0f} s: {log.read_text()[-3000:]}")


def rows(report: Path) -> set[Row]:
    """The result set of a JSON report (version 1: written whole at the end, where a streamed format writes
    a result with the referrers found by then): everything a result says but how long it took, and an ok
    link's referrers (only counted, unless --all-referrers)."""
    out = set()
    for r in json.loads(report.read_text(encoding="utf-8"))["results"]:
        diagnosis = r["diagnosis"]["code"] if r["diagnosis"] else None
        referrers = tuple(sorted((x["url"], x["line"], x["text"]) for x in r["referrers"]))
        referrers = () if r["category"] == "ok" else referrers
        redirects = json.dumps(r["redirects"], sort_keys=True)
        out.add(
            (
                r["url"],
                r["final_url"],
                r["status"],
                r["category"],
                diagnosis,
                r["error"],
                referrers,
                redirects,
            )
        )
    return out


def served(server: NginxServer, start: int = 0, end: int | None = None) -> set[tuple[str, str]]:
    """Requests served between two points of the access log, without the soft-404 probes (a random path
    each run)."""
    entries = server.access_log_entries()[start:end]
    return {(e.method, e.uri) for e in entries if not e.uri.startswith(PROBE_PREFIX)}


def retried(server: NginxServer) -> set[str]:
    """Paths whose answer is worth another attempt (a 500): one between two attempts when the check died
    is not done, and the resumed run makes its attempts again."""
    return {e.uri for e in server.access_log_entries() if e.status in RETRIED_STATUSES}


def scan_key(log: Path, process: subprocess.Popen[bytes]) -> str:
    """The scan key a distributed check prints on stderr when it starts."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while time.monotonic() < deadline:
        found = SCAN_LINE.search(log.read_text(errors="replace"))
        if found:
            assert found.group(1) == found.group(2)
            return found.group(1)
        assert process.poll() is None, f"check ended before it started its scan: {log.read_text()}"
        time.sleep(0.05)
    pytest.fail(f"check never printed its scan key: {log.read_text()}")


def wait_for_pages(redis: Any, key: str, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while redis.hlen(f"linkdoctor:scan:{key}:pages") < count:
        assert time.monotonic() < deadline, "the workers never stored enough pages in Redis"
        assert process.poll() is None, "the check ended before it could be stopped"
        time.sleep(0.02)


def started_check(
    redis_url: str, site_url: str, redis: Any, log: Path, *options: str
) -> tuple[subprocess.Popen[bytes], str]:
    """A distributed ``check`` of the site and its scan key, once its workers stored KILL_AFTER_PAGES pages
    (killed when it gets no further)."""
    process = linkdoctor("check", "--broker", redis_url, site_url, *options, log=log)
    try:
        key = scan_key(log, process)
        wait_for_pages(redis, key, KILL_AFTER_PAGES, process)
    except BaseException:
        process.kill()
        process.wait(timeout=30)
        raise
    return process, key


def stored_paths(redis: Any, key: str) -> set[str]:
    """The paths of the pages the workers stored for ``key`` so far."""
    paths = set()
    for page in redis.hvals(f"linkdoctor:scan:{key}:pages"):
        url = urlsplit(json.loads(page)["result"]["url"])
        paths.add(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def scan_keys(redis: Any, key: str) -> list[bytes]:
    return list(redis.scan_iter(match=f"linkdoctor:scan:{key}:*"))


def resume_check(
    redis_url: str, site_url: str, key: str, tmp_path: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    """``check --resume KEY`` of the site writing ``resumed.json``: the process, and its log."""
    log = tmp_path / "second.log"
    options = ("--resume", key, "--format", f"json-v1:{tmp_path / 'resumed.json'}")
    return linkdoctor("check", "--broker", redis_url, site_url, *options, log=log), log


def in_process(url: str, tmp_path: Path) -> tuple[int, set[Row]]:
    """The exit code and result set of the same check in one process."""
    log = tmp_path / "local.log"
    code = finish(linkdoctor("check", url, "--format", f"json-v1:{tmp_path / 'local.json'}", log=log), log)
    return code, rows(tmp_path / "local.json")


def test_kill_9_of_the_check_then_resume_gives_the_in_process_results_without_fetching_stored_pages(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    start_worker: StartWorker,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    site, nginx = logged_site
    start_worker("db@test")  # has a database, yet stores in Redis for a check that has none
    plain_worker("plain@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)
    before = len(nginx.access_log_entries())
    in_process_requests = served(nginx)

    first_log = tmp_path / "first.log"
    first, key = started_check(
        redis_server.url, site.base_url, redis, first_log, "--format", f"json-v1:{tmp_path / 'first.json'}"
    )
    try:
        os.kill(first.pid, signal.SIGKILL)
        stored_at_kill = stored_paths(redis, key)
    finally:
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert not (tmp_path / "first.json").exists()  # no half-written report

    resume_at = len(nginx.access_log_entries())
    stored_at_resume = stored_paths(redis, key)
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    code = finish(second, second_log)

    assert code == expected_code, second_log.read_text()
    assert f"scan {key}; resume with --resume {key}" in second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected
    fetched = served(nginx, before)
    fetched_before_resume = served(nginx, before, resume_at)
    fetched_after_resume = served(nginx, resume_at)
    excused = retried(nginx) | chain_ends(site, stored_at_resume)
    assert KILL_AFTER_PAGES <= len(stored_at_kill) < len(in_process_requests)  # killed well before the end
    assert fetched == in_process_requests  # nothing missed, nothing extra
    assert fetched_after_resume  # the resumed run had work left
    # What the workers had stored before the kill was replayed, not fetched again.
    again = {uri for _method, uri in fetched_after_resume} & stored_at_kill
    assert again <= excused
    assert fetched_before_resume & fetched_after_resume <= {
        (m, u) for m, u in fetched_after_resume if u in excused
    }
    # A finished scan leaves nothing behind: no key, not counted as running.
    assert scan_keys(redis, key) == []
    assert redis.zscore("linkdoctor:scans:live", key) is None


def test_sigterm_writes_a_partial_report_and_keeps_the_scan_resumable(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    site, nginx = logged_site
    plain_worker("p1@test")
    plain_worker("p2@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)

    log = tmp_path / "first.log"
    report = tmp_path / "partial.json"
    first, key = started_check(redis_server.url, site.base_url, redis, log, "--format", f"json-v1:{report}")
    os.kill(first.pid, signal.SIGTERM)
    code = finish(first, log, STOP_TIMEOUT_S)

    assert code == 128 + signal.SIGTERM, log.read_text()
    stderr = log.read_text()
    assert "interrupted by SIGTERM" in stderr and f"--resume {key}" in stderr
    summary = json.loads(report.read_text())["summary"]
    interrupted = summary["left_out"][0]
    assert interrupted["code"] == "crawl.interrupted"
    assert interrupted["count"] > 0
    assert any(f"--resume {key}" in warning for warning in summary["warnings"])
    partial = rows(report)
    assert 0 < len(partial) < len(expected)
    assert {(r[0], r[2]) for r in partial} <= {(r[0], r[2]) for r in expected}  # what was done, as checked
    # The scan's keys stay for --resume; it no longer counts as running.
    assert redis.exists(f"linkdoctor:scan:{key}:record")
    assert redis.hlen(f"linkdoctor:scan:{key}:pages") >= KILL_AFTER_PAGES
    assert redis.zscore("linkdoctor:scans:live", key) is None

    # Another site under the same key is refused: the stored pages belong to the first command.
    other_log = tmp_path / "other.log"
    other = linkdoctor(
        "check", "--broker", redis_server.url, site.url("/other/"), "--resume", key, log=other_log
    )
    assert finish(other, other_log) == 3
    assert other_log.read_text().strip() == (
        f"linkdoctor: error: --resume {key}: that scan checked other inputs or settings; repeat its first "
        f"command with --resume {key}"
    )

    stored = stored_paths(redis, key)
    resume_at = len(nginx.access_log_entries())
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected
    again = {uri for _method, uri in served(nginx, resume_at)} & stored
    assert again <= retried(nginx)
    assert scan_keys(redis, key) == []


def test_a_second_signal_stops_at_once_without_a_report_and_keeps_the_scan(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    site, _nginx = logged_site
    worker = plain_worker("p1@test")
    redis = redis_server.client()
    log = tmp_path / "first.log"
    report = tmp_path / "report.json"
    first, key = started_check(redis_server.url, site.base_url, redis, log, "--format", f"json-v1:{report}")
    os.kill(worker.process.pid, signal.SIGSTOP)  # the fetches in flight cannot finish
    try:
        os.kill(first.pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while "stopping scan" not in log.read_text():
            assert time.monotonic() < deadline and first.poll() is None, log.read_text()
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGINT)
        code = finish(first, log, STOP_TIMEOUT_S)
    finally:
        os.kill(worker.process.pid, signal.SIGCONT)

    assert code == 128 + signal.SIGINT, log.read_text()
    assert not report.exists()
    assert log.read_text().splitlines()[-1] == (
        "linkdoctor: error: stopped by a second SIGINT before the fetches in flight were done: no report "
        f"written; resume with --resume {key}"
    )
    assert redis.exists(f"linkdoctor:scan:{key}:record")
    assert redis.hlen(f"linkdoctor:scan:{key}:pages") >= KILL_AFTER_PAGES


def test_a_signal_during_a_broker_outage_stops_at_once_and_the_resume_finishes_the_scan(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """Ctrl-C while Redis is frozen: the checks in flight cannot finish and the crawl's state cannot be
    written, so the check stops within seconds, not after the 40 s outage grace (its loop, blocked on a
    synchronous Redis call, handled no signal before), says how to resume, and the resume loses nothing."""
    site, _nginx = logged_site
    plain_worker("o1@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)
    log = tmp_path / "first.log"
    report = tmp_path / "first.json"
    first, key = started_check(redis_server.url, site.base_url, redis, log, "--format", f"json-v1:{report}")
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        time.sleep(3.0)  # the check meets the outage
        os.kill(first.pid, signal.SIGINT)
        signalled = time.monotonic()
        code = finish(first, log, STOP_TIMEOUT_S)
        stopped_after = time.monotonic() - signalled
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)

    assert code == 128 + signal.SIGINT, log.read_text()
    # Without waiting out the 40 s grace: the stop itself within a socket timeout (5 s), then the steps that
    # end the scan give up on Redis after one more each.
    assert stopped_after < 30.0, log.read_text()
    assert not report.exists()
    last = log.read_text().splitlines()[-1]
    assert re.fullmatch(
        rf"linkdoctor: error: stopped by SIGINT while the (crawl's Redis|broker) was out of reach: no report "
        rf"written; resume with --resume {key}",
        last,
    ), last
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected


@pytest.mark.parametrize(
    ("with_broker", "message"),
    [
        pytest.param(
            True,
            "linkdoctor: error: --resume cli-0123456789abcdef: no such scan on the broker (unknown, "
            "finished, its keys expired after 21600 s, or lost when the broker restarted without persistence)",
            id="unknown-key",
        ),
        pytest.param(
            None,
            "linkdoctor: error: cannot reach the broker: Error 111 connecting to 127.0.0.1:{port}. Connection "
            "refused.",
            id="broker-down",
        ),
        pytest.param(
            False,
            "linkdoctor: error: --resume needs --broker: only a distributed check can be resumed",
            id="no-broker",
        ),
    ],
)
def test_a_bad_resume_is_one_line_and_exit_3(
    redis_server: RedisServer, tmp_path: Path, with_broker: bool | None, message: str
) -> None:
    """``with_broker`` None: a broker nobody listens on (a Redis restarting), one line and exit 1."""
    port = free_port()
    broker = {
        True: ["--broker", redis_server.url],
        False: [],
        None: ["--broker", f"redis://127.0.0.1:{port}/0"],
    }
    log = tmp_path / "check.log"
    process = linkdoctor(
        "check", *broker[with_broker], "http://127.0.0.1:9/", "--resume", "cli-0123456789abcdef", log=log
    )
    assert finish(process, log, 60) == (1 if with_broker is None else 3)
    assert log.read_text().strip() == message.format(port=port)


def test_a_signal_while_a_resume_waits_for_the_killed_check_stops_it_resumably(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """The resume waits up to 30 s for the killed coordinator to count as dead; SIGINT or SIGTERM meanwhile
    ends it like any interrupt of a distributed check: 128+signal, one line naming --resume, nothing lost."""
    site, _nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    log = tmp_path / "first.log"
    first, key = started_check(redis_server.url, site.base_url, redis, log)
    try:
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    record = redis.get(f"linkdoctor:scan:{key}:record")
    beat = redis.zscore("linkdoctor:scans:live", key)
    claim = redis.get(f"linkdoctor:scan:{key}:owner")
    assert record is not None and beat is not None and claim is not None

    for signum in (signal.SIGINT, signal.SIGTERM):
        stored = redis.hlen(f"linkdoctor:scan:{key}:pages")
        resume_log = tmp_path / f"resume-{signum}.log"
        resume = linkdoctor(
            "check", "--broker", redis_server.url, site.base_url, "--resume", key,
            "--format", f"json-v1:{tmp_path / 'resumed.json'}", log=resume_log,
        )  # fmt: skip
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while "for it to count as dead" not in resume_log.read_text():
            assert time.monotonic() < deadline and resume.poll() is None, resume_log.read_text()
            time.sleep(0.05)
        os.kill(resume.pid, signum)
        assert finish(resume, resume_log, STOP_TIMEOUT_S) == 128 + signum, resume_log.read_text()
        name = signal.Signals(signum).name
        lines = resume_log.read_text().splitlines()
        assert lines[-1] == (
            f"linkdoctor: error: stopped by {name} while waiting for the scan's earlier coordinator: nothing "
            f"changed; resume with --resume {key}"
        )
        assert len(lines) == 2, lines  # the wait's warning, and that line
        assert not (tmp_path / "resumed.json").exists()
        # Nothing lost or changed: the record, the stored pages, the dead coordinator's last beat and claim.
        assert redis.get(f"linkdoctor:scan:{key}:record") == record
        assert redis.hlen(f"linkdoctor:scan:{key}:pages") >= stored  # the workers finish its batches
        assert redis.zscore("linkdoctor:scans:live", key) == beat
        assert redis.get(f"linkdoctor:scan:{key}:owner") in (claim, None)  # the dead check's, or lapsed


def blocked_check(redis_url: str, site_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A distributed ``check`` writing its JSON report to a pipe nobody reads (more than a pipe holds), and
    its scan key, once the report has begun: the crawl is over, and the check is blocked on its report."""
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "linkdoctor", "check", "--broker", redis_url, site_url, "--format", "json-v1"],
            stdout=subprocess.PIPE, stderr=err, start_new_session=True,
        )  # fmt: skip
    try:
        key = scan_key(log, process)
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], RUN_TIMEOUT_S)
        assert readable and process.poll() is None, log.read_text()
    except BaseException:
        process.kill()
        process.wait(timeout=30)
        raise
    return process, key


def refused_resume(redis_url: str, site_url: str, key: str, tmp_path: Path) -> None:
    """A ``--resume`` of a scan whose check still writes its report is refused: it would clear the crawl
    state the report is read from (and the check would then forget the resumed scan's keys)."""
    log = tmp_path / "refused.log"
    process = linkdoctor("check", "--broker", redis_url, site_url, "--resume", key, log=log)
    assert finish(process, log) == 3, log.read_text()
    assert log.read_text().strip().splitlines()[-1] == (
        f"linkdoctor: error: --resume {key}: the scan is running (its coordinator is alive)"
    )


def test_a_check_killed_while_writing_its_report_can_still_resume(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """The scan's stored pages are forgotten only once its report is written: a ``check`` blocked on its
    report holds the scan (a ``--resume`` is refused); killed there, it resumes, once its beat is stale, by
    replaying every page and fetching none but a page stored only as a redirect chain's last hop, which the
    replay may meet before the chain (:func:`chain_ends`)."""
    site, nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)
    assert (tmp_path / "local.json").stat().st_size > 4 * 65536  # more than a pipe holds

    first, key = blocked_check(redis_server.url, site.base_url, tmp_path / "first.log")
    try:
        refused_resume(redis_server.url, site.base_url, key, tmp_path)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
        assert first.stdout is not None
        first.stdout.close()
    assert redis.exists(f"linkdoctor:scan:{key}:record")

    resume_at = len(nginx.access_log_entries())
    excused = retried(nginx) | chain_ends(site, stored_paths(redis, key))
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert "waiting" in second_log.read_text()  # for the killed check's beat to go stale
    assert rows(tmp_path / "resumed.json") == expected
    assert {uri for _method, uri in served(nginx, resume_at)} <= excused  # all replayed
    assert scan_keys(redis, key) == []


def test_a_resume_while_the_check_writes_its_report_is_refused_and_the_check_finishes(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """The check blocked on its report keeps its scan live; a ``--resume`` meanwhile is refused, and the
    check, read at last, writes the whole report, then forgets the scan."""
    site, _nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)

    log = tmp_path / "first.log"
    first, key = blocked_check(redis_server.url, site.base_url, log)
    try:
        refused_resume(redis_server.url, site.base_url, key, tmp_path)
        assert redis.zscore("linkdoctor:scans:live", key) is not None  # still running: writing its report
        out, _err = first.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    assert first.returncode == expected_code, log.read_text()
    (tmp_path / "first.json").write_bytes(out)
    assert rows(tmp_path / "first.json") == expected
    assert scan_keys(redis, key) == []
    assert redis.zscore("linkdoctor:scans:live", key) is None


def test_a_check_frozen_while_a_resume_took_its_scan_over_stops_and_the_resume_finishes(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """Two coordinators never run one scan: a ``check`` frozen (SIGSTOP) past 30 s counts as dead, a
    ``--resume`` takes the scan over, and the thawed ``check`` stops at its next beat, touching nothing."""
    site, _nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)
    first_log = tmp_path / "first.log"
    first, key = started_check(
        redis_server.url, site.base_url, redis, first_log, "--format", f"json-v1:{tmp_path / 'first.json'}"
    )
    try:
        os.kill(first.pid, signal.SIGSTOP)
        second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while f"scan {key}; resume with" not in second_log.read_text():  # it took the scan over
            assert time.monotonic() < deadline and second.poll() is None, second_log.read_text()
            time.sleep(0.1)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert finish(first, first_log, STOP_TIMEOUT_S) == 1, first_log.read_text()
    last = first_log.read_text().splitlines()[-1]
    assert last.startswith(f"linkdoctor: error: scan {key}: another coordinator took it over"), last
    assert "--resume" not in last  # the other coordinator runs it: no resume to give
    assert not (tmp_path / "first.json").exists()
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected
    assert scan_keys(redis, key) == []


async def test_the_scan_key_is_announced_only_once_the_scan_is_live(
    logged_site: LoggedSite, redis_server: RedisServer, plain_worker: Callable[[str], Worker]
) -> None:
    """Whoever reads the announced key (a user, or a test waiting for the crawl to leave the live scans)
    finds the scan live: announced before its coordinator's first beat, it looked finished for a moment."""
    site, _nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    seen: list[float | None] = []

    def announce(scan: str) -> None:
        seen.append(redis.zscore("linkdoctor:scans:live", scan))

    settings = BrokerSettings(redis_server.url)
    config = CheckConfig(retries=0, depth=0)
    report = await check_distributed(config, collect_inputs([site.base_url]), settings, announce=announce)

    assert report.summary.pages_crawled == 1
    assert len(seen) == 1 and seen[0] is not None


async def test_a_held_scan_beats_from_the_end_of_its_crawl(
    logged_site: LoggedSite, redis_server: RedisServer, plain_worker: Callable[[str], Worker]
) -> None:
    """A check holds its scan from the moment its crawl ends, whatever comes before its report (``--diagnose``
    examines the failures first, for seconds): the scan beats on though its coordinator stopped."""
    site, _nginx = logged_site
    plain_worker("p1@test")
    redis = redis_server.client()
    settings = BrokerSettings(redis_server.url)
    with HeldScan(settings, new_scan_key(), interval=0.05) as held:
        inputs = collect_inputs([site.base_url])
        await check_distributed(CheckConfig(retries=0, depth=0), inputs, settings, scan=held.scan, held=held)
        beat = redis.zscore("linkdoctor:scans:live", held.scan)
        assert beat is not None and redis.get(f"linkdoctor:scan:{held.scan}:owner") == held.owner.encode()
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while redis.zscore("linkdoctor:scans:live", held.scan) == beat:
            assert time.monotonic() < deadline, "the held scan never beat"
            await asyncio.sleep(0.02)
        assert await held.forget()
    assert scan_keys(redis, held.scan) == []


@pytest.mark.parametrize("lost", ["state", "scan"])
def test_a_check_that_loses_its_crawl_state_says_how_to_resume_and_the_resume_finishes_it(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
    lost: str,
) -> None:
    """Redis evicted the crawl's state mid-scan (as ``maxmemory`` with an eviction policy may): the check
    stops resumably, as it does when the broker stays away past its grace, and its last line says how to go
    on; the scan's record and stored pages are kept, so ``--resume`` gives the in-process result set. Redis
    lost the whole scan (flushed, or restarted without persistence): no resume is offered."""
    site, _nginx = logged_site
    plain_worker("e1@test")
    redis = redis_server.client()
    expected_code, expected = in_process(site.base_url, tmp_path)

    log = tmp_path / "first.log"
    first, key = started_check(
        redis_server.url, site.base_url, redis, log, "--format", f"json-v1:{tmp_path / 'first.json'}"
    )
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while not (state := list(redis.scan_iter(match=f"linkdoctor:scan:{key}:state:*"))):  # its first write
        assert time.monotonic() < deadline and first.poll() is None, log.read_text()
        time.sleep(0.01)
    redis.delete(*(state if lost == "state" else redis.scan_iter(match=f"linkdoctor:scan:{key}:*")))
    code = finish(first, log, STOP_TIMEOUT_S)

    assert code == 1, log.read_text()
    assert not (tmp_path / "first.json").exists()
    last = log.read_text().splitlines()[-1]
    if lost == "scan":
        assert "--resume" not in last, last
        return
    assert last.startswith("linkdoctor: error: the crawl's state in Redis is gone"), last
    assert last.endswith(f"; the scan is kept: resume with --resume {key}"), last

    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected


# ``linkdoctor`` (argv after the Redis URL) whose crawl state is evicted as the reports start to read it.
def failed_check(
    script: list[str],
    broker: str,
    url: str,
    tmp_path: Path,
    *,
    fmt: str = "json-v1",
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """``check --broker`` of ``url`` writing ``first.json`` in ``fmt``, run by ``script`` (its code, then
    its arguments: it patches linkdoctor, then calls its main), failing with exit 1 and one line, no
    traceback: the scan key it announced, and that last line."""
    log = tmp_path / "first.log"
    with log.open("wb") as err:
        first = subprocess.run(
            [sys.executable, "-c", *script, "check", "--broker", broker, url,
             "--format", f"{fmt}:{tmp_path / 'first.json'}"],
            stdout=subprocess.DEVNULL, stderr=err, timeout=RUN_TIMEOUT_S, check=False,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    text = log.read_text()
    announced = SCAN_LINE.search(text)
    assert announced is not None, text
    assert first.returncode == 1, text
    assert "Traceback" not in text, text
    return announced.group(1), text.splitlines()[-1]


EVICTED_AT_REPORT = """
import contextlib, sys
import redis
import linkdoctor.cli.check as check
from linkdoctor.cli import main

client = redis.Redis.from_url(sys.argv.pop(1))
reports = check.fewer_collections

@contextlib.contextmanager
def evicted():
    client.delete(*client.scan_iter(match="linkdoctor:scan:*:state:*"))
    with reports():
        yield

check.fewer_collections = evicted
main()
"""


def test_a_crawl_state_lost_while_the_report_is_written_says_how_to_resume(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
) -> None:
    """The reports read their results from the crawl state in Redis: lost then, the scan's pages are still
    kept (it is forgotten only once its reports are written), so the last line names ``--resume``."""
    site, _nginx = logged_site
    plain_worker("r1@test")
    expected_code, expected = in_process(site.base_url, tmp_path)
    key, last = failed_check([EVICTED_AT_REPORT, redis_server.url], redis_server.url, site.base_url, tmp_path)
    assert last.startswith("linkdoctor: error: the crawl's state in Redis is gone"), last
    assert last.endswith(f"; the scan is kept: resume with --resume {key}"), last
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected


SCRATCH_FULL = """
import sqlite3
from linkdoctor.cli import main

connect = sqlite3.connect

def small(database, *args, **kwargs):  # the reports' scratch databases fill up at once, as on a full disk
    db = connect(database, *args, **kwargs)
    if database == "":
        db.execute("PRAGMA max_page_count = 8")
    return db

sqlite3.connect = small
main()
"""


@pytest.mark.parametrize("fmt", ["json", "jsonl"])  # jsonl streams: the summary line is what fills it
def test_a_full_scratch_disk_while_the_report_is_written_says_where_and_how_to_resume(
    logged_site: LoggedSite,
    redis_server: RedisServer,
    plain_worker: Callable[[str], Worker],
    tmp_path: Path,
    fmt: str,
) -> None:
    """The reports index a distributed check's results in scratch databases on disk: full, the run ends
    with one line naming the directory, what to do and ``--resume`` (not a traceback), the report's file is
    left as it was, and the resume finishes the scan."""
    site, _nginx = logged_site
    plain_worker("r1@test")
    expected_code, expected = in_process(site.base_url, tmp_path)
    key, last = failed_check(
        [SCRATCH_FULL], redis_server.url, site.base_url, tmp_path, fmt=fmt, env={"TMPDIR": str(tmp_path)}
    )
    assert last.startswith(
        f"linkdoctor: error: the report's scratch space in {tmp_path} is full (database or disk is full): "
        "free space there, or set TMPDIR to a directory on a disk with room; "
    ), last
    assert last.endswith(f"; the scan is kept: resume with --resume {key}"), last
    assert not (tmp_path / "first.json").exists()
    second, second_log = resume_check(redis_server.url, site.base_url, key, tmp_path)
    assert finish(second, second_log) == expected_code, second_log.read_text()
    assert rows(tmp_path / "resumed.json") == expected
