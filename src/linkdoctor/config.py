"""Run configuration: the frozen dataclasses the library reads. The options and their ``DEFAULT_*`` constants,
which CLI help and the library share, are declared once in :mod:`linkdoctor.options` (re-exported here).

The CLI and the config file build one :class:`CheckConfig`; the library never reads flags itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from fnmatch import fnmatch
from pathlib import Path

from linkdoctor.config_values import parse_nameserver
from linkdoctor.errors import ConfigError
from linkdoctor.options import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HOST_INTERVAL,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_LINKS_PER_PAGE,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_PATH_DEPTH,
    DEFAULT_MAX_PER_HOST,
    DEFAULT_MAX_QUERIES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_MAX_SITEMAP_URLS,
    DEFAULT_MAX_URL_LENGTH,
    DEFAULT_MAX_URLS,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_TIMEOUT,
    DEFAULT_TRAP_DEPTH,
    DEFAULT_TRAP_IDS,
    DEFAULT_USER_AGENT,
    OPTIONS,
    PROJECT_URL,
    Context,
    number_problem,
)
from linkdoctor.patterns import Pattern

NUMBERS = tuple(
    o for o in OPTIONS if Context.CHECK in o.contexts and o.field is not None and o.type in (int, float)
)
"""The numeric options CheckConfig checks against their validators."""


class ExitCode(IntEnum):
    """Process exit codes, stable for scripts and CI."""

    OK = 0
    UNEXPECTED = 1
    BROKEN = 2
    CONFIG = 3


class Method(StrEnum):
    """How non-page links are requested: HEAD falling back to GET (``auto``), or one method only."""

    AUTO = "auto"
    HEAD = "head"
    GET = "get"


class Secret:
    """A string that never shows itself in ``repr``, logs or reports. ``env`` names the environment
    variable it was read from, when it was (what a worker reads it from: see
    :func:`linkdoctor.distributed.wire.env_name_of`); it takes no part in equality."""

    __slots__ = ("_value", "env")

    def __init__(self, value: str, env: str | None = None) -> None:
        self._value = value
        self.env = env

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def reveal(value: str | Secret) -> str:
    """A header value as sent: a :class:`Secret`'s own text, a plain string as it is."""
    return value.reveal() if isinstance(value, Secret) else value


def host_matches(pattern: str, host: str) -> bool:
    """Match a host against ``api.example.com`` or ``*.corp.example`` (which also matches ``corp.example``).

    >>> host_matches("*.corp.example", "a.corp.example")
    True
    """
    pattern = pattern.lower()
    host = host.lower()
    if pattern.startswith("*."):
        return host == pattern[2:] or fnmatch(host, pattern)
    return fnmatch(host, pattern)


@dataclass(frozen=True, slots=True)
class ClientCert:
    """A client certificate for mutual TLS, for the hosts it applies to (empty ``hosts`` means every host).

    The one value a client certificate is, from the command line, the config file's ``[[tls.client]]``, a
    monitored site and a worker to the TLS context. ``password_env`` names the environment variable holding
    the key's password: it is what the config file, a site and the worker wire carry, since secrets never
    travel. ``password`` is the secret itself once read (:meth:`with_password_from`, or a prompt).

    >>> ClientCert(Path("c.pem"), password_env="PW").with_password_from({"PW": "s3cret"}, missing=KeyError).password
    Secret('***')
    """

    cert: Path | None = None
    key: Path | None = None
    pkcs12: Path | None = None
    password: Secret | None = None
    hosts: tuple[str, ...] = ()
    # where the password comes from, not what the certificate is: left out of equality
    password_env: str | None = field(default=None, compare=False)

    def applies_to(self, host: str) -> bool:
        return not self.hosts or any(host_matches(p, host) for p in self.hosts)

    def with_password_from(
        self, environ: Mapping[str, str], *, missing: Callable[[str], Exception]
    ) -> ClientCert:
        """This certificate with its password read from ``environ[password_env]``; ``missing(name)`` is raised
        when that variable is not set. Unchanged when it names no variable or already holds the password."""
        if self.password_env is None or self.password is not None:
            return self
        value = environ.get(self.password_env)
        if value is None:
            raise missing(self.password_env)
        return replace(self, password=Secret(value, self.password_env))


@dataclass(frozen=True, slots=True)
class HostSettings:
    """Per-host extras: headers, basic auth, a CA bundle and politeness limits, for the hosts they apply to.

    A header's value is a :class:`Secret` when it was read from an environment variable (``headers_env``):
    it is revealed only when a request is sent, and travels to workers as the variable's name.

    ``max_concurrency`` and ``interval`` (seconds between requests) override ``CheckConfig.max_per_host`` and
    ``CheckConfig.host_interval`` for these hosts; ``None`` keeps the run's value.
    """

    hosts: tuple[str, ...]
    headers: tuple[tuple[str, str | Secret], ...] = ()
    basic_auth: tuple[str, Secret] | None = None
    cacert: Path | None = None
    max_concurrency: int | None = None
    interval: float | None = None

    def applies_to(self, host: str) -> bool:
        return any(host_matches(p, host) for p in self.hosts)


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """Everything one run of ``check`` needs. Build it once; the library reads nothing else."""

    recursive: bool = True
    depth: int | None = None
    max_pages: int = DEFAULT_MAX_PAGES
    # Budgets and trap defences (linkdoctor.engine.traps): what is left out is counted, never silent.
    max_urls: int | None = DEFAULT_MAX_URLS
    max_sitemap_urls: int = DEFAULT_MAX_SITEMAP_URLS
    max_time: float | None = None
    max_queries: int = DEFAULT_MAX_QUERIES
    max_path_depth: int = DEFAULT_MAX_PATH_DEPTH
    trap_depth: int = DEFAULT_TRAP_DEPTH
    trap_ids: int = DEFAULT_TRAP_IDS
    max_links_per_page: int = DEFAULT_MAX_LINKS_PER_PAGE
    # Patterns are linkdoctor.patterns.UserPattern (RE2, linear time) when they come from users.
    include: tuple[Pattern, ...] = ()
    exclude: tuple[Pattern, ...] = ()
    scope: tuple[Pattern, ...] = ()
    base_url: str | None = None
    respect_robots: bool = True
    check_fragments: bool = True
    soft_404: bool = True
    # Keep every referrer of ok links too (else only their count: linkdoctor.engine.state).
    all_referrers: bool = False
    method: Method = Method.AUTO
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    max_per_host: int = DEFAULT_MAX_PER_HOST
    host_interval: float = DEFAULT_HOST_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_body: int = DEFAULT_MAX_BODY
    max_url_length: int = DEFAULT_MAX_URL_LENGTH
    user_agent: str = DEFAULT_USER_AGENT
    headers: tuple[tuple[str, str], ...] = ()
    host_settings: tuple[HostSettings, ...] = ()
    cookie_jar: Path | None = None
    # A DNS server to ask instead of the system's resolver: "IP" or "IP:PORT" (engine/http/dns.py).
    dns_server: str | None = None
    accept: frozenset[int] = frozenset()
    client_certs: tuple[ClientCert, ...] = ()
    cacert: Path | None = None
    insecure: bool = False
    diagnose: bool = False
    # URL rewrites applied before checking: the first pattern that matches rewrites the URL (re.sub, once).
    remap: tuple[tuple[Pattern, str], ...] = ()
    # Stop issuing new checks after this many (in-flight ones finish); the rest is the crawler's frontier.
    max_checks: int | None = None

    def __post_init__(self) -> None:
        # One range check for every face (flags, the file, the API, a monitored site): the schema's validators.
        for o in NUMBERS:
            assert o.field is not None
            reason = number_problem(o, getattr(self, o.field))
            if reason is not None:
                raise ConfigError(f"{o.flags[0] if o.flags else o.field} {reason}")
        if self.dns_server is not None:
            try:
                parse_nameserver(self.dns_server)
            except ValueError as exc:
                raise ConfigError(f"--dns-server: {exc}") from None

    def client_cert_for(self, host: str) -> ClientCert | None:
        """The first client certificate whose hosts match ``host``."""
        return next((c for c in self.client_certs if c.applies_to(host)), None)

    def host_settings_for(self, host: str) -> tuple[HostSettings, ...]:
        return tuple(h for h in self.host_settings if h.applies_to(host))

    def cacert_for(self, host: str) -> Path | None:
        """The CA bundle that verifies ``host``'s certificate: the first matching host setting's ``cacert``,
        else the run's ``cacert``; None means the system's trust store.

        >>> CheckConfig(cacert=Path("ca.pem")).cacert_for("example.org")
        PosixPath('ca.pem')
        """
        per_host = next((s.cacert for s in self.host_settings_for(host) if s.cacert is not None), None)
        return per_host or self.cacert

    def host_limits(self, host: str) -> tuple[int, float]:
        """(requests in flight, seconds between requests) for ``host``: the first matching host setting
        that sets each, else ``max_per_host`` and ``host_interval``.

        >>> CheckConfig(host_settings=(HostSettings(("*.slow.example",), interval=2.0),)).host_limits("a.slow.example")
        (32, 2.0)
        """
        settings = self.host_settings_for(host)
        per_host = next((s.max_concurrency for s in settings if s.max_concurrency is not None), None)
        interval = next((s.interval for s in settings if s.interval is not None), None)
        return (
            self.max_per_host if per_host is None else per_host,
            self.host_interval if interval is None else interval,
        )


__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_HOST_INTERVAL",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_LINKS_PER_PAGE",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_PATH_DEPTH",
    "DEFAULT_MAX_PER_HOST",
    "DEFAULT_MAX_QUERIES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_MAX_URLS",
    "DEFAULT_MAX_URL_LENGTH",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_BACKOFF",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRAP_DEPTH",
    "DEFAULT_TRAP_IDS",
    "DEFAULT_USER_AGENT",
    "PROJECT_URL",
    "CheckConfig",
    "ClientCert",
    "ExitCode",
    "HostSettings",
    "Method",
    "Secret",
    "host_matches",
]
