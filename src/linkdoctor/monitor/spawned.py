"""Scans run in a process of their own, spawned (never forked from the threaded server), so nothing a scan
does — a slow pattern, a parser stuck on a hostile page, a busy event loop — holds the ``serve`` process's
GIL or event loop: the dashboard, the API and ``/healthz`` keep answering, and SIGTERM stops ``serve`` at
once (:meth:`SpawnedScans.close` ends the running scans, which resume later from their last checkpoint).

:class:`SpawnedScans` is a monitor ``job_runner``: called with a :class:`~linkdoctor.monitor.scan.ScanJob`
in the scheduler's thread, it starts one child per scan and waits for its outcome. The child gets the job,
the SSRF guard and only the environment variables sites may name (:mod:`linkdoctor.monitor.envpolicy`),
and dies with its parent (``PR_SET_PDEATHSIG`` on Linux, and a watch on the parent's pid). A checkpoint
the running scan hands out (``ScanJob.checkpoint``) crosses back to the parent, which saves it and answers
whether the scan may go on.

>>> # runner = SpawnedScans(Spawner(make_local_runner, guard=guard, allow_env=EnvAllowlist()))
>>> # Monitor.open(db_url, job_runner=runner)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection

from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.monitor.envpolicy import EnvAllowlist
from linkdoctor.monitor.scan import Checkpoint, CheckpointSink, ScanJob, ScanOutcome, run_scan_job

log = logging.getLogger("linkdoctor.monitor")
JobRunner = Callable[[ScanJob], ScanOutcome]
# Builds, inside the child, the runner of the job from the child's (allowed) environment. It must pickle
# (a module-level function, or a functools.partial of one): it crosses to a spawned process.
RunnerFactory = Callable[[Mapping[str, str]], JobRunner]
POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 3.0
_PR_SET_PDEATHSIG = 1


class ScanStopped(FetchInterrupted):
    """The server stopped while the scan ran: it resumes from its last checkpoint on a later run."""


class ScanProcessDied(RuntimeError):
    """The scan's process ended without an outcome (killed, out of memory, a crash)."""


@dataclass(frozen=True, slots=True)
class LocalRunner:
    """The default factory's product: run the job in the child with the server's SSRF guard and rule."""

    guard: SSRFGuard | None
    allow_env: EnvAllowlist | None
    env: Mapping[str, str]

    def __call__(self, job: ScanJob) -> ScanOutcome:
        return run_scan_job(job, guard=self.guard, env=self.env, allow_env=self.allow_env)


@dataclass(frozen=True, slots=True)
class LocalRunnerFactory:
    """A :data:`RunnerFactory` for scans fetched by the child itself (no broker)."""

    guard: SSRFGuard | None = None
    allow_env: EnvAllowlist | None = None

    def __call__(self, env: Mapping[str, str]) -> JobRunner:
        return LocalRunner(self.guard, self.allow_env, env)


@dataclass
class SpawnedScans:
    """A job runner that runs each scan job in a spawned child process (see the module docstring).

    ``factory`` builds the child's runner; ``allow_env`` says which variables of ``env`` (default: this
    process's environment) the child gets, and refuses, before anything starts, a job naming another one.
    """

    factory: RunnerFactory = field(default_factory=LocalRunnerFactory)
    allow_env: EnvAllowlist = field(default_factory=EnvAllowlist)
    env: Mapping[str, str] | None = None
    _children: set[multiprocessing.process.BaseProcess] = field(default_factory=set, init=False, repr=False)
    _closing: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __call__(self, job: ScanJob) -> ScanOutcome:
        self.allow_env.check(job.spec)
        sink = job.checkpoint
        if sink is not None:  # the parent's sink stays here; the child gets a stand-in that asks it
            job = replace(job, checkpoint=None)
        environ = self.allow_env.environ(os.environ if self.env is None else self.env)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(
            target=child_main,
            args=(theirs, os.getpid(), self.factory, environ, job, sink is not None),
            name=f"linkdoctor-scan-{job.scan_id}",
            daemon=True,
        )
        with self._lock:
            if self._closing.is_set():
                raise ScanStopped("the server is stopping")
            child.start()
            self._children.add(child)
        theirs.close()
        try:
            return self._wait(child, ours, sink)
        finally:
            ours.close()
            child.join(STOP_GRACE_SECONDS if not self._closing.is_set() else 0)
            _end(child)
            with self._lock:
                self._children.discard(child)

    def close(self) -> None:
        """Stop every running scan (the server is stopping): their runs raise :class:`ScanStopped`."""
        self._closing.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            _end(child)

    def _wait(
        self, child: multiprocessing.process.BaseProcess, conn: Connection, sink: CheckpointSink | None
    ) -> ScanOutcome:
        while True:
            if self._closing.is_set():
                raise ScanStopped("the server stopped while the scan ran")
            try:
                if not conn.poll(POLL_SECONDS):
                    continue  # a dead child closes its end of the pipe: poll() then says so
                kind, payload = conn.recv()
            except (EOFError, OSError):
                if self._closing.is_set():
                    raise ScanStopped("the server stopped while the scan ran") from None
                child.join(STOP_GRACE_SECONDS)
                raise ScanProcessDied(f"the scan's process ended with exit code {child.exitcode}") from None
            if kind == "checkpoint":
                conn.send(bool(sink(payload)) if sink is not None else True)
            elif kind == "outcome":
                outcome: ScanOutcome = payload
                return outcome
            else:
                raise payload


def child_main(
    conn: Connection,
    parent: int,
    factory: RunnerFactory,
    env: dict[str, str],
    job: ScanJob,
    checkpoints: bool,
) -> None:
    """The child's entry point: run ``job`` with ``factory(env)`` and send back its outcome or error."""
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the parent's to handle
    if checkpoints:

        def ask_parent(checkpoint: Checkpoint) -> bool:
            conn.send(("checkpoint", checkpoint))
            return bool(conn.recv())

        job = replace(job, checkpoint=ask_parent)
    try:
        message: tuple[str, object] = ("outcome", factory(env)(job))
    except BaseException as exc:  # everything goes back to the parent, which raises it in its thread
        message = ("error", _portable(exc))
    with contextlib.suppress(OSError):
        conn.send(message)
    conn.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that names it."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
        if isinstance(copy, BaseException) and str(copy) == str(exc):
            return exc
    except Exception:  # an exception that does not pickle is named instead
        pass
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def _die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends, even by ``kill -9``: the kernel's parent-death signal on
    Linux, and a thread watching the parent's pid everywhere."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was set up
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="linkdoctor-parent-watch", daemon=True).start()


def _end(child: multiprocessing.process.BaseProcess) -> None:
    """SIGTERM, then SIGKILL after :data:`STOP_GRACE_SECONDS`, and reap it."""
    if child.is_alive():
        child.terminate()
        child.join(STOP_GRACE_SECONDS)
        if child.is_alive():
            child.kill()
    child.join(STOP_GRACE_SECONDS)
