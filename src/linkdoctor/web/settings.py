"""Settings of one ``linkdoctor serve`` process, and where its files live by default.

With no configuration the service keeps its SQLite database in the user data directory
(``$XDG_DATA_HOME/linkdoctor`` or ``~/.local/share/linkdoctor``).

>>> default_data_dir({"XDG_DATA_HOME": "/srv/data"}, home=Path("/home/ann"))
PosixPath('/srv/data/linkdoctor')
>>> default_data_dir({}, home=Path("/home/ann"))
PosixPath('/home/ann/.local/share/linkdoctor')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from linkdoctor.config import Secret
from linkdoctor.engine.http.ssrf import IPNetwork, SSRFGuard
from linkdoctor.monitor.envpolicy import EnvAllowlist
from linkdoctor.monitor.model import DEFAULT_TURN_SECONDS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8484
DEFAULT_TICK = 30.0
DEFAULT_SESSION_DAYS = 14
# The sites a member may own at once: each is scanned on its schedule within its daily link budget, so
# without a cap one account could make the server check any number of sites every day.
DEFAULT_MAX_SITES_PER_MEMBER = 50
# The daily budget (link checks) a member may give one site; an admin may give more.
DEFAULT_MAX_MEMBER_BUDGET = 10_000
DB_FILENAME = "linkdoctor.sqlite"


def default_data_dir(env: Mapping[str, str], *, home: Path) -> Path:
    """The user data directory of linkdoctor, after the XDG base directory convention."""
    base = env.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base and Path(base).is_absolute() else home / ".local" / "share"
    return root / "linkdoctor"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite database file.

    >>> sqlite_url(Path("/var/lib/ld/db.sqlite"))
    'sqlite:////var/lib/ld/db.sqlite'
    """
    return f"sqlite:///{path}"


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """What one serve process needs. ``tick`` is the scheduler's period in seconds (0 turns it off).

    ``secure_cookies`` marks the session cookie ``Secure``; an https ``base_url`` does so by itself.
    ``public_status`` lets visitors who are not logged in read the overview, site and scan pages.
    ``secret_key`` signs session cookies; None takes the service's stored secret.
    ``base_url`` is the address alerts link to (default ``http://host:port``).
    ``allow_env`` names the environment variables a site may name (``headers_env``, ``password_env``) besides
    those starting with ``LINKDOCTOR_SITE_`` (see :mod:`linkdoctor.monitor.envpolicy`).
    """

    db_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow_private: tuple[IPNetwork, ...] = ()
    tick: float = DEFAULT_TICK
    # How long one run of a scan lasts before it gives way to the other due scans (None: no limit).
    scan_turn: float | None = DEFAULT_TURN_SECONDS
    secure_cookies: bool = False
    public_status: bool = False
    secret_key: Secret | None = None
    base_url: str | None = None
    session_days: int = DEFAULT_SESSION_DAYS
    admin_password_env: str = "LINKDOCTOR_ADMIN_PASSWORD"
    # With a Redis broker URL, scans are fetched by ``linkdoctor worker`` processes (linkdoctor.distributed).
    broker_url: str | None = None
    allow_env: tuple[str, ...] = ()
    # The folder sites' certificate, key and CA files must be in (None: sites may name no such file).
    cert_dir: Path | None = None
    # How many sites a member may own at once (0: any number); admins are not limited.
    max_sites_per_member: int = DEFAULT_MAX_SITES_PER_MEMBER
    # The largest daily budget a member may give a site (0: any); a higher one an admin set stays.
    max_member_budget: int = DEFAULT_MAX_MEMBER_BUDGET
    guard: SSRFGuard = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "guard", SSRFGuard(self.allow_private))

    @property
    def env_allowlist(self) -> EnvAllowlist:
        """The rule a site's environment variable names must pass, when saved and when scanned."""
        return EnvAllowlist(frozenset(self.allow_env))

    @property
    def cookie_secure(self) -> bool:
        """Whether the session cookie is marked ``Secure``: asked for, or the public address is https."""
        return self.secure_cookies or (self.base_url or "").lower().startswith("https://")

    @property
    def public_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
