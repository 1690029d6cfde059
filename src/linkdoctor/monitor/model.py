"""The monitor's value model: what the service hands to the web dashboard, the API and the CLI.

Every type here is a frozen dataclass or an enum; the service never returns ORM objects. Client
certificates are referenced by file path or by the name of an environment variable, never as key
material, so nothing secret reaches the database.

>>> spec = SiteSpec(name="docs", url="https://docs.example.org/", every=timedelta(days=1))
>>> spec.budget
1500
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from linkdoctor.config import ClientCert
from linkdoctor.models import Category, Diagnosis, Referrer, Summary
from linkdoctor.problems import Location, ProblemCounts, ProblemKind

DEFAULT_BUDGET = 1500
DEFAULT_ALERT_AFTER = 2
DEFAULT_EVERY = timedelta(days=1)
DEFAULT_KEEP_SCANS = 30
# How long one run of a scan lasts before it gives way to the other due scans: long enough for a site of
# thousands of pages to finish in one turn, short enough that a slow site delays the others by minutes.
DEFAULT_TURN_SECONDS = 600.0
CERT_EXPIRY_WARNING = timedelta(days=14)
# The daily budget counts the link checks of the runs started in this window before now.
BUDGET_WINDOW = timedelta(hours=24)


class ScanState(StrEnum):
    """Where a scan is in its life: queued → running → done | partial (budget hit, resumes) | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ScanState.DONE, ScanState.FAILED)


class Role(StrEnum):
    """What a user may do in ``serve`` (the web layer enforces it; see docs/security.md).

    An admin manages users, settings, every token and every site; a member views, scans, adds sites and
    changes its own (never their header or auth options); a viewer only views."""

    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class SiteStatus(StrEnum):
    """A site's state for the overview page, from its latest scan. Only a scan that a live process is
    running now is ``scanning``; an unfinished scan that waits is ``queued``, ``partial`` (it resumes at the
    next scheduler tick), ``waiting-for-budget`` (partial, its daily budget spent) or ``interrupted`` (the
    process running it died; it resumes once its lease runs out)."""

    NEVER_SCANNED = "never-scanned"
    QUEUED = "queued"
    SCANNING = "scanning"
    PARTIAL = "partial"
    WAITING_FOR_BUDGET = "waiting-for-budget"
    INTERRUPTED = "interrupted"
    OK = "ok"
    BROKEN = "broken"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """How the CLI and the dashboard say it.

        >>> SiteStatus.WAITING_FOR_BUDGET.label
        'partial, waiting for budget'
        """
        return _STATUS_LABELS.get(self, self.value)


_STATUS_LABELS = {
    SiteStatus.NEVER_SCANNED: "never scanned",
    SiteStatus.PARTIAL: "partial, resumes at the next tick",
    SiteStatus.WAITING_FOR_BUDGET: "partial, waiting for budget",
    SiteStatus.INTERRUPTED: "interrupted, resumes soon",
}


@dataclass(frozen=True, slots=True)
class Budget:
    """A site's daily budget now: link checks allowed per 24 hours, used in the last 24 hours, and left.
    ``frees_at`` is when checks come back (the oldest run still counted leaves the window); None when
    nothing is used."""

    daily: int
    used: int
    frees_at: datetime | None = None

    @property
    def left(self) -> int:
        return max(0, self.daily - self.used)

    @property
    def spent(self) -> bool:
        return self.left == 0


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """Check options of one site. Headers and the key password are given as environment variable names.
    The fields are the options of :mod:`linkdoctor.options` marked for a monitored site (their ``site_field``).

    ``headers_env`` pairs a header name with the environment variable holding its value, for example
    ``(("Authorization", "DOCS_TOKEN"),)``. ``cert_hosts`` limits the client certificate to some hosts
    (empty: every host of the scan). ``cacert_path`` trusts an extra CA bundle for the site's servers (an
    internal CA). ``cert_warning_days`` is how close to expiry a server certificate becomes a finding
    (None: the monitor's default, 14 days; 0: only expired certificates).
    """

    max_pages: int | None = None
    depth: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    accept: tuple[int, ...] = ()
    headers_env: tuple[tuple[str, str], ...] = ()
    cert_path: str | None = None
    key_path: str | None = None
    pkcs12_path: str | None = None
    password_env: str | None = None
    cert_hosts: tuple[str, ...] = ()
    cacert_path: str | None = None
    cert_warning_days: int | None = None
    check_fragments: bool = True
    respect_robots: bool = True

    def client_cert(self) -> ClientCert | None:
        """The site's client certificate (its password still the name of an environment variable), if any.

        >>> SiteOptions(pkcs12_path="c.p12", password_env="PW").client_cert()
        ClientCert(cert=None, key=None, pkcs12=PosixPath('c.p12'), password=None, hosts=(), password_env='PW')
        """
        if not (self.cert_path or self.pkcs12_path):
            return None
        return ClientCert(
            cert=Path(self.cert_path) if self.cert_path else None,
            key=Path(self.key_path) if self.key_path else None,
            pkcs12=Path(self.pkcs12_path) if self.pkcs12_path else None,
            hosts=self.cert_hosts,
            password_env=self.password_env or None,
        )


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """What a user says about a site: where it is, what to check, when, within which budget, whom to tell.

    Give ``every`` (an interval) or ``cron`` (a cron expression), not both; with neither the site is scanned
    only on request. ``alert_after`` is how many consecutive scans a link must be broken before it alerts.
    """

    name: str
    url: str
    every: timedelta | None = DEFAULT_EVERY
    cron: str | None = None
    budget: int = DEFAULT_BUDGET
    scope: tuple[str, ...] = ()
    options: SiteOptions = field(default_factory=SiteOptions)
    notify: tuple[str, ...] = ()
    alert_after: int = DEFAULT_ALERT_AFTER


@dataclass(frozen=True, slots=True)
class Site:
    """A stored site: its id, the spec it was saved with, and when it is next due."""

    id: int
    spec: SiteSpec
    created_at: datetime
    next_run_at: datetime | None
    owner_id: int | None = None  # the user who added it (None: the CLI, or before roles existed)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def url(self) -> str:
        return self.spec.url


@dataclass(frozen=True, slots=True)
class Scan:
    """One scan of a site. A ``partial`` scan hit the daily budget and continues on its next run.

    ``counts`` are its links per category (a stored scan keeps no page count, time or warnings);
    ``budget_used`` counts link checks across all runs of this scan; ``runs`` how many times it ran.
    ``problems`` counts its unique problems (one per target document and cause, see
    :mod:`linkdoctor.monitor.problems`); None for a scan stored before they were counted.
    """

    id: int
    site_id: int
    state: ScanState
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: Summary
    budget_used: int
    runs: int
    error: str = ""
    problems: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding attached to a stored result (for example ``cert.expiring`` for a certificate near expiry)."""

    code: str
    severity: str
    summary: str


@dataclass(frozen=True, slots=True)
class CertificateNotice:
    """A server certificate that expires within the warning window (``warning``) or has expired (``error``),
    one per https origin of a scan; ``url`` is the stored result that carries it as a finding."""

    origin: str
    url: str
    code: str
    severity: str
    summary: str


@dataclass(frozen=True, slots=True)
class StoredResult:
    """One link's result in one scan, as the scan detail page shows it."""

    id: int
    scan_id: int
    url: str
    category: Category
    status: int | None
    precise_status: int | None
    reason: str
    final_url: str
    error: str | None
    error_message: str
    diagnosis: Diagnosis | None
    referrers: tuple[Referrer, ...]
    findings: tuple[StoredFinding, ...] = ()


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One link in a diff: its URL, what it is now, and why."""

    url: str
    category: Category
    status: int | None
    final_url: str
    diagnosis: Diagnosis | None


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """One problem of a stored scan, grouped as every report groups it (:mod:`linkdoctor.problems`): a
    target document (and, for an ``anchor`` problem, the missing anchor) and its cause, with the places
    it was found on (``found_on``: page, line, link text and the fragment each link used).

    ``key`` is stable across scans (kind, code and URL): a problem is new when the previous scan had no
    problem with its key. ``links`` counts the places it was linked from, ``pages`` the referring pages."""

    id: str
    key: str
    kind: ProblemKind
    label: str
    target: str
    anchor: str
    url: str
    category: Category
    code: str
    status: int | None
    cause: str
    fix: tuple[str, ...]
    links: int
    pages: int
    found_on: tuple[Location, ...]

    @property
    def fragments(self) -> tuple[str, ...]:
        """The distinct fragments its links used, sorted."""
        return tuple(sorted({loc.fragment for loc in self.found_on if loc.fragment}))


@dataclass(frozen=True, slots=True)
class ScanProblems:
    """A stored scan's problems, most pages affected first, with the headline counts and their sentence
    (``3 problems: 1 missing page (linked 62 times from 12 pages), 2 missing anchors …``)."""

    scan_id: int
    counts: ProblemCounts
    headline: str
    problems: tuple[ScanProblem, ...]


@dataclass(frozen=True, slots=True)
class ScanDiff:
    """A scan compared with the site's previous finished scan (``previous_scan_id`` None: the first scan).

    The link lists (``new_broken`` … ``new_redirects``) compare URLs; the problem lists compare problems
    (one per target and cause, see :class:`ScanProblem`): ``problems`` counts the scan's problems and
    ``headline`` says them in a sentence. ``certificates`` lists the scan's server certificates near or
    past expiry, by origin."""

    scan_id: int
    previous_scan_id: int | None
    new_broken: tuple[DiffEntry, ...] = ()
    fixed: tuple[DiffEntry, ...] = ()
    still_broken: tuple[DiffEntry, ...] = ()
    new_redirects: tuple[DiffEntry, ...] = ()
    certificates: tuple[CertificateNotice, ...] = ()
    problems: int = 0
    headline: str = "no problems"
    new_problems: tuple[ScanProblem, ...] = ()
    fixed_problems: tuple[ScanProblem, ...] = ()
    still_problems: tuple[ScanProblem, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.new_broken or self.fixed or self.new_redirects)


@dataclass(frozen=True, slots=True)
class DailyCount:
    """Links per category on one day (UTC) for one site, from the last scan that finished that day."""

    day: date
    ok: int
    redirected: int
    broken: int
    unverified: int
    scans: int


@dataclass(frozen=True, slots=True)
class SiteOverview:
    """A row of the sites overview: the site, its status, last scan, broken count and a sparkline.

    ``sparkline`` holds the broken counts of the last finished scans, oldest first.
    """

    site: Site
    status: SiteStatus
    last_scan: Scan | None
    broken: int
    sparkline: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class User:
    """An account of the dashboard and API."""

    id: int
    username: str
    is_admin: bool
    created_at: datetime
    role: Role = Role.MEMBER  # an admin's role is always Role.ADMIN


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as listed: never its secret, which is shown once at creation and stored only hashed."""

    id: int
    user_id: int
    username: str
    name: str
    created_at: datetime
    expires_at: datetime | None  # None: until revoked


@dataclass(frozen=True, slots=True)
class Alert:
    """One message for one scan, sent to every notification target of the site."""

    site_id: int
    scan_id: int
    title: str
    body: str
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as the outbox keeps it (never its targets): what it said, and how its delivery went
    (``sent_at`` None: not delivered yet, or given up on when ``next_attempt_at`` is None too)."""

    id: int
    site_id: int
    scan_id: int
    title: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    last_error: str
