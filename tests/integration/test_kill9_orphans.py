"""``kill -9`` of ``serve`` or ``check`` mid-crawl leaves no process behind: the parser process ends with
its parent, holds none of its sockets, and a ``serve`` restarted on the same port at once comes up. A
distributed worker's pool processes end with their worker too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from harness.ports import free_port
from harness.redis import RedisServer
from tests.support.threaded_site import threaded_site

from linkdoctor.monitor.model import SiteSpec
from linkdoctor.monitor.service import Monitor

PAGE_DELAY = 0.05  # seconds per request, so the crawl is still running when it is killed
START_TIMEOUT = 30.0
PASSWORD = "correct horse battery"


class _SlowPages(BaseHTTPRequestHandler):
    """Page ``/N.html`` links to the next three pages, forever, each answer after a short delay."""

    def do_GET(self) -> None:
        time.sleep(PAGE_DELAY)
        stem = self.path.strip("/").removesuffix(".html")
        number = int(stem) if stem.isdigit() else 0
        links = "".join(f'<a href="/{n}.html">page {n}</a>\n' for n in range(number + 1, number + 4))
        body = f"<!doctype html><html><body>\n{links}</body></html>\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def slow_site() -> Iterator[str]:
    with threaded_site(_SlowPages) as base:
        yield base


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, None once it is gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = text.rpartition(")")[2].split()[:2]
    return None if state in ("Z", "X") else (int(ppid), state)


def descendants(root: int) -> set[int]:
    """Every live process below ``root``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def wait_for_child(process: subprocess.Popen[bytes], timeout: float = 60) -> set[int]:
    """Wait until ``process`` has a child (the parser process starts after 30 pages)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode} before starting a helper"
        if found := descendants(process.pid):
            return found
        time.sleep(0.1)
    raise AssertionError(f"no helper process within {timeout} s")


def assert_all_gone(pids: set[int], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while (alive := {pid for pid in pids if _stat(pid) is not None}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"orphans left behind: {alive}"


def kill_9(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "LINKDOCTOR_"))}
    return env | {"HOME": str(home), "LINKDOCTOR_ADMIN_PASSWORD": PASSWORD}


def start_serve(db_url: str, port: int, home: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "linkdoctor", "serve", "--port", str(port), "--db", db_url]
    command += ["--allow-private", "127.0.0.1/32", "--tick", "0.5", "--log-level", "warning"]
    return subprocess.Popen(
        command, env=_environment(home), cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_healthy(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"serve exited with {process.returncode}: {error}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"serve did not answer within {START_TIMEOUT} s")


@pytest.mark.slow
def test_kill_9_of_serve_mid_scan_leaves_no_orphan_and_the_port_is_free_at_once(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    with slow_site() as url:
        monitor = Monitor.open(db_url)
        try:
            monitor.request_scan(monitor.add_site(SiteSpec(name="slow", url=url, every=None)).id)
        finally:
            monitor.close()
        port = free_port()
        serve = start_serve(db_url, port, tmp_path)
        try:
            wait_healthy(serve, port)
            helpers = wait_for_child(serve)
            kill_9(serve)
            assert_all_gone(helpers)
            restarted = start_serve(db_url, port, tmp_path)
            try:
                wait_healthy(restarted, port)
            finally:
                restarted.terminate()
                restarted.wait(timeout=30)
        finally:
            if serve.poll() is None:
                kill_9(serve)


@pytest.mark.slow
def test_kill_9_of_check_mid_crawl_leaves_no_orphan(tmp_path: Path) -> None:
    with slow_site() as url:
        command = [sys.executable, "-m", "linkdoctor", "check", url, "--no-progress"]
        check = subprocess.Popen(
            command,
            env=_environment(tmp_path),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            helpers = wait_for_child(check)
        finally:
            kill_9(check)
        assert_all_gone(helpers)


@pytest.mark.slow
def test_kill_9_of_a_worker_leaves_no_pool_process(redis_server: RedisServer, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "linkdoctor",
        "worker",
        "--broker",
        redis_server.url,
        "--concurrency",
        "2",
    ]
    worker = subprocess.Popen(
        command,
        env=_environment(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(pool := descendants(worker.pid)) < 2 and time.monotonic() < deadline:
            assert worker.poll() is None, f"the worker exited with {worker.returncode}"
            time.sleep(0.1)
        assert len(pool) >= 2, "the worker started no pool processes"
    finally:
        kill_9(worker)
    assert_all_gone(pool, timeout=10)
