"""The sites store: the monitored sites' rows (add, change, remove, look up) and the overview of every
site with its status, last scan and sparkline.

A site spec is validated here before it is stored: name, URL, schedule, budget, patterns and, when the
server mode gives one, the SSRF guard's verdict on the URL and on each alert target's host. A missing
site is a ``KeyError``; a bad spec is a :class:`~linkdoctor.errors.ConfigError`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linkdoctor.errors import ConfigError
from linkdoctor.monitor import alerts, budget
from linkdoctor.monitor.certpaths import CertFolder
from linkdoctor.monitor.convert import fill_site_row, scan_from_row, site_from_row
from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import Budget, ScanState, Site, SiteOverview, SiteSpec, SiteStatus
from linkdoctor.monitor.orm import ScanRow, SiteRow, UserRow
from linkdoctor.monitor.schedule import check_schedule, next_due
from linkdoctor.patterns import PatternError, check_pattern

SPARKLINE_SCANS = 20


class SiteLimitReached(ConfigError):
    """The account already owns as many sites as it may (``serve --max-sites-per-member``)."""


class UrlGuard(Protocol):
    """What the store needs of the web's SSRF guard: refuse a site URL or an alert target's host (raise
    ConfigError)."""

    def check_url(self, url: str) -> object: ...

    def check_host(self, host: str, port: int, *, unresolved_ok: bool = False) -> object: ...


def add(
    db: Sessions,
    spec: SiteSpec,
    *,
    guard: UrlGuard | None = None,
    owner_id: int | None = None,
    owner_limit: int | None = None,
    cert_folder: CertFolder | None = None,
) -> Site:
    """Store a new site (``owner_id``: the user who added it); a scheduled one is due at once.

    With an ``owner_limit``, an owner who already has that many sites gets :class:`SiteLimitReached`; the
    count and the insert are one transaction, with the owner's row locked where the database can (SQLite's
    write transactions are one at a time anyway), so a burst of requests cannot pass the limit.

    With a ``cert_folder`` (server mode) the site's certificate, key and CA paths must lie inside it, and
    they are stored as absolute paths there."""
    spec = spec if cert_folder is None else cert_folder.confine(spec)
    validate(spec, guard)
    now = db.now()
    row = SiteRow(created_at=now, next_run_at=now if (spec.every or spec.cron) else None, owner_id=owner_id)
    fill_site_row(row, spec)
    try:
        with db.session() as s:
            if owner_id is not None and owner_limit is not None:
                _check_owner_limit(s, owner_id, owner_limit)
            s.add(row)
            s.flush()
            return site_from_row(row)
    except IntegrityError as exc:
        raise ConfigError(f"a site named {spec.name!r} already exists") from exc


def _check_owner_limit(s: Session, owner_id: int, limit: int) -> None:
    # FOR NO KEY UPDATE: orders this owner's adds one after another, without holding up what only refers
    # to the row (a login's session, a new token)
    s.execute(select(UserRow.id).where(UserRow.id == owner_id).with_for_update(key_share=True))
    owned = s.scalar(select(func.count()).select_from(SiteRow).where(SiteRow.owner_id == owner_id)) or 0
    if owned >= limit:
        raise SiteLimitReached(
            f"this account owns {owned} sites, and a member may own at most {limit} (serve "
            f"--max-sites-per-member {limit}): remove one first, or ask an admin to raise the cap"
        )


def update(
    db: Sessions,
    site_id: int,
    spec: SiteSpec,
    *,
    guard: UrlGuard | None = None,
    cert_folder: CertFolder | None = None,
) -> Site:
    """Replace a site's spec (its file paths confined to ``cert_folder``, as in :func:`add`); a changed
    schedule moves its next run."""
    spec = spec if cert_folder is None else cert_folder.confine(spec)
    validate(spec, guard)
    try:
        with db.session() as s:
            row = site_row(s, site_id)
            schedule_changed = (row.every_seconds, row.cron) != (
                None if spec.every is None else int(spec.every.total_seconds()),
                spec.cron,
            )
            fill_site_row(row, spec)
            if schedule_changed:
                row.next_run_at = next_due(spec.every, spec.cron, db.now())
            s.flush()
            return site_from_row(row)
    except IntegrityError as exc:
        raise ConfigError(f"a site named {spec.name!r} already exists") from exc


def remove(db: Sessions, site_id: int) -> None:
    with db.session() as s:
        s.delete(site_row(s, site_id))


def get(db: Sessions, site_id_or_name: int | str) -> Site:
    with db.read() as s:
        if isinstance(site_id_or_name, int):
            return site_from_row(site_row(s, site_id_or_name))
        row = s.scalar(select(SiteRow).where(SiteRow.name == site_id_or_name))
        if row is None:
            raise KeyError(f"no site named {site_id_or_name!r}")
        return site_from_row(row)


def overview(db: Sessions) -> list[SiteOverview]:
    """Every site with its status, last scan and sparkline, in four queries whatever the number of sites."""
    with db.read() as s:
        rows = s.scalars(select(SiteRow).order_by(SiteRow.name)).all()
        latest = {
            scan.site_id: scan
            for scan in s.scalars(
                select(ScanRow).where(ScanRow.id.in_(select(func.max(ScanRow.id)).group_by(ScanRow.site_id)))
            )
        }
        newest_first = (
            select(
                ScanRow.site_id,
                ScanRow.broken,
                func.row_number().over(partition_by=ScanRow.site_id, order_by=ScanRow.id.desc()).label("n"),
            )
            .where(ScanRow.state == ScanState.DONE.value)
            .subquery()
        )
        finished: dict[int, list[int]] = {}
        for site_id, broken, _ in s.execute(
            select(newest_first).where(newest_first.c.n <= SPARKLINE_SCANS).order_by(newest_first.c.n)
        ):
            finished.setdefault(site_id, []).append(broken)
        now = db.now()
        budgets = budget.in_session(s, {row.id: row.budget for row in rows}, now=now)
        return [
            _overview(row, latest.get(row.id), finished.get(row.id, []), budgets[row.id], now) for row in rows
        ]


def validate(spec: SiteSpec, guard: UrlGuard | None = None) -> None:
    """Raise :class:`ConfigError` for a spec the monitor does not accept."""
    if not spec.name.strip() or len(spec.name) > 200:
        raise ConfigError("a site needs a name of 1 to 200 characters")
    if not re.match(r"^https?://[^/\s]+", spec.url):
        raise ConfigError(f"a site URL must be http:// or https://, not {spec.url!r}")
    check_schedule(spec.every, spec.cron)
    if spec.budget < 1:
        raise ConfigError(f"the daily budget must be at least 1 link check, not {spec.budget}")
    if spec.alert_after < 1:
        raise ConfigError(f"alert_after must be at least 1, not {spec.alert_after}")
    for pattern in (*spec.scope, *spec.options.include, *spec.options.exclude):
        try:
            check_pattern(pattern)  # RE2: a scan's patterns run in linear time (linkdoctor.patterns)
        except PatternError as exc:
            raise ConfigError(f"not a regular expression: {pattern!r} ({exc.reason})") from None
    if spec.options.cert_path and spec.options.pkcs12_path:
        raise ConfigError("give a PEM certificate or a PKCS#12 file, not both")
    if guard is not None:
        guard.check_url(spec.url)
        for target in spec.notify:
            alerts.check_target(target, guard)


def site_row(s: Session, site_id: int) -> SiteRow:
    """The site's row in an open session; a ``KeyError`` when there is none."""
    row = s.get(SiteRow, site_id)
    if row is None:
        raise KeyError(f"no site with id {site_id}")
    return row


def _overview(
    row: SiteRow, last: ScanRow | None, finished: list[int], left: Budget, now: datetime
) -> SiteOverview:
    """A site's overview from its latest scan, the broken counts of its finished scans (newest first) and
    its budget: only a scan that a live process holds is ``scanning``."""
    broken = finished[0] if finished else 0
    if last is None:
        status = SiteStatus.NEVER_SCANNED
    elif last.state == ScanState.QUEUED.value:
        status = SiteStatus.QUEUED
    elif last.state == ScanState.RUNNING.value:
        alive = last.lease_expires_at is not None and last.lease_expires_at >= now
        status = SiteStatus.SCANNING if alive else SiteStatus.INTERRUPTED
    elif last.state == ScanState.PARTIAL.value:
        status = SiteStatus.WAITING_FOR_BUDGET if left.spent else SiteStatus.PARTIAL
    elif last.state == ScanState.FAILED.value:
        status = SiteStatus.FAILED
    else:
        status = SiteStatus.BROKEN if broken else SiteStatus.OK
    return SiteOverview(
        site=site_from_row(row),
        status=status,
        last_scan=None if last is None else scan_from_row(last),
        broken=broken,
        sparkline=tuple(reversed(finished)),
    )
