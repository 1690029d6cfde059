"""The JSON shapes of the ``/api/v1`` API and the site form, validated by pydantic before the service sees them.

Input (:class:`SiteIn`) is bounded everywhere — lengths, counts, ranges, no control characters — so that
nothing a client sends can reach the database as a value it cannot store. Output models that are not plain
copies of the service's frozen values live here too (:class:`SiteOut` writes intervals as ``"1d"`` like the
input, and hides passwords in notification URLs from anonymous readers).

>>> parse_every("12h")
datetime.timedelta(seconds=43200)
>>> format_every(timedelta(days=7))
'1w'
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from yarl import URL

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import (
    DEFAULT_ALERT_AFTER,
    DEFAULT_BUDGET,
    Scan,
    Site,
    SiteOptions,
    SiteOverview,
    SiteSpec,
    SiteStatus,
)

_PRINTABLE: Final = r"^[^\x00-\x1f\x7f]*$"
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY: Final = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
MAX_LIST: Final = 50
MAX_EVERY: Final = timedelta(days=366)

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE)
]
Text = Annotated[str, StringConstraints(max_length=2048, pattern=_PRINTABLE)]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_PRINTABLE)]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
HeaderName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
]
HttpUrl = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=2048, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$"
    ),
]
Every = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20, pattern=r"^\s*\d{1,6}\s*[smhdw]\s*$")
]
Cron = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[0-9A-Za-z*/,\- ?#LW]+$"
    ),
]


def parse_every(text: str) -> timedelta:
    """``30m``, ``6h``, ``1d``, ``1w`` → a timedelta; anything else is a ConfigError."""
    match = _EVERY.match(text)
    if match is None:
        raise ConfigError(f"not an interval: {text!r} (use a number and s, m, h, d or w, such as 1d)")
    every = timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    if every > MAX_EVERY:
        raise ConfigError(f"the interval {text.strip()} is longer than a year")
    return every


def format_every(every: timedelta) -> str:
    """The shortest ``<n><unit>`` for ``every`` (seconds when nothing larger divides it)."""
    seconds = int(every.total_seconds())
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"  # pragma: no cover - the 1 s unit divides every whole number


def redact_url(url: str) -> str:
    """Hide the password in a notification URL (``mailtos://me:secret@host`` → ``mailtos://me:***@host``).

    >>> redact_url("json://user:pw@hooks.example/x")
    'json://user:***@hooks.example/x'
    """
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return "***"
    if parsed.password is None:
        return url
    return str(parsed.with_password("***")).replace("%2A%2A%2A", "***")


class HeaderEnv(BaseModel):
    """An HTTP header whose value the scan reads from an environment variable of the server."""

    model_config = ConfigDict(extra="forbid")
    name: HeaderName
    env: EnvName


class SiteOptionsIn(BaseModel):
    """How a site is checked. Certificates and keys are file paths on the server, passwords and header values
    names of environment variables: key material never goes through the API or into the database. The fields
    are :class:`SiteOptions`' (the schema's site options; ``tests/unit/test_option_schema.py`` keeps them equal),
    with the API's bounds."""

    model_config = ConfigDict(extra="forbid")
    max_pages: int | None = Field(default=None, ge=1, le=1_000_000)
    depth: int | None = Field(default=None, ge=0, le=1000)
    include: list[Pattern] = Field(default_factory=list, max_length=MAX_LIST)
    exclude: list[Pattern] = Field(default_factory=list, max_length=MAX_LIST)
    accept: list[Annotated[int, Field(ge=100, le=999)]] = Field(default_factory=list, max_length=MAX_LIST)
    headers_env: list[HeaderEnv] = Field(default_factory=list, max_length=MAX_LIST)
    cert_path: Text | None = None
    key_path: Text | None = None
    pkcs12_path: Text | None = None
    password_env: EnvName | None = None
    cert_hosts: list[Name] = Field(default_factory=list, max_length=MAX_LIST)
    cacert_path: Text | None = None
    cert_warning_days: int | None = Field(default=None, ge=0, le=366)
    check_fragments: bool = True
    respect_robots: bool = True

    def to_options(self) -> SiteOptions:
        """The service's value: lists become tuples, header pairs ``(name, env)``, empty paths None."""
        values: dict[str, Any] = {}
        for name in SiteOptions.__dataclass_fields__:
            value = getattr(self, name)
            if name == "headers_env":
                value = tuple((h.name, h.env) for h in value)
            elif isinstance(value, list):
                value = tuple(value)
            elif isinstance(value, str):
                value = value or None
            values[name] = value
        return SiteOptions(**values)

    @classmethod
    def from_options(cls, options: SiteOptions) -> SiteOptionsIn:
        values: dict[str, Any] = {}
        for name in SiteOptions.__dataclass_fields__:
            value = getattr(options, name)
            if name == "headers_env":
                value = [HeaderEnv(name=n, env=e) for n, e in value]
            elif isinstance(value, tuple):
                value = list(value)
            values[name] = value
        return cls(**values)


class SiteIn(BaseModel):
    """A site to add or replace. ``every`` (such as ``1d``) or ``cron``; neither: scanned only on request."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    url: HttpUrl
    every: Every | None = "1d"
    cron: Cron | None = None
    budget: int = Field(default=DEFAULT_BUDGET, ge=1, le=1_000_000, description="link checks per 24 hours")
    scope: list[Pattern] = Field(default_factory=list, max_length=MAX_LIST)
    options: SiteOptionsIn = Field(default_factory=lambda: SiteOptionsIn())
    notify: list[Text] = Field(default_factory=list, max_length=20, description="apprise URLs")
    alert_after: int = Field(default=DEFAULT_ALERT_AFTER, ge=1, le=100)

    @field_validator("every")
    @classmethod
    def _every_is_an_interval(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_every(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    def to_spec(self) -> SiteSpec:
        return SiteSpec(
            name=self.name,
            url=self.url,
            every=parse_every(self.every) if self.every else None,
            cron=self.cron or None,
            budget=self.budget,
            scope=tuple(self.scope),
            options=self.options.to_options(),
            notify=tuple(self.notify),
            alert_after=self.alert_after,
        )


class SiteOut(SiteIn):
    """A stored site as the API shows it."""

    id: int
    created_at: datetime
    next_run_at: datetime | None

    @classmethod
    def of(cls, site: Site, *, redact: bool) -> SiteOut:
        spec = site.spec
        return cls.model_construct(
            id=site.id,
            name=spec.name,
            url=spec.url,
            every=None if spec.every is None else format_every(spec.every),
            cron=spec.cron,
            budget=spec.budget,
            scope=list(spec.scope),
            options=SiteOptionsIn.from_options(spec.options),
            notify=[redact_url(u) for u in spec.notify] if redact else list(spec.notify),
            alert_after=spec.alert_after,
            created_at=site.created_at,
            next_run_at=site.next_run_at,
        )


class SiteOverviewOut(BaseModel):
    """A row of the sites overview."""

    site: SiteOut
    status: SiteStatus
    last_scan: Scan | None
    broken: int
    sparkline: list[int]

    @classmethod
    def of(cls, overview: SiteOverview, *, redact: bool) -> SiteOverviewOut:
        return cls(
            site=SiteOut.of(overview.site, redact=redact),
            status=overview.status,
            last_scan=overview.last_scan,
            broken=overview.broken,
            sparkline=list(overview.sparkline),
        )


class Me(BaseModel):
    user_id: int
    username: str
    via: str
