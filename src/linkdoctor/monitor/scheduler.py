"""The scheduler tick and the running of scans, with leases so every due scan runs exactly once, across
restarts and across several ``serve`` processes on one database.

A running scan holds its lease with a heartbeat (every quarter lease) and saves a checkpoint of its progress
at a bounded interval (:mod:`~linkdoctor.monitor.checkpoints`), so when its process dies the scan is claimed
again once the short lease runs out, is charged what the dead run checked, and resumes from the checkpoint.

Each step that two processes could race on is a single compare-and-set ``UPDATE … WHERE`` whose row count
says who won: moving a site's ``next_run_at`` (only the winner queues the scan) and claiming a scan (only
the winner runs it, holding a lease it renews while it runs). A scan whose lease ran out — its process was
killed — is claimed again and resumes from its last committed frontier; after ``MAX_INTERRUPTIONS`` in a row with no
checkpoint in between it is marked failed instead. A scan whose page source went out of reach (:class:`FetchInterrupted`: the broker of
a distributed scan was lost) is put back as partial with its frontier, and a later tick resumes it.

A fleet (``serve --broker``) ticks with :func:`dispatch_due_scans` instead of :func:`run_due_scans`: it hands
every scan that can run to the workers, and each worker claims and executes its scan with the functions
here, so the lease stays the one arbiter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy import func, or_, select, update

from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.frontier import Frontier
from linkdoctor.errors import LinkdoctorError
from linkdoctor.monitor import budget, checkpoints, finish, outbox, scans
from linkdoctor.monitor.certs import AddressGuard, CertExpiry
from linkdoctor.monitor.convert import scan_from_row, site_from_row
from linkdoctor.monitor.db import Sessions, rowcount
from linkdoctor.monitor.model import Budget, Scan, ScanState, SiteSpec
from linkdoctor.monitor.orm import ScanRow, ScanRunRow, SiteRow
from linkdoctor.monitor.scan import CheckpointPolicy, LeaseLost, ScanJob, ScanOutcome
from linkdoctor.monitor.scans import UNFINISHED, new_scan_row, scan_row
from linkdoctor.monitor.schedule import next_due

MAX_INTERRUPTIONS = 2
log = logging.getLogger("linkdoctor.monitor.scans")


class Leases(Sessions, Protocol):
    """What claiming a scan needs: the database and how long a claim lasts without a heartbeat."""

    @property
    def lease(self) -> timedelta: ...


class Runner(Leases, finish.Finishing, Protocol):
    """What running a scan needs: the above, the certificate expiry reader and the SSRF guard it probes
    through, and the runner of a scan job (in this process, a task queue, a test double)."""

    @property
    def certs(self) -> CertExpiry | None: ...

    @property
    def guard(self) -> AddressGuard | None: ...

    @property
    def checkpoint_policy(self) -> CheckpointPolicy: ...

    def run_job(self, job: ScanJob) -> ScanOutcome: ...


def run_scan(runner: Runner, scan_id: int, *, owner: str, turn: bool = True) -> Scan:
    """Run one scan now: claim it if it is queued, partial or abandoned (an expired lease), run it to
    completion, to the budget or (``turn``) to the end of its turn, and commit. A scan another owner holds
    is returned as it is."""
    if claim(runner, scan_id, owner, runner.now()):
        return execute(runner, scan_id, owner, turn=turn)
    with runner.session() as s:
        row = s.get(ScanRow, scan_id)
        if row is None:
            raise KeyError(f"no scan with id {scan_id}")
        if row.lease_owner == owner and row.state == ScanState.RUNNING.value:
            return execute(runner, scan_id, owner, turn=turn)
        return scan_from_row(row)


class ScanRefused(LinkdoctorError):
    """A scan asked for by hand that did not start, with the reason to show."""


class ScanBusy(ScanRefused):
    """The site's scan is running in another live process: never two overlapping scans of one site."""


class BudgetSpent(ScanRefused):
    """The site has no link checks left in its daily budget."""

    def __init__(self, message: str, budget: Budget) -> None:
        super().__init__(message)
        self.budget = budget


def scan_now(runner: Runner, site_id: int, *, owner: str) -> Scan:
    """A scan by hand (``linkdoctor sites scan``): queue one, or join the site's unfinished scan, and run it
    here to completion or to the budget. :class:`ScanBusy` when a live process is running it (a dead one's
    scan is taken over), :class:`BudgetSpent` when no check is left today; the scan then stays queued or
    partial for ``serve`` to resume."""
    queued = scans.request(runner, site_id)
    now = runner.now()
    with runner.session() as s:
        row = scan_row(s, queued.id)
        site = s.get(SiteRow, site_id)
        assert site is not None
        name, daily = site.name, site.budget
        holder, until, started = row.lease_owner, row.lease_expires_at, row.started_at
        running = row.state == ScanState.RUNNING.value
    if running and holder != owner and until is not None and until >= now:
        since = "" if started is None else f", started {started:%Y-%m-%d %H:%M} UTC"
        raise ScanBusy(
            f"scan #{queued.id} of {name} is already running (in {holder}{since}): not starting a second "
            f"one; `linkdoctor sites history {name}` shows it when it is done"
        )
    left = budget.of_site(runner, site_id, daily=daily, now=now)
    if left.spent:
        resets = "" if left.frees_at is None else f"; it resets at {left.frees_at:%Y-%m-%d %H:%M} UTC"
        raise BudgetSpent(
            f"{name} has spent its daily budget ({left.used} of {left.daily} link checks in the last 24 hours)"
            f"{resets}, and scan #{queued.id} ({queued.state.value}) continues then",
            left,
        )
    return run_scan(runner, queued.id, owner=owner, turn=False)  # someone waits for this one


def run_due_scans(runner: Runner, *, owner: str, now: datetime) -> list[int]:
    """The scheduler tick: queue the scans of due sites, then claim and run every scan that can run
    (queued, partial with budget left, or abandoned by a dead process). Returns the ids it ran."""
    outbox.deliver_due(runner, now)  # alerts whose delivery failed earlier
    queue_due_scans(runner, now)
    ran = []
    for scan_id in claimable_scans(runner, now):
        if claim(runner, scan_id, owner, now):
            execute(runner, scan_id, owner)
            ran.append(scan_id)
    return ran


def dispatch_due_scans(
    runner: outbox.Delivery, dispatch: Callable[[int], bool], *, now: datetime
) -> list[int]:
    """The scheduler tick of a fleet (``serve --broker``): queue the scans of due sites, then hand every scan
    that can run to ``dispatch`` instead of running it here, so as many scans run at once as there are
    workers to take them. The lease stays the arbiter: whoever runs a dispatched scan claims it first (see
    :func:`claim`), so a scan handed out twice still runs once. ``dispatch`` answers False for a scan it
    already handed out and that no one took yet. Returns the ids handed out now."""
    outbox.deliver_due(runner, now)
    queue_due_scans(runner, now)
    return [scan_id for scan_id in claimable_scans(runner, now) if dispatch(scan_id)]


def queue_due_scans(db: Sessions, now: datetime) -> None:
    """Queue a scan for every site that is due (unless it has an unfinished scan) and move its due time."""
    with db.session() as s:
        due = s.execute(
            select(SiteRow.id, SiteRow.next_run_at, SiteRow.every_seconds, SiteRow.cron).where(
                SiteRow.next_run_at.is_not(None), SiteRow.next_run_at <= now
            )
        ).all()
    for site_id, due_at, every_seconds, cron in due:
        every = None if every_seconds is None else timedelta(seconds=every_seconds)
        following = next_due(every, cron, now)
        with db.session() as s:
            moved = s.execute(
                update(SiteRow)
                .where(SiteRow.id == site_id, SiteRow.next_run_at == due_at)
                .values(next_run_at=following)
            )
            if rowcount(moved) != 1:
                continue  # another process queued this one
            unfinished = s.scalar(
                select(func.count())
                .select_from(ScanRow)
                .where(ScanRow.site_id == site_id, ScanRow.state.in_(UNFINISHED))
            )
            if not unfinished:
                s.add(new_scan_row(site_id, now))


def budget_left(db: Sessions, site_id: int, daily: int, now: datetime) -> int:
    """Link checks the site may still make: its daily budget less the checks of the last 24 hours."""
    return budget.of_site(db, site_id, daily=daily, now=now).left


def claimable_scans(db: Sessions, now: datetime) -> list[int]:
    """Queued scans, partial scans whose site has budget again, and running scans whose lease ran out."""
    with db.session() as s:
        rows = s.execute(
            select(ScanRow.id, ScanRow.state, ScanRow.site_id, SiteRow.budget)
            .join(SiteRow, SiteRow.id == ScanRow.site_id)
            .where(
                or_(
                    ScanRow.state.in_([ScanState.QUEUED.value, ScanState.PARTIAL.value]),
                    (ScanRow.state == ScanState.RUNNING.value) & (ScanRow.lease_expires_at < now),
                )
            )
            .order_by(ScanRow.id)
        ).all()
    return [
        scan_id
        for scan_id, state, site_id, budget in rows
        if state != ScanState.PARTIAL.value or budget_left(db, site_id, budget, now) > 0
    ]


def claim(monitor: Leases, scan_id: int, owner: str, now: datetime) -> bool:
    """Take the scan for ``owner`` (state running, lease until now + lease); False when someone else has it."""
    with monitor.session() as s:
        row = s.get(ScanRow, scan_id)
        if row is None:
            return False
        expired = (
            row.state == ScanState.RUNNING.value
            and row.lease_expires_at is not None
            and row.lease_expires_at < now
        )
        if row.state not in (ScanState.QUEUED.value, ScanState.PARTIAL.value) and not expired:
            return False
        taken = s.execute(
            update(ScanRow)
            .where(
                ScanRow.id == scan_id,
                ScanRow.state == row.state,
                ScanRow.lease_owner.is_(None)
                if row.lease_owner is None
                else ScanRow.lease_owner == row.lease_owner,
                ScanRow.runs == row.runs,
            )
            .values(
                state=ScanState.RUNNING.value,
                lease_owner=owner,
                lease_expires_at=now + monitor.lease,
                started_at=row.started_at or now,
                runs=row.runs + 1,
                interrupted=row.interrupted + (1 if expired else 0),
            )
        )
        return rowcount(taken) == 1


def renew(monitor: Leases, scan_id: int, owner: str) -> bool:
    with monitor.session() as s:
        done = s.execute(
            update(ScanRow)
            .where(
                ScanRow.id == scan_id, ScanRow.lease_owner == owner, ScanRow.state == ScanState.RUNNING.value
            )
            .values(lease_expires_at=monitor.now() + monitor.lease)
        )
        return rowcount(done) == 1


@contextmanager
def heartbeat(monitor: Leases, scan_id: int, owner: str) -> Iterator[None]:
    """Renew the lease every quarter lease while the body runs."""
    stop = threading.Event()
    interval = max(0.05, monitor.lease.total_seconds() / 4)

    def beat() -> None:
        while not stop.wait(interval):
            renew(monitor, scan_id, owner)

    thread = threading.Thread(target=beat, name=f"linkdoctor-lease-{scan_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def execute(monitor: Runner, scan_id: int, owner: str, *, turn: bool = True) -> Scan:
    """Run a scan this owner has claimed, and commit what it found (or its failure). With ``turn``, the run
    ends partial after the checkpoint policy's ``turn_seconds``, for a later tick to resume."""
    now = monitor.now()
    with monitor.session() as s:
        scan = s.get(ScanRow, scan_id)
        if scan is None or scan.lease_owner != owner or scan.state != ScanState.RUNNING.value:
            raise RuntimeError(f"scan {scan_id} is not claimed by {owner}")
        abandoned = scan.interrupted > MAX_INTERRUPTIONS
        site = s.get(SiteRow, scan.site_id)
        assert site is not None
        frontier = None if scan.frontier is None else Frontier.from_json(scan.frontier)
        run = ScanRunRow(scan_id=scan_id, site_id=site.id, owner=owner, started_at=now, checks=0)
        if not abandoned:
            s.add(run)
            s.flush()
        run_id = run.id
        runs = scan.runs
    if abandoned:  # outside the session above: SQLite allows one writing transaction at a time
        failed = finish.fail(monitor, scan_id, owner, "interrupted too often: the process running it stopped")
        _log_end(failed, site.name)
        return failed
    spec = site_from_row(site).spec
    left = budget_left(monitor, site.id, spec.budget, now)
    started = {"event": "scan.started", "scan_id": scan_id, "site": spec.name, "site_id": site.id}
    log.info(
        "scan %d of %s started (run %d, %d checks left today%s)",
        scan_id,
        spec.name,
        runs,
        left,
        ", resuming its saved frontier" if frontier is not None else "",
        extra=started | {"run": runs, "budget_left": left, "resumed": frontier is not None, "owner": owner},
    )
    policy = monitor.checkpoint_policy if turn else replace(monitor.checkpoint_policy, turn_seconds=None)
    result = _run(monitor, scan_id, owner, run_id, spec, frontier, left, now, policy)
    _log_end(result, spec.name)
    return result


def _run(
    monitor: Runner,
    scan_id: int,
    owner: str,
    run_id: int,
    spec: SiteSpec,
    frontier: Frontier | None,
    left: int,
    now: datetime,
    policy: CheckpointPolicy,
) -> Scan:
    job = ScanJob(
        spec=spec,
        budget=left,
        frontier=frontier,
        scan_id=scan_id,
        checkpoint=partial(checkpoints.save, monitor, scan_id, owner, run_id, lease=monitor.lease),
        policy=policy,
    )
    try:
        with heartbeat(monitor, scan_id, owner):
            outcome: ScanOutcome = monitor.run_job(job)
            if not outcome.partial and monitor.certs is not None:
                results = monitor.certs.attach(
                    outcome.results, site_url=spec.url, options=spec.options, now=now, guard=monitor.guard
                )
                outcome = replace(outcome, results=results)
    except LeaseLost:  # another process holds the scan now and writes its results
        with monitor.session() as s:
            return scan_from_row(scan_row(s, scan_id))
    except FetchInterrupted as exc:  # out of reach for now: resumable, not failed
        return finish.interrupt(monitor, scan_id, owner, str(exc), run_id=run_id)
    except Exception as exc:  # a bad config or a bug fails this scan, not the scheduler
        return finish.fail(monitor, scan_id, owner, f"{type(exc).__name__}: {exc}", run_id=run_id)
    return finish.commit(monitor, scan_id, owner, run_id, outcome)


def _log_end(scan: Scan, site: str) -> None:
    """One line per run's end: done, partial (its budget or its turn ran out) or failed, with the scan's counts."""
    c = scan.counts
    fields = {
        "event": f"scan.{scan.state.value}",
        "scan_id": scan.id,
        "site": site,
        "site_id": scan.site_id,
        "state": scan.state.value,
        "links": c.total,
        "ok": c.ok,
        "redirected": c.redirected,
        "broken": c.broken,
        "unverified": c.unverified,
        "excluded": c.excluded,
        "checks": scan.budget_used,
        "runs": scan.runs,
    }
    if scan.error:
        fields["error"] = scan.error
    level = logging.WARNING if scan.state is ScanState.FAILED else logging.INFO
    why = f": {scan.error}" if scan.error else ""
    log.log(
        level,
        "scan %d of %s %s: %d links, %d broken, %d checks%s",
        scan.id,
        site,
        scan.state.value,
        c.total,
        c.broken,
        scan.budget_used,
        why,
        extra=fields,
    )
