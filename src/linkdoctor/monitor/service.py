"""The monitor service: the one API the web dashboard, the REST API and the ``sites`` CLI call.

One :class:`Monitor` per process, built from a database URL. It is a thin facade: it holds the wiring
(the database and clock, the SSRF guard, the job runner, the notifier, the lease and retention settings)
and each method hands over to the module that owns the work. The stores own their tables' SQL:
:mod:`~linkdoctor.monitor.sites`, :mod:`~linkdoctor.monitor.scans`, :mod:`~linkdoctor.monitor.users`,
:mod:`~linkdoctor.monitor.settings` and :mod:`~linkdoctor.monitor.outbox`; :mod:`~linkdoctor.monitor.scheduler`
claims and runs scans and :mod:`~linkdoctor.monitor.finish` commits them. Those modules never import this
one: what they need of it is a protocol (:class:`~linkdoctor.monitor.db.Sessions`,
:class:`~linkdoctor.monitor.scheduler.Runner`, …) that a :class:`Monitor` satisfies.

Every method is synchronous (short SQLAlchemy sessions; the web calls them from a thread pool) and returns
frozen values from :mod:`linkdoctor.monitor.model`, never ORM objects. A missing site or scan is a
``KeyError``; a bad spec is a :class:`~linkdoctor.errors.ConfigError`.

>>> # monitor = Monitor.open("sqlite:////var/lib/linkdoctor/linkdoctor.sqlite")
>>> # site = monitor.add_site(SiteSpec(name="docs", url="https://docs.example.org/"))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.monitor import budget as ledger
from linkdoctor.monitor import outbox, scheduler, settings, users
from linkdoctor.monitor import scans as scan_store
from linkdoctor.monitor import sites as site_store
from linkdoctor.monitor.alerts import Notifier, send_with_apprise
from linkdoctor.monitor.certpaths import CertFolder
from linkdoctor.monitor.certs import CertExpiry
from linkdoctor.monitor.db import Database, create_engine_for, upgrade, utcnow
from linkdoctor.monitor.model import (
    DEFAULT_KEEP_SCANS,
    Budget,
    CertificateNotice,
    DailyCount,
    Role,
    Scan,
    ScanDiff,
    ScanProblems,
    Site,
    SiteOverview,
    SiteSpec,
    StoredAlert,
    StoredResult,
    User,
)
from linkdoctor.monitor.scan import DEFAULT_CHECKPOINT, CheckpointPolicy, ScanJob, ScanOutcome, run_scan_job
from linkdoctor.monitor.sender import GuardedSender
from linkdoctor.monitor.sites import UrlGuard

DEFAULT_CERT_EXPIRY = CertExpiry()
# Short, with a heartbeat every quarter lease: a dead process's scan is taken over within a tick of it.
DEFAULT_LEASE = timedelta(seconds=20)
JobRunner = Callable[[ScanJob], ScanOutcome]


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
        notifier: Notifier | None = None,
        dashboard_url: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        keep_scans: int = DEFAULT_KEEP_SCANS,
        certs: CertExpiry | None = DEFAULT_CERT_EXPIRY,
        checkpoint_policy: CheckpointPolicy = DEFAULT_CHECKPOINT,
        cert_folder: CertFolder | None = None,
    ) -> None:
        self.engine = engine
        self.db = Database(engine, clock=clock)
        self.guard = guard
        self.scan_guard = scan_guard
        self.env = env
        self.job_runner = job_runner
        self.notifier = notifier or (send_with_apprise if scan_guard is None else GuardedSender(scan_guard))
        self.dashboard_url = dashboard_url
        self.lease = lease
        self.keep_scans = keep_scans
        self.certs = certs
        self.checkpoint_policy = checkpoint_policy
        self.cert_folder = cert_folder

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
        notifier: Notifier | None = None,
        dashboard_url: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        keep_scans: int = DEFAULT_KEEP_SCANS,
        certs: CertExpiry | None = DEFAULT_CERT_EXPIRY,
        checkpoint_policy: CheckpointPolicy = DEFAULT_CHECKPOINT,
        cert_folder: CertFolder | None = None,
    ) -> Self:
        """Connect, and (unless ``migrate=False``) bring the schema up to date first.

        ``guard`` checks site URLs and ``scan_guard`` vets every connection of the scans (both are the server
        mode's SSRF guard); ``env`` is where header values and key passwords are looked up (default: os.environ);
        ``job_runner`` runs a :class:`ScanJob` (default: in this process); ``notifier`` sends alerts
        (default: apprise; with a ``scan_guard``, apprise in a child process whose sockets that guard vets);
        ``dashboard_url`` is linked from alerts; ``lease`` is how long a claimed scan
        stays claimed without a heartbeat; ``keep_scans`` how many finished scans keep their raw results;
        ``certs`` reads the server certificates' expiry after each finished scan (None: not at all);
        ``checkpoint_policy`` is how often a running scan saves its progress and charges its checks;
        ``cert_folder`` (server mode) is the folder a site's certificate, key and CA files must be in, when it
        is saved and before each scan (None: anywhere)."""
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
            checkpoint_policy=checkpoint_policy,
            cert_folder=cert_folder,
        )

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on success and rolls back on error."""
        return self.db.session()

    def read(self) -> AbstractContextManager[Session]:
        """A session that only reads (see :meth:`Database.read`)."""
        return self.db.read()

    def now(self) -> datetime:
        return self.db.now()

    # --- sites: linkdoctor.monitor.sites ---------------------------------------------------------
    def add_site(
        self, spec: SiteSpec, *, owner_id: int | None = None, owner_limit: int | None = None
    ) -> Site:
        """Add a site; ``owner_limit``: how many sites ``owner_id`` may have at most (see sites.add)."""
        return site_store.add(
            self.db,
            spec,
            guard=self.guard,
            owner_id=owner_id,
            owner_limit=owner_limit,
            cert_folder=self.cert_folder,
        )

    def update_site(self, site_id: int, spec: SiteSpec) -> Site:
        return site_store.update(self.db, site_id, spec, guard=self.guard, cert_folder=self.cert_folder)

    def remove_site(self, site_id: int) -> None:
        site_store.remove(self.db, site_id)

    def site(self, site_id_or_name: int | str) -> Site:
        return site_store.get(self.db, site_id_or_name)

    def sites(self) -> list[SiteOverview]:
        """Every site with its status, last scan and sparkline, in four queries whatever the number of sites."""
        return site_store.overview(self.db)

    # --- scans: linkdoctor.monitor.scans ---------------------------------------------------------
    def request_scan(self, site_id: int) -> Scan:
        """Queue a scan now. A scan that is already queued, running or partial is returned instead."""
        return scan_store.request(self.db, site_id)

    def scans(self, site_id: int, *, limit: int = 50) -> list[Scan]:
        return scan_store.of_site(self.db, site_id, limit=limit)

    def scan(self, scan_id: int) -> Scan:
        return scan_store.get(self.db, scan_id)

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
        return scan_store.results(self.db, scan_id, category=category, code=code, limit=limit, offset=offset)

    def diff(self, scan_id: int) -> ScanDiff:
        """The scan against the site's previous finished (done) scan: links and problems."""
        return scan_store.diff(self.db, scan_id)

    def alerts(self, site_id: int, *, limit: int = 10) -> list[StoredAlert]:
        """The site's newest alerts, newest first, as they were composed; a missing site is a KeyError."""
        self.site(site_id)
        return outbox.recent(self.db, site_id, limit=limit)

    def problems(self, scan_id: int) -> ScanProblems:
        """The scan's problems (one per target document and cause), most pages affected first."""
        return scan_store.problems(self.db, scan_id)

    def certificates(self, scan_id: int) -> list[CertificateNotice]:
        """The scan's server certificates near or past expiry, one per https origin, by origin."""
        return scan_store.certificates(self.db, scan_id)

    def history(self, site_id: int, *, days: int = 90) -> list[DailyCount]:
        """Per-day counts for the charts, oldest first (kept forever, unlike raw results)."""
        return scan_store.history(self.db, site_id, days=days)

    # --- running scans: linkdoctor.monitor.scheduler ---------------------------------------------
    def run_scan(self, scan_id: int, *, owner: str) -> Scan:
        """Run one scan now: claim it if it is queued, partial or abandoned (an expired lease), run it to
        completion or to the budget, and commit. A scan another owner holds is returned as it is."""
        return scheduler.run_scan(self, scan_id, owner=owner)

    def scan_now(self, site_id: int, *, owner: str) -> Scan:
        """A scan by hand: queue one (or join the site's unfinished scan) and run it here. Raises
        :class:`~linkdoctor.monitor.scheduler.ScanBusy` when a live process is running it and
        :class:`~linkdoctor.monitor.scheduler.BudgetSpent` when the daily budget is spent (saying when it
        resets); never two overlapping scans of one site."""
        return scheduler.scan_now(self, site_id, owner=owner)

    def budget(self, site_id: int) -> Budget:
        """The site's daily budget now: checks used in the last 24 hours, left, and when they come back."""
        site = self.site(site_id)
        return ledger.of_site(self.db, site.id, daily=site.spec.budget, now=self.now())

    def run_due_scans(self, *, owner: str, now: datetime | None = None) -> list[int]:
        """The scheduler tick: queue the scans of due sites, then claim and run every scan that can run
        (queued, partial with budget left, or abandoned by a dead process). Returns the ids it ran."""
        return scheduler.run_due_scans(self, owner=owner, now=self.now() if now is None else now)

    def run_job(self, job: ScanJob) -> ScanOutcome:
        """Run a scan job with the injected runner (a task queue, a test double) or in this process. Its file
        paths are confined to the certificate folder first (a site stored without that check fails here)."""
        if self.cert_folder is not None:
            job = replace(job, spec=self.cert_folder.confine(job.spec))
        if self.job_runner is not None:
            return self.job_runner(job)
        return run_scan_job(job, guard=self.scan_guard, env=self.env)

    # --- users: linkdoctor.monitor.users ---------------------------------------------------------
    def ensure_admin(self, *, password_env: str = "LINKDOCTOR_ADMIN_PASSWORD") -> str | None:
        """Create the admin on first run. Returns the generated password to show once, or None when the
        admin existed or its password came from ``password_env``."""
        return users.ensure_admin(self.db, password_env=password_env)

    def create_user(
        self, username: str, password: str, *, is_admin: bool = False, role: Role | None = None
    ) -> User:
        return users.create_user(self.db, username, password, is_admin=is_admin, role=role)

    def authenticate(self, username: str, password: str) -> User | None:
        return users.authenticate(self.db, username, password)

    def create_token(self, user_id: int, name: str) -> str:
        """A new API token for the user, returned once; only its hash is stored."""
        return users.create_token(self.db, user_id, name)

    def revoke_tokens(self, user_id: int) -> None:
        users.revoke_tokens(self.db, user_id)

    def user_for_token(self, token: str) -> User | None:
        return users.user_for_token(self.db, token)

    # --- settings: linkdoctor.monitor.settings ---------------------------------------------------
    def secret(self, name: str) -> str:
        """A random service-wide secret (e.g. the cookie signing key), created on first use and kept."""
        return settings.secret(self.db, name)
