"""The monitor service: the one API the web dashboard, the REST API and the ``sites`` CLI call.

One :class:`Monitor` per process, built from a database URL. Every method is synchronous (short SQLAlchemy
sessions; the web calls them from a thread pool) and returns frozen values from
:mod:`linkdoctor.monitor.model`, never ORM objects. A missing site or scan is a ``KeyError``; a bad spec
is a :class:`~linkdoctor.errors.ConfigError`.

>>> # monitor = Monitor.open("sqlite:////var/lib/linkdoctor/linkdoctor.sqlite")
>>> # site = monitor.add_site(SiteSpec(name="docs", url="https://docs.example.org/"))
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Protocol, Self

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, Diagnosis
from linkdoctor.monitor import accounts, outbox, users
from linkdoctor.monitor.alerts import Notifier, send_with_apprise
from linkdoctor.monitor.certs import CertExpiry, notices
from linkdoctor.monitor.convert import (
    fill_site_row,
    scan_from_row,
    site_from_row,
    stored_result,
    user_from_row,
)
from linkdoctor.monitor.db import create_engine_for, session_factory, upgrade
from linkdoctor.monitor.diff import compare
from linkdoctor.monitor.model import (
    DEFAULT_KEEP_SCANS,
    CertificateNotice,
    DailyCount,
    DiffEntry,
    Scan,
    ScanDiff,
    ScanState,
    Site,
    SiteOverview,
    SiteSpec,
    SiteStatus,
    StoredResult,
    User,
)
from linkdoctor.monitor.orm import (
    DailyCountRow,
    ResultRow,
    ScanRow,
    SettingRow,
    SiteRow,
    TokenRow,
    UserRow,
)
from linkdoctor.monitor.scan import ScanJob, ScanOutcome, run_scan_job
from linkdoctor.monitor.schedule import check_schedule, next_due
from linkdoctor.monitor.scheduler import claim, claimable_scans, execute, queue_due_scans

SPARKLINE_SCANS = 20
DEFAULT_CERT_EXPIRY = CertExpiry()
DEFAULT_LEASE = timedelta(minutes=10)
JobRunner = Callable[[ScanJob], ScanOutcome]
ADMIN_USERNAME = "admin"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UrlGuard(Protocol):
    """What the service needs of the web's SSRF guard: refuse a site URL (raise ConfigError)."""

    def check_url(self, url: str) -> object: ...


class Monitor:
    """Sites, scans, results, history and users over one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        guard: UrlGuard | None = None,
        scan_guard: SSRFGuard | None = None,
        env: Mapping[str, str] | None = None,
        job_runner: JobRunner | None = None,
        notifier: Notifier = send_with_apprise,
        dashboard_url: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        keep_scans: int = DEFAULT_KEEP_SCANS,
        certs: CertExpiry | None = DEFAULT_CERT_EXPIRY,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.guard = guard
        self.scan_guard = scan_guard
        self.env = env
        self.job_runner = job_runner
        self.notifier = notifier
        self.dashboard_url = dashboard_url
        self.lease = lease
        self.keep_scans = keep_scans
        self.certs = certs
        self._sessions: sessionmaker[Session] = session_factory(engine)

    @classmethod
    def open(
        cls,
        db_url: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        migrate: bool = True,
        guard: UrlGuard | None = None,
        scan_guard: SSRFGuard | None = None,
        env: Mapping[str, str] | None = None,
        job_runner: JobRunner | None = None,
        notifier: Notifier = send_with_apprise,
        dashboard_url: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        keep_scans: int = DEFAULT_KEEP_SCANS,
        certs: CertExpiry | None = DEFAULT_CERT_EXPIRY,
    ) -> Self:
        """Connect, and (unless ``migrate=False``) bring the schema up to date first.

        ``guard`` checks site URLs and ``scan_guard`` vets every connection of the scans (both are the server
        mode's SSRF guard); ``env`` is where header values and key passwords are looked up (default: os.environ);
        ``job_runner`` runs a :class:`ScanJob` (default: in this process); ``notifier`` sends alerts
        (default: apprise); ``dashboard_url`` is linked from alerts; ``lease`` is how long a claimed scan
        stays claimed without a heartbeat; ``keep_scans`` how many finished scans keep their raw results;
        ``certs`` reads the server certificates' expiry after each finished scan (None: not at all)."""
        engine = create_engine_for(db_url)
        if migrate:
            upgrade(engine)
        return cls(
            engine,
            clock=clock,
            guard=guard,
            scan_guard=scan_guard,
            env=env,
            job_runner=job_runner,
            notifier=notifier,
            dashboard_url=dashboard_url,
            lease=lease,
            keep_scans=keep_scans,
            certs=certs,
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the monitor's clock must return aware datetimes")
        return now.astimezone(UTC)

    # --- sites ------------------------------------------------------------------------------------
    def add_site(self, spec: SiteSpec) -> Site:
        self._validate(spec)
        now = self.now()
        row = SiteRow(created_at=now, next_run_at=now if (spec.every or spec.cron) else None)
        fill_site_row(row, spec)
        try:
            with self.session() as s:
                s.add(row)
                s.flush()
                return site_from_row(row)
        except IntegrityError as exc:
            raise ConfigError(f"a site named {spec.name!r} already exists") from exc

    def update_site(self, site_id: int, spec: SiteSpec) -> Site:
        self._validate(spec)
        try:
            with self.session() as s:
                row = self._site_row(s, site_id)
                schedule_changed = (row.every_seconds, row.cron) != (
                    None if spec.every is None else int(spec.every.total_seconds()),
                    spec.cron,
                )
                fill_site_row(row, spec)
                if schedule_changed:
                    row.next_run_at = next_due(spec.every, spec.cron, self.now())
                s.flush()
                return site_from_row(row)
        except IntegrityError as exc:
            raise ConfigError(f"a site named {spec.name!r} already exists") from exc

    def remove_site(self, site_id: int) -> None:
        with self.session() as s:
            row = self._site_row(s, site_id)
            s.delete(row)

    def site(self, site_id_or_name: int | str) -> Site:
        with self.session() as s:
            if isinstance(site_id_or_name, int):
                return site_from_row(self._site_row(s, site_id_or_name))
            row = s.scalar(select(SiteRow).where(SiteRow.name == site_id_or_name))
            if row is None:
                raise KeyError(f"no site named {site_id_or_name!r}")
            return site_from_row(row)

    def sites(self) -> list[SiteOverview]:
        """Every site with its status, last scan and sparkline, in three queries whatever the number of sites."""
        with self.session() as s:
            rows = s.scalars(select(SiteRow).order_by(SiteRow.name)).all()
            latest = {
                scan.site_id: scan
                for scan in s.scalars(
                    select(ScanRow).where(
                        ScanRow.id.in_(select(func.max(ScanRow.id)).group_by(ScanRow.site_id))
                    )
                )
            }
            newest_first = (
                select(
                    ScanRow.site_id,
                    ScanRow.broken,
                    func.row_number()
                    .over(partition_by=ScanRow.site_id, order_by=ScanRow.id.desc())
                    .label("n"),
                )
                .where(ScanRow.state == ScanState.DONE.value)
                .subquery()
            )
            finished: dict[int, list[int]] = {}
            for site_id, broken, _ in s.execute(
                select(newest_first).where(newest_first.c.n <= SPARKLINE_SCANS).order_by(newest_first.c.n)
            ):
                finished.setdefault(site_id, []).append(broken)
            return [_overview(row, latest.get(row.id), finished.get(row.id, [])) for row in rows]

    def _validate(self, spec: SiteSpec) -> None:
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
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"not a regular expression: {pattern!r} ({exc})") from exc
        if spec.options.cert_path and spec.options.pkcs12_path:
            raise ConfigError("give a PEM certificate or a PKCS#12 file, not both")
        if self.guard is not None:
            self.guard.check_url(spec.url)

    @staticmethod
    def _site_row(s: Session, site_id: int) -> SiteRow:
        row = s.get(SiteRow, site_id)
        if row is None:
            raise KeyError(f"no site with id {site_id}")
        return row

    # --- scans ------------------------------------------------------------------------------------
    def request_scan(self, site_id: int) -> Scan:
        """Queue a scan now. A scan that is already queued, running or partial is returned instead."""
        with self.session() as s:
            self._site_row(s, site_id)
            pending = s.scalar(
                select(ScanRow)
                .where(
                    ScanRow.site_id == site_id,
                    ScanRow.state.in_(
                        [ScanState.QUEUED.value, ScanState.RUNNING.value, ScanState.PARTIAL.value]
                    ),
                )
                .order_by(ScanRow.id)
                .limit(1)
            )
            if pending is not None:
                return scan_from_row(pending)
            row = new_scan_row(site_id, self.now())
            s.add(row)
            s.flush()
            return scan_from_row(row)

    def scans(self, site_id: int, *, limit: int = 50) -> list[Scan]:
        with self.session() as s:
            self._site_row(s, site_id)
            rows = s.scalars(
                select(ScanRow).where(ScanRow.site_id == site_id).order_by(ScanRow.id.desc()).limit(limit)
            ).all()
            return [scan_from_row(r) for r in rows]

    def scan(self, scan_id: int) -> Scan:
        with self.session() as s:
            row = s.get(ScanRow, scan_id)
            if row is None:
                raise KeyError(f"no scan with id {scan_id}")
            return scan_from_row(row)

    def results(
        self,
        scan_id: int,
        *,
        category: str | None = None,
        code: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> list[StoredResult]:
        """Stored results of a scan by URL, filtered by category and/or diagnosis code."""
        with self.session() as s:
            if s.get(ScanRow, scan_id) is None:
                raise KeyError(f"no scan with id {scan_id}")
            query = select(ResultRow).where(ResultRow.scan_id == scan_id)
            if category is not None:
                query = query.where(ResultRow.category == category)
            if code is not None:
                query = query.where(ResultRow.diagnosis_code == code)
            query = query.order_by(ResultRow.url).limit(max(0, limit)).offset(max(0, offset))
            return [stored_result(r) for r in s.scalars(query).all()]

    def diff(self, scan_id: int) -> ScanDiff:
        """The scan against the site's previous finished (done) scan."""
        with self.session() as s:
            row = s.get(ScanRow, scan_id)
            if row is None:
                raise KeyError(f"no scan with id {scan_id}")
            previous = s.scalar(
                select(ScanRow.id)
                .where(
                    ScanRow.site_id == row.site_id,
                    ScanRow.state == ScanState.DONE.value,
                    ScanRow.id < scan_id,
                )
                .order_by(ScanRow.id.desc())
                .limit(1)
            )
            current = _entries(s, scan_id)
            before = {} if previous is None else _entries(s, previous)
            certificates = certificate_notices(s, scan_id)
        return replace(compare(scan_id, previous, before, current), certificates=tuple(certificates))

    def certificates(self, scan_id: int) -> list[CertificateNotice]:
        """The scan's server certificates near or past expiry, one per https origin, by origin."""
        with self.session() as s:
            if s.get(ScanRow, scan_id) is None:
                raise KeyError(f"no scan with id {scan_id}")
            return certificate_notices(s, scan_id)

    def run_scan(self, scan_id: int, *, owner: str) -> Scan:
        """Run one scan now: claim it if it is queued, partial or abandoned (an expired lease), run it to
        completion or to the budget, and commit. A scan another owner holds is returned as it is."""
        if claim(self, scan_id, owner, self.now()):
            return execute(self, scan_id, owner)
        with self.session() as s:
            row = s.get(ScanRow, scan_id)
            if row is None:
                raise KeyError(f"no scan with id {scan_id}")
            if row.lease_owner == owner and row.state == ScanState.RUNNING.value:
                return execute(self, scan_id, owner)
            return scan_from_row(row)

    def run_due_scans(self, *, owner: str, now: datetime | None = None) -> list[int]:
        """The scheduler tick: queue the scans of due sites, then claim and run every scan that can run
        (queued, partial with budget left, or abandoned by a dead process). Returns the ids it ran."""
        now = self.now() if now is None else now
        outbox.deliver_due(self, now)  # alerts whose delivery failed earlier
        queue_due_scans(self, now)
        ran = []
        for scan_id in claimable_scans(self, now):
            if claim(self, scan_id, owner, now):
                execute(self, scan_id, owner)
                ran.append(scan_id)
        return ran

    def run_job(self, job: ScanJob) -> ScanOutcome:
        """Run a scan job with the injected runner (a task queue, a test double) or in this process."""
        if self.job_runner is not None:
            return self.job_runner(job)
        return run_scan_job(job, guard=self.scan_guard, env=self.env)

    def history(self, site_id: int, *, days: int = 90) -> list[DailyCount]:
        """Per-day counts for the charts, oldest first (kept forever, unlike raw results)."""
        with self.session() as s:
            self._site_row(s, site_id)
            since: date = (self.now() - timedelta(days=days)).date()
            rows = s.scalars(
                select(DailyCountRow)
                .where(DailyCountRow.site_id == site_id, DailyCountRow.day > since)
                .order_by(DailyCountRow.day)
            ).all()
            return [DailyCount(r.day, r.ok, r.redirected, r.broken, r.unverified, r.scans) for r in rows]

    # --- users ------------------------------------------------------------------------------------
    def ensure_admin(self, *, password_env: str = "LINKDOCTOR_ADMIN_PASSWORD") -> str | None:
        """Create the admin on first run. Returns the generated password to show once, or None when the
        admin existed or its password came from ``password_env``."""
        with self.session() as s:
            if s.scalar(select(func.count()).select_from(UserRow)):
                return None
            from_env = os.environ.get(password_env)
            password = from_env or accounts.new_password()
            s.add(
                UserRow(
                    username=ADMIN_USERNAME,
                    password_hash=accounts.hash_password(password),
                    is_admin=True,
                    created_at=self.now(),
                )
            )
        return None if from_env else password

    def create_user(self, username: str, password: str, *, is_admin: bool = False) -> User:
        if not username.strip() or len(username) > 100 or not username.isprintable():
            raise ConfigError("a user name needs 1 to 100 printable characters")
        users.check_password_rules(password)
        try:
            with self.session() as s:
                row = UserRow(
                    username=username,
                    password_hash=accounts.hash_password(password),
                    is_admin=is_admin,
                    created_at=self.now(),
                )
                s.add(row)
                s.flush()
                return user_from_row(row)
        except IntegrityError as exc:
            raise ConfigError(f"a user named {username!r} already exists") from exc

    def authenticate(self, username: str, password: str) -> User | None:
        with self.session() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                accounts.check_password(password, _dummy_hash())  # same work whether or not the user exists
                return None
            return user_from_row(row) if accounts.check_password(password, row.password_hash) else None

    def create_token(self, user_id: int, name: str) -> str:
        """A new API token for the user, returned once; only its hash is stored."""
        token = accounts.new_token()
        with self.session() as s:
            if s.get(UserRow, user_id) is None:
                raise KeyError(f"no user with id {user_id}")
            s.add(
                TokenRow(
                    user_id=user_id, name=name, token_hash=accounts.hash_token(token), created_at=self.now()
                )
            )
        return token

    def revoke_tokens(self, user_id: int) -> None:
        with self.session() as s:
            s.execute(delete(TokenRow).where(TokenRow.user_id == user_id))

    def user_for_token(self, token: str) -> User | None:
        with self.session() as s:
            row = s.scalar(
                select(UserRow)
                .join(TokenRow, TokenRow.user_id == UserRow.id)
                .where(TokenRow.token_hash == accounts.hash_token(token))
            )
            return None if row is None else user_from_row(row)

    def secret(self, name: str) -> str:
        """A random service-wide secret (e.g. the cookie signing key), created on first use and kept."""
        with self.session() as s:
            row = s.get(SettingRow, f"secret:{name}")
            if row is None:
                row = SettingRow(key=f"secret:{name}", value=secrets.token_urlsafe(32))
                s.add(row)
            return row.value


def _entries(s: Session, scan_id: int) -> dict[str, DiffEntry]:
    rows = s.execute(
        select(
            ResultRow.url,
            ResultRow.category,
            ResultRow.status,
            ResultRow.final_url,
            ResultRow.diagnosis_code,
            ResultRow.diagnosis_summary,
            ResultRow.diagnosis_fix,
        ).where(ResultRow.scan_id == scan_id)
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


def certificate_notices(s: Session, scan_id: int) -> list[CertificateNotice]:
    rows = s.execute(
        select(ResultRow.url, ResultRow.findings).where(
            ResultRow.scan_id == scan_id, ResultRow.url.like("https://%")
        )
    ).all()
    return notices((url, findings) for url, findings in rows)


def new_scan_row(site_id: int, now: datetime) -> ScanRow:
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


@cache
def _dummy_hash() -> str:
    return accounts.hash_password("linkdoctor-dummy-password")


def _overview(row: SiteRow, last: ScanRow | None, finished: list[int]) -> SiteOverview:
    """A site's overview from its latest scan and the broken counts of its finished scans, newest first."""
    broken = finished[0] if finished else 0
    if last is None:
        status = SiteStatus.NEVER_SCANNED
    elif last.state in (ScanState.RUNNING.value, ScanState.QUEUED.value, ScanState.PARTIAL.value):
        status = SiteStatus.SCANNING
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
