"""The scan job: one site's settings, budget and saved frontier in; results, counts and (when the budget
ran out) the new frontier out. It touches no database, so a task queue can run it in another process.

While it runs, the job hands a :class:`Checkpoint` (the checks made so far and the frontier to resume from)
to the job's ``checkpoint`` sink every :class:`CheckpointPolicy` interval, by time and by count, so a run
killed mid-scan is charged what it checked and its successor re-fetches nothing that was saved. A sink that
answers False (the scan's lease was lost) stops the run with :class:`LeaseLost`.

>>> # outcome = run_scan_job(ScanJob(site_url="https://docs.example.org/", spec=spec, budget=1500))
>>> # outcome.partial, outcome.checks, len(outcome.results)
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from linkdoctor.config import CheckConfig, HostSettings, Secret
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.fetching import PageSource
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async, run_sync
from linkdoctor.errors import ConfigError
from linkdoctor.models import CheckResult, Summary
from linkdoctor.monitor.envpolicy import EnvAllowlist
from linkdoctor.monitor.model import DEFAULT_TURN_SECONDS, SiteSpec
from linkdoctor.patterns import PatternError, UserPattern, compile_pattern
from linkdoctor.urls import host_of


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """How often a running scan saves its progress: after ``every_checks`` new checks or ``every_seconds``
    seconds with new checks, whichever comes first (looked at every ``poll_seconds``), but spending at most
    ``max_share`` of the crawl's time on taking them: on a big site, where a frontier takes long to copy,
    checkpoints come further apart than ``every_checks`` (never further than ``every_seconds``).

    ``turn_seconds`` is how long one run of a scan may last before it gives way (None: no limit): it starts
    no more checks, finishes those it began (redirects, retries and probes included), and ends partial with
    its frontier; a later scheduler tick resumes it after the other scans that are due had their turn. A
    slow or hostile site cannot hold up every other site's scan.
    """

    every_seconds: float = 10.0
    every_checks: int = 250
    poll_seconds: float = 0.1
    max_share: float = 0.05
    turn_seconds: float | None = DEFAULT_TURN_SECONDS


DEFAULT_CHECKPOINT = CheckpointPolicy()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A running scan's progress: the link checks this run made so far (begun ones included) and the
    frontier to resume from (every resource not yet checked is pending in it)."""

    checks: int
    frontier: Frontier


# Saves a checkpoint; False when the run must stop (another process holds the scan now).
CheckpointSink = Callable[[Checkpoint], bool]


class LeaseLost(Exception):
    """The scan's lease went to another process while this run was going: it stopped, committing nothing."""


@dataclass(frozen=True, slots=True)
class ScanJob:
    """Everything a scan needs: the site's spec, the link checks it may still make today, and where the
    previous run of this scan stopped (None: start from the site's URL). ``checkpoint`` receives the run's
    progress every ``policy`` interval (None: nothing is saved before the end)."""

    spec: SiteSpec
    budget: int
    frontier: Frontier | None = None
    scan_id: int | None = None  # names the scan's work in a task queue (see linkdoctor.distributed)
    checkpoint: CheckpointSink | None = field(default=None, compare=False, repr=False)
    policy: CheckpointPolicy = DEFAULT_CHECKPOINT


@dataclass(frozen=True, slots=True)
class ScanOutcome:
    """What a run of a scan produced. ``frontier`` is set when the budget stopped it (a partial scan)."""

    results: tuple[CheckResult, ...]
    summary: Summary
    checks: int
    frontier: Frontier | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def partial(self) -> bool:
        return self.frontier is not None


def build_config(
    spec: SiteSpec, *, budget: int, env: Mapping[str, str], allow_env: EnvAllowlist | None = None
) -> CheckConfig:
    """The engine's config for a site: options, scope, client certificate and headers from the environment.

    ``allow_env`` (the server's rule) refuses a site that names a variable the operator did not allow, even
    one stored before the rule existed. Patterns are compiled for RE2 (:mod:`linkdoctor.patterns`). The
    headers and the client certificate (unless ``cert_hosts`` names hosts) go to the site's own host only,
    never to the other hosts its pages link to.
    """
    opts = spec.options
    if allow_env is not None:
        allow_env.check(spec)
    site_host = host_of(spec.url)
    headers: list[tuple[str, str | Secret]] = []
    for name, variable in opts.headers_env:
        value = env.get(variable)
        if value is None:
            raise ConfigError(f"header {name}: environment variable {variable} is not set")
        headers.append((name, Secret(value, variable)))
    cert = opts.client_cert()
    if cert is not None and not cert.hosts:
        cert = replace(cert, hosts=(site_host,))
    certs = () if cert is None else (cert.with_password_from(env, missing=_unset_key_password),)
    config = CheckConfig(
        depth=opts.depth,
        include=_patterns(opts.include),
        exclude=_patterns(opts.exclude),
        scope=_patterns(spec.scope),
        respect_robots=opts.respect_robots,
        check_fragments=opts.check_fragments,
        accept=frozenset(opts.accept),
        host_settings=(HostSettings((site_host,), headers=tuple(headers)),) if headers else (),
        client_certs=certs,
        cacert=Path(opts.cacert_path) if opts.cacert_path else None,
        max_checks=max(0, budget),
    )
    if opts.max_pages is not None:
        config = replace(config, max_pages=opts.max_pages)
    return config


def _patterns(texts: tuple[str, ...]) -> tuple[UserPattern, ...]:
    try:
        return tuple(compile_pattern(text) for text in texts)
    except PatternError as exc:  # stored before RE2 was the engine: the scan fails with the reason
        raise ConfigError(str(exc)) from None


def _unset_key_password(name: str) -> ConfigError:
    return ConfigError(f"client key password: environment variable {name} is not set")


async def run_scan_job_async(
    job: ScanJob,
    *,
    guard: SSRFGuard | None = None,
    env: Mapping[str, str] | None = None,
    pages: PageSource | None = None,
    allow_env: EnvAllowlist | None = None,
) -> ScanOutcome:
    """Run one piece of a scan within ``job.budget`` link checks (``guard``: the server mode's SSRF guard
    vets every connection; ``pages``: fetch elsewhere, e.g. on Celery workers; ``allow_env``: the variables
    a site may name, None for any)."""
    config = build_config(
        job.spec, budget=job.budget, env=os.environ if env is None else env, allow_env=allow_env
    )
    seen: list[Crawler] = []
    run = asyncio.current_task()
    assert run is not None
    lost: list[bool] = []

    def stop() -> None:
        lost.append(True)
        run.cancel()

    @asynccontextmanager
    async def capture(crawler: Crawler) -> AsyncIterator[None]:
        seen.append(crawler)
        turn = job.policy.turn_seconds
        ends = None if turn is None else asyncio.get_running_loop().call_later(turn, crawler.finish_started)
        saver = None
        if job.checkpoint is not None:
            saver = asyncio.create_task(save_progress(crawler, job.checkpoint, job.policy, stop))
        try:
            yield
        finally:
            if ends is not None:
                ends.cancel()
            if saver is not None:
                saver.cancel()
                await asyncio.gather(saver, return_exceptions=True)

    try:
        report = await check_async(
            config,
            collect_inputs([job.spec.url]),
            around=capture,
            resume=job.frontier,
            guard=guard,
            pages=pages,
        )
    except asyncio.CancelledError:
        if not lost:
            raise
        run.uncancel()
        raise LeaseLost("another process took the scan over; this run stopped") from None
    crawler = seen[0]
    frontier = crawler.frontier()
    return ScanOutcome(
        results=tuple(report.results),
        summary=report.summary,
        checks=crawler.checks,
        frontier=frontier if frontier.pending else None,
        warnings=report.summary.warnings,
    )


class Progressing(Protocol):
    """What checkpoints read of a running crawl (a :class:`~linkdoctor.engine.crawl.Crawler`)."""

    @property
    def checks(self) -> int: ...

    def frontier(self) -> Frontier: ...


async def save_progress(
    crawler: Progressing, sink: CheckpointSink, policy: CheckpointPolicy, stop: Callable[[], None]
) -> None:
    """Hand the sink a checkpoint every ``policy`` interval while the crawl makes checks. The frontier is
    taken on the crawl's loop (between two of its steps, so it is consistent); the sink runs in a thread."""
    saved_checks, saved_at, cost = 0, time.monotonic(), 0.0
    while True:
        await asyncio.sleep(policy.poll_seconds)
        checks, since = crawler.checks, time.monotonic() - saved_at
        if checks == saved_checks:
            continue
        if since < policy.every_seconds and (
            checks - saved_checks < policy.every_checks or since * policy.max_share < cost
        ):
            continue
        started = time.monotonic()
        checkpoint = Checkpoint(checks, crawler.frontier())
        cost = time.monotonic() - started  # the crawl waits for this copy; the sink runs beside it
        saved_checks, saved_at = checks, time.monotonic()
        if not await asyncio.to_thread(sink, checkpoint):
            stop()
            return


def run_scan_job(
    job: ScanJob,
    *,
    guard: SSRFGuard | None = None,
    env: Mapping[str, str] | None = None,
    allow_env: EnvAllowlist | None = None,
) -> ScanOutcome:
    """Synchronous :func:`run_scan_job_async` (a process of its own, or a task queue worker, runs it)."""
    return run_sync(run_scan_job_async(job, guard=guard, env=env, allow_env=allow_env))
