"""Committing a scan run: its results, counts (links, and unique problems), frontier and budget use in one
transaction, then the per-day counts, the problem streaks that drive alerts, the alert itself and
retention.

Certificates near expiry alert when they are new to the site (or newly expired) since its previous scan.

The transaction first checks that the caller still holds the scan's lease, so a process that lost its
lease (it stalled, another took the scan over) cannot write a second copy of the results. Text is made
storable on the way in (lone surrogates and NUL, which SQLite's and PostgreSQL's drivers refuse, are
written as ``\\xNN``), and a transaction that fails anyway fails the scan with the database's reason: a
scan is never left running.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from linkdoctor.models import CheckResult
from linkdoctor.monitor import alerts, checkpoints, grouping, outbox, scans, sites
from linkdoctor.monitor.certs import new_notices, notices
from linkdoctor.monitor.convert import result_row, scan_from_row, site_from_row
from linkdoctor.monitor.db import Sessions, rowcount
from linkdoctor.monitor.diff import compare_problems
from linkdoctor.monitor.model import CertificateNotice, Scan, ScanProblem, ScanState
from linkdoctor.monitor.orm import DailyCountRow, LinkStateRow, ResultRow, ScanRow, ScanRunRow, SiteRow
from linkdoctor.monitor.retention import prune
from linkdoctor.monitor.scan import ScanOutcome
from linkdoctor.problems import Problem, group_problems

_INSERT_BATCH = 500


class Finishing(outbox.Delivery, Protocol):
    """What finishing a scan needs beyond the database and the notifier: the dashboard link its alert
    carries and how many finished scans keep their raw results."""

    @property
    def dashboard_url(self) -> str | None: ...

    @property
    def keep_scans(self) -> int: ...


def commit(monitor: Finishing, scan_id: int, owner: str, run_id: int, outcome: ScanOutcome) -> Scan:
    """Store the run's outcome, then alert and prune; if storing fails, the scan fails with the reason."""
    try:
        result, news = _store(monitor, scan_id, owner, run_id, outcome)
    except Exception as exc:  # the driver or the database refused the results: say so on the scan
        return fail(monitor, scan_id, owner, f"could not store the results: {describe(exc)}", run_id=run_id)
    if result.state is ScanState.DONE:
        notify(monitor, result, news)
        prune(monitor, result.site_id, keep=monitor.keep_scans)
    return result


def _store(
    monitor: Finishing, scan_id: int, owner: str, run_id: int, outcome: ScanOutcome
) -> tuple[Scan, alerts.News]:
    now = monitor.now()
    news = alerts.News()
    with monitor.session() as s:
        scan = s.get(ScanRow, scan_id, with_for_update=True)
        assert scan is not None
        if scan.lease_owner != owner or scan.state != ScanState.RUNNING.value:
            return scan_from_row(scan), news  # the lease was lost: the new holder writes the results
        s.execute(delete(ResultRow).where(ResultRow.scan_id == scan_id))
        rows = [storable(result_row(scan_id, r)) for r in outcome.results]
        for start in range(0, len(rows), _INSERT_BATCH):
            s.execute(insert(ResultRow), rows[start : start + _INSERT_BATCH])
        summary = outcome.summary
        problems = tuple(group_problems(outcome.results))
        scan.problems = len(problems)
        scan.total, scan.ok, scan.redirected = summary.total, summary.ok, summary.redirected
        scan.broken, scan.excluded, scan.unverified = summary.broken, summary.excluded, summary.unverified
        checkpoints.charge(s, scan, run_id, outcome.checks)  # less what its checkpoints charged
        scan.frontier = None if outcome.frontier is None else storable(outcome.frontier.to_json())
        scan.state = ScanState.PARTIAL.value if outcome.partial else ScanState.DONE.value
        scan.error = storable("; ".join(outcome.warnings))
        scan.lease_owner = None
        scan.lease_expires_at = None
        s.execute(
            update(ScanRunRow).where(ScanRunRow.id == run_id).values(checks=outcome.checks, finished_at=now)
        )
        if not outcome.partial:
            scan.finished_at = now
            _count_day(s, scan, now)
            news = _news(s, scan, problems, outcome.results)
        return scan_from_row(scan), news


def storable(value: Any) -> Any:
    r"""``value`` (a column value: text, or JSON of lists and dicts) with every string made storable: lone
    surrogates (bytes a decoder kept with ``surrogateescape``) and NUL as ``\xNN``.

    >>> storable({"reason": "Not\x00Found\udcff", "n": [1, "ok"]})
    {'reason': 'Not\\x00Found\\xff', 'n': [1, 'ok']}
    """
    if isinstance(value, str):
        if value.isascii() and "\x00" not in value:
            return value
        try:
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    if isinstance(value, dict):
        return {key: storable(item) for key, item in value.items()}
    return value


def describe(exc: BaseException) -> str:
    """A short, storable reason for a failed transaction: the driver's own error when SQLAlchemy wraps one
    (its message, not the statement and its parameters)."""
    cause: BaseException = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    text = f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
    return str(storable(text[:500]))


def fail(monitor: Finishing, scan_id: int, owner: str, error: str, *, run_id: int | None = None) -> Scan:
    now = monitor.now()
    with monitor.session() as s:
        scan = s.get(ScanRow, scan_id, with_for_update=True)
        assert scan is not None
        if scan.lease_owner != owner:
            return scan_from_row(scan)
        scan.state = ScanState.FAILED.value
        scan.error = str(storable(error))[:2000]
        scan.finished_at = now
        scan.lease_owner = None
        scan.lease_expires_at = None
        if run_id is not None:
            s.execute(update(ScanRunRow).where(ScanRunRow.id == run_id).values(finished_at=now))
        result = scan_from_row(scan)
    notify(monitor, result, alerts.News())
    return result


def interrupt(db: Sessions, scan_id: int, owner: str, error: str, *, run_id: int | None = None) -> Scan:
    """Put a scan whose run could not go on back as partial, its saved frontier untouched, so a later tick
    resumes it; ``error`` says why it stopped."""
    now = db.now()
    with db.session() as s:
        scan = s.get(ScanRow, scan_id, with_for_update=True)
        assert scan is not None
        if scan.lease_owner != owner:
            return scan_from_row(scan)
        scan.state = ScanState.PARTIAL.value
        scan.error = f"interrupted, resumes on a later run: {error}"[:2000]
        scan.lease_owner = None
        scan.lease_expires_at = None
        if run_id is not None:
            s.execute(update(ScanRunRow).where(ScanRunRow.id == run_id).values(finished_at=now))
        return scan_from_row(scan)


def notify(monitor: Finishing, scan: Scan, news: alerts.News) -> None:
    """Send the scan's one alert. The ``alerted`` flag is set (compare-and-set) in the transaction that
    stores the alert in the outbox, so two processes that got here make one alert; a failed delivery is
    retried from the outbox (see :mod:`linkdoctor.monitor.outbox`)."""
    site = sites.get(monitor, scan.site_id)
    alert = alerts.compose(site, scan, news, dashboard_url=monitor.dashboard_url)
    if alert is None:
        return
    with monitor.session() as s:
        won = s.execute(
            update(ScanRow).where(ScanRow.id == scan.id, ScanRow.alerted.is_(False)).values(alerted=True)
        )
        if rowcount(won) != 1:
            return
        alert_id = outbox.enqueue(s, alert, monitor.now())
    outbox.deliver(monitor, alert_id)


def _new_certificates(s: Session, scan: ScanRow, results: tuple[CheckResult, ...]) -> list[CertificateNotice]:
    """This scan's certificate notices that the site's previous finished scan did not have."""
    current = notices((r.url, [[f.code, f.severity.value, f.summary] for f in r.findings]) for r in results)
    if not current:
        return []
    previous = scans.previous_done(s, scan.site_id, scan.id)
    return new_notices(current, [] if previous is None else scans.certificate_notices(s, previous))


def _count_day(s: Session, scan: ScanRow, now: datetime) -> None:
    day = now.date()
    row = s.get(DailyCountRow, (scan.site_id, day))
    if row is None:
        row = DailyCountRow(site_id=scan.site_id, day=day, scans=0)
        s.add(row)
    row.ok, row.redirected, row.broken, row.unverified = (
        scan.ok,
        scan.redirected,
        scan.broken,
        scan.unverified,
    )
    row.scans = (row.scans or 0) + 1


def _news(
    s: Session, scan: ScanRow, problems: tuple[Problem, ...], results: tuple[CheckResult, ...]
) -> alerts.News:
    """What the finished scan tells: its problems, how many are new since the previous finished scan,
    the problems that alert now or recovered, and the new certificate notices."""
    previous_id = scans.previous_done(s, scan.site_id, scan.id)
    previous = {} if previous_id is None else grouping.stored_keys(s, previous_id)
    current = grouping.summarize(scan.id, problems)
    new, _still, _gone = compare_problems(current.problems, previous)
    alerting, recovered = _update_streaks(s, scan.site_id, current.problems, previous)
    return alerts.News(
        problems=current,
        new=None if previous_id is None else len(new),
        alerting=alerting,
        recovered=recovered,
        certificates=tuple(_new_certificates(s, scan, results)),
    )


def _update_streaks(
    s: Session, site_id: int, problems: Sequence[ScanProblem], previous: Mapping[str, Sequence[int]]
) -> tuple[tuple[ScanProblem, ...], tuple[ScanProblem, ...]]:
    """Count consecutive scans per problem (its key in ``link_states.url``); return the problems that
    reach the site's threshold now, and those that had alerted and are gone (as the previous scan, whose
    :func:`~linkdoctor.monitor.grouping.stored_keys` are ``previous``, had them).

    Rows kept per link URL by earlier versions are read once: a problem without a row of its own takes
    the longest streak of its links' rows (and their ``alerted``), so an upgrade does not re-alert."""
    site = s.get(SiteRow, site_id)
    assert site is not None
    threshold = site_from_row(site).spec.alert_after
    states = {row.url: row for row in s.scalars(select(LinkStateRow).where(LinkStateRow.site_id == site_id))}
    alerting: list[ScanProblem] = []
    seen: set[str] = set()
    for problem in problems:
        seen.add(problem.key)
        state = states.get(problem.key)
        if state is None:
            links = [states[u] for u in {loc.link(problem.target) for loc in problem.found_on} if u in states]
            state = states[problem.key] = LinkStateRow(
                site_id=site_id,
                url=problem.key,
                broken_streak=max((r.broken_streak for r in links), default=0),
                alerted=any(r.alerted for r in links),
            )
            s.add(state)
        state.broken_streak += 1
        if state.broken_streak >= threshold and not state.alerted:
            state.alerted = True
            alerting.append(problem)
    recovered = []
    for key, state in states.items():
        if key in seen:
            continue
        if state.alerted and key in previous:
            recovered.append(key)
        s.delete(state)  # fixed, or gone from the site
    # One problem a key (results of one key with other statuses group apart), in the order of the states.
    gone = {p.key: p for p in grouping.views(grouping.problems_of(s, previous, recovered))}
    return tuple(alerting), tuple(gone[key] for key in recovered if key in gone)
