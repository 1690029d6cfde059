"""The scans store: scan rows (queue one, list, look up), their stored results and problems, the diff
against the previous finished scan, the certificate notices and the per-day history.

Running a scan is :mod:`linkdoctor.monitor.scheduler`'s (claiming, leases) and committing what it found
is :mod:`linkdoctor.monitor.finish`'s; :mod:`linkdoctor.monitor.scan` turns a site into a check. The
helpers those modules share, a new queued row and a scan's certificate notices, are here. A missing site
or scan is a ``KeyError``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, aliased

from linkdoctor.models import Category, Diagnosis
from linkdoctor.monitor import grouping
from linkdoctor.monitor.certs import notices
from linkdoctor.monitor.convert import scan_from_row, stored_result
from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.diff import compare, compare_problems
from linkdoctor.monitor.model import (
    CertificateNotice,
    DailyCount,
    DiffEntry,
    Scan,
    ScanDiff,
    ScanProblems,
    ScanState,
    StoredResult,
)
from linkdoctor.monitor.orm import DailyCountRow, ResultRow, ScanRow, SiteRow
from linkdoctor.monitor.sites import site_row

UNFINISHED = (ScanState.QUEUED.value, ScanState.RUNNING.value, ScanState.PARTIAL.value)


def request(db: Sessions, site_id: int) -> Scan:
    """Queue a scan now. A scan that is already queued, running or partial is returned instead."""
    with db.session() as s:
        # The site's row stays locked to the end of the transaction, so two requests at once (PostgreSQL
        # runs them side by side; SQLite one after the other) queue one scan, never two overlapping ones.
        if s.get(SiteRow, site_id, with_for_update=True) is None:
            raise KeyError(f"no site with id {site_id}")
        pending = s.scalar(
            select(ScanRow)
            .where(ScanRow.site_id == site_id, ScanRow.state.in_(UNFINISHED))
            .order_by(ScanRow.id)
            .limit(1)
        )
        if pending is not None:
            return scan_from_row(pending)
        row = new_scan_row(site_id, db.now())
        s.add(row)
        s.flush()
        return scan_from_row(row)


def of_site(db: Sessions, site_id: int, *, limit: int = 50) -> list[Scan]:
    """The site's newest ``limit`` scans, newest first."""
    with db.read() as s:
        site_row(s, site_id)
        rows = s.scalars(
            select(ScanRow).where(ScanRow.site_id == site_id).order_by(ScanRow.id.desc()).limit(limit)
        ).all()
        return [scan_from_row(r) for r in rows]


def get(db: Sessions, scan_id: int) -> Scan:
    with db.read() as s:
        return scan_from_row(scan_row(s, scan_id))


def results(
    db: Sessions,
    scan_id: int,
    *,
    category: str | None = None,
    code: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[StoredResult]:
    """Stored results of a scan by URL, filtered by category and/or diagnosis code."""
    with db.read() as s:
        scan_row(s, scan_id)
        query = select(ResultRow).where(ResultRow.scan_id == scan_id)
        if category is not None:
            query = query.where(ResultRow.category == category)
        if code is not None:
            query = query.where(ResultRow.diagnosis_code == code)
        query = query.order_by(ResultRow.url).limit(max(0, limit)).offset(max(0, offset))
        return [stored_result(r) for r in s.scalars(query).all()]


def diff(db: Sessions, scan_id: int) -> ScanDiff:
    """The scan against the site's previous finished (done) scan: its links, and its problems."""
    with db.read() as s:
        row = scan_row(s, scan_id)
        previous = previous_done(s, row.site_id, scan_id)
        current = _entries(s, scan_id, broken_in=previous)
        before = {} if previous is None else _entries(s, previous)
        certificates = certificate_notices(s, scan_id)
        now = grouping.scan_problems(s, scan_id)
        earlier = {} if previous is None else grouping.stored_keys(s, previous)
        new, still, gone = compare_problems(now.problems, earlier)
        fixed = grouping.views(grouping.problems_of(s, earlier, gone))
    return replace(
        compare(scan_id, previous, before, current),
        certificates=tuple(certificates),
        problems=now.counts.problems,
        headline=now.headline,
        new_problems=new,
        still_problems=still,
        fixed_problems=fixed,
    )


def problems(db: Sessions, scan_id: int) -> ScanProblems:
    """The scan's problems, grouped as the reports group them, most pages affected first."""
    with db.read() as s:
        scan_row(s, scan_id)
        return grouping.scan_problems(s, scan_id)


def certificates(db: Sessions, scan_id: int) -> list[CertificateNotice]:
    """The scan's server certificates near or past expiry, one per https origin, by origin."""
    with db.read() as s:
        scan_row(s, scan_id)
        return certificate_notices(s, scan_id)


def history(db: Sessions, site_id: int, *, days: int = 90) -> list[DailyCount]:
    """Per-day counts for the charts, oldest first (kept forever, unlike raw results)."""
    with db.read() as s:
        site_row(s, site_id)
        since: date = (db.now() - timedelta(days=days)).date()
        rows = s.scalars(
            select(DailyCountRow)
            .where(DailyCountRow.site_id == site_id, DailyCountRow.day > since)
            .order_by(DailyCountRow.day)
        ).all()
        return [DailyCount(r.day, r.ok, r.redirected, r.broken, r.unverified, r.scans) for r in rows]


def scan_row(s: Session, scan_id: int) -> ScanRow:
    """The scan's row in an open session; a ``KeyError`` when there is none."""
    row = s.get(ScanRow, scan_id)
    if row is None:
        raise KeyError(f"no scan with id {scan_id}")
    return row


def previous_done(s: Session, site_id: int, scan_id: int) -> int | None:
    """The id of the site's newest finished (done) scan before ``scan_id``, if any."""
    return s.scalar(
        select(ScanRow.id)
        .where(ScanRow.site_id == site_id, ScanRow.state == ScanState.DONE.value, ScanRow.id < scan_id)
        .order_by(ScanRow.id.desc())
        .limit(1)
    )


def certificate_notices(s: Session, scan_id: int) -> list[CertificateNotice]:
    """The certificate notices among a scan's stored https results."""
    rows = s.execute(
        select(ResultRow.url, ResultRow.findings).where(
            ResultRow.scan_id == scan_id, ResultRow.url.like("https://%")
        )
    ).all()
    return notices((url, findings) for url, findings in rows)


def new_scan_row(site_id: int, now: datetime) -> ScanRow:
    """A queued scan with nothing counted yet."""
    return ScanRow(
        site_id=site_id,
        state=ScanState.QUEUED.value,
        queued_at=now,
        total=0,
        ok=0,
        redirected=0,
        broken=0,
        excluded=0,
        unverified=0,
        budget_used=0,
        runs=0,
        interrupted=0,
        error="",
        alerted=False,
    )


def _entries(s: Session, scan_id: int, *, broken_in: int | None = None) -> dict[str, DiffEntry]:
    """The scan's links that :func:`~linkdoctor.monitor.diff.compare` can list: the broken and redirected
    ones, and those broken in the scan ``broken_in`` (fixed since, if not still broken). The rest, most of
    a site, would be read for nothing."""
    listed: ColumnElement[bool] = ResultRow.category.in_((Category.BROKEN.value, Category.REDIRECTED.value))
    if broken_in is not None:
        earlier = aliased(ResultRow)
        was_broken = select(earlier.url).where(
            earlier.scan_id == broken_in, earlier.category == Category.BROKEN.value
        )
        listed = or_(listed, ResultRow.url.in_(was_broken))
    rows = s.execute(
        select(
            ResultRow.url,
            ResultRow.category,
            ResultRow.status,
            ResultRow.final_url,
            ResultRow.diagnosis_code,
            ResultRow.diagnosis_summary,
            ResultRow.diagnosis_fix,
        ).where(ResultRow.scan_id == scan_id, listed)
    ).all()
    return {
        url: DiffEntry(
            url,
            Category(category),
            status,
            final_url,
            None if code is None else Diagnosis(code, summary, tuple(fix)),
        )
        for url, category, status, final_url, code, summary, fix in rows
    }
