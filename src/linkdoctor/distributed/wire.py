"""What travels through the broker: the fetch settings of a run, batches of fetches, and parsed pages.

Only what a worker needs to fetch goes out (timeouts, headers, accepted statuses, per-host settings,
client certificate *paths*). Secrets never travel: a key password, a basic-auth password, a header read
from the environment (``headers_env``) and a header that carries a credential (:func:`is_credential`:
``Authorization``, ``Cookie``, a token or key) are sent as the name of the environment variable that holds
them, and the worker reads its own environment. A secret that did not come from the environment cannot be
distributed, and says so (:class:`ConfigError`).

>>> spec = FetchSpec.from_config(CheckConfig(timeout=5.0), env={})
>>> FetchSpec.from_json(spec.to_json()) == spec
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from linkdoctor.codec import result_from_json, result_to_json
from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Method, Secret, reveal
from linkdoctor.engine.fetching import Page
from linkdoctor.engine.inputs.sitemap import Sitemap
from linkdoctor.errors import ConfigError
from linkdoctor.extract import Extraction
from linkdoctor.options import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HOST_INTERVAL,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_PER_HOST,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_METHOD,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_TIMEOUT,
    Context,
    in_context,
)


def env_name_of(secret: Secret, env: Mapping[str, str], what: str) -> str:
    """The environment variable holding ``secret`` (the workers read the same variable): the one it was
    read from, else the first that holds the same value (a value typed on the command line).

    >>> env_name_of(Secret("1", "DOCS_PREVIEW"), {"CI": "1", "DOCS_PREVIEW": "1"}, "the X-Preview header")
    'DOCS_PREVIEW'
    >>> env_name_of(Secret("s3cret"), {"KEY_PASS": "s3cret"}, "the key password")
    'KEY_PASS'
    """
    value = secret.reveal()
    if secret.env is not None and env.get(secret.env) == value:
        return secret.env
    for name in sorted(env):
        if env[name] == value:
            return name
    raise ConfigError(
        f"{what} must come from an environment variable (set on the workers too) to scan with --broker; "
        "secrets never travel through the broker"
    )


# Header names whose values are credentials (RFC 9110's Authorization and Proxy-Authorization, cookies, and
# the usual names of tokens and API keys).
_CREDENTIAL: Final = re.compile(
    r"authorization|cookie|token|secret|password|api[-_]?key|session", re.IGNORECASE
)

# A header on the wire: its name, its value or the environment variable holding it, and which of the two.
WireHeader = tuple[str, str, bool]


def is_credential(name: str, value: str | Secret) -> bool:
    """Whether a header's value is a secret: read from the environment, or named like a credential.

    >>> is_credential("Authorization", "Bearer abc"), is_credential("X-Team", "docs")
    (True, False)
    """
    return isinstance(value, Secret) or _CREDENTIAL.search(name) is not None


def _wire_headers(
    headers: tuple[tuple[str, str | Secret], ...], env: Mapping[str, str]
) -> tuple[WireHeader, ...]:
    return tuple(
        (
            name,
            env_name_of(
                value if isinstance(value, Secret) else Secret(value), env, f"the value of the {name} header"
            ),
            True,
        )
        if is_credential(name, value)
        else (name, reveal(value), False)
        for name, value in headers
    )


def _worker_headers(
    headers: tuple[WireHeader, ...], env: Mapping[str, str]
) -> tuple[tuple[str, Secret | str], ...]:
    return tuple(
        (name, _env_value(value, env, f"the {name} header") if from_env else value)
        for name, value, from_env in headers
    )


def _env_value(name: str, env: Mapping[str, str], what: str) -> Secret:
    if name not in env:
        raise _unset(what, name)
    return Secret(env[name], name)


def _unset(what: str, name: str) -> ConfigError:
    return ConfigError(
        f"{what}: environment variable {name} is not set on this worker, or not allowed there (start the "
        f"worker with --allow-env {name})"
    )


# The worker options that travel as they are: numbers (every other field needs a conversion).
_PLAIN: Final = tuple(
    o.field for o in in_context(Context.WORKER) if o.field and o.type in (int, float) and "." not in o.name
)


def _password_env(cert: ClientCert, env: Mapping[str, str]) -> str | None:
    """The environment variable the workers read ``cert``'s password from: the one it was read from, else
    one that holds the same value."""
    if cert.password is None:
        return None
    password = Secret(cert.password.reveal(), cert.password_env or cert.password.env)
    return env_name_of(password, env, "the client key password")


def _unset_key_password(name: str) -> ConfigError:
    return _unset("client key password", name)


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


def _unpath(value: str | None) -> Path | None:
    return None if value is None else Path(value)


@dataclass(frozen=True, slots=True)
class HostRef:
    """:class:`HostSettings` with the basic-auth password and the secret headers replaced by the names of
    their environment variables."""

    hosts: tuple[str, ...]
    headers: tuple[WireHeader, ...]
    basic_auth: tuple[str, str] | None
    cacert: str | None
    max_concurrency: int | None
    interval: float | None


@dataclass(frozen=True, slots=True)
class FetchSpec:
    """The part of a :class:`CheckConfig` that decides how one URL is fetched and judged: the options of
    :mod:`linkdoctor.options` marked for the workers, with the schema's defaults. Client certificates travel
    as :class:`ClientCert` without their password (``password_env`` names it)."""

    method: str = DEFAULT_METHOD
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
    user_agent: str = ""  # "" : the worker's default (the schema's)
    headers: tuple[WireHeader, ...] = ()
    hosts: tuple[HostRef, ...] = ()
    cookie_jar: str | None = None
    accept: tuple[int, ...] = ()
    certs: tuple[ClientCert, ...] = ()
    cacert: str | None = None
    insecure: bool = False
    # Networks the SSRF guard lets through; None: no guard (the CLI), () : guard with no exceptions.
    allow_private: tuple[str, ...] | None = None

    @classmethod
    def from_config(
        cls, config: CheckConfig, *, env: Mapping[str, str], allow_private: tuple[str, ...] | None = None
    ) -> FetchSpec:
        certs = tuple(
            replace(c, password=None, password_env=_password_env(c, env)) for c in config.client_certs
        )
        hosts = tuple(
            HostRef(
                h.hosts, _wire_headers(h.headers, env),
                None if h.basic_auth is None
                else (h.basic_auth[0], env_name_of(h.basic_auth[1], env, f"the basic-auth password of {h.hosts[0]}")),
                _path(h.cacert), h.max_concurrency, h.interval,
            )
            for h in config.host_settings
        )  # fmt: skip
        return cls(
            method=config.method.value,
            **{name: getattr(config, name) for name in _PLAIN},
            user_agent=config.user_agent,
            headers=_wire_headers(config.headers, env),
            hosts=hosts,
            cookie_jar=_path(config.cookie_jar),
            accept=tuple(sorted(config.accept)),
            certs=certs,
            cacert=_path(config.cacert),
            allow_private=allow_private,
        )

    def to_config(self, *, env: Mapping[str, str]) -> CheckConfig:
        """The worker's :class:`CheckConfig`, with passwords read from the worker's environment."""
        certs = tuple(c.with_password_from(env, missing=_unset_key_password) for c in self.certs)
        hosts = tuple(
            HostSettings(
                h.hosts, _worker_headers(h.headers, env),
                None if h.basic_auth is None
                else (h.basic_auth[0], _env_value(h.basic_auth[1], env, "basic-auth password")),
                _unpath(h.cacert), h.max_concurrency, h.interval,
            )
            for h in self.hosts
        )  # fmt: skip
        config = CheckConfig(
            method=Method(self.method),
            **{name: getattr(self, name) for name in _PLAIN},
            headers=tuple((name, reveal(value)) for name, value in _worker_headers(self.headers, env)),
            host_settings=hosts,
            cookie_jar=_unpath(self.cookie_jar),
            accept=frozenset(self.accept),
            client_certs=certs,
            cacert=_unpath(self.cacert),
            insecure=self.insecure,
        )
        return replace(config, user_agent=self.user_agent) if self.user_agent else config

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: getattr(self, name) for name in self.__dataclass_fields__ if name not in ("hosts", "certs")
        }
        data["headers"] = [list(h) for h in self.headers]
        data["accept"] = list(self.accept)
        data["allow_private"] = None if self.allow_private is None else list(self.allow_private)
        data["certs"] = [
            [_path(c.cert), _path(c.key), _path(c.pkcs12), c.password_env, list(c.hosts)] for c in self.certs
        ]
        data["hosts"] = [
            [list(h.hosts), [list(x) for x in h.headers], None if h.basic_auth is None else list(h.basic_auth),
             h.cacert, h.max_concurrency, h.interval]
            for h in self.hosts
        ]  # fmt: skip
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FetchSpec:
        plain = {
            k: v for k, v in data.items() if k not in ("hosts", "certs", "headers", "accept", "allow_private")
        }
        allow = data.get("allow_private")
        return cls(
            **plain,
            headers=tuple(_header_from_json(h) for h in data.get("headers", ())),
            accept=tuple(data.get("accept", ())),
            allow_private=None if allow is None else tuple(allow),
            certs=tuple(
                ClientCert(_unpath(c), _unpath(k), _unpath(p), hosts=tuple(h), password_env=pw)
                for c, k, p, pw, h in data.get("certs", ())
            ),
            hosts=tuple(
                HostRef(tuple(hs), tuple(_header_from_json(h) for h in hd), None if ba is None else (ba[0], ba[1]), ca, mc, iv)
                for hs, hd, ba, ca, mc, iv in data.get("hosts", ())
            ),
        )  # fmt: skip


def _header_from_json(header: list[Any]) -> WireHeader:
    name, value, from_env = header
    return (str(name), str(value), bool(from_env))


@dataclass(frozen=True, slots=True)
class FetchItem:
    """One fetch the crawler asked for; ``key`` names it in dedupe sets, replies and the store."""

    url: str
    want_body: bool
    method: str | None = None
    raw: bool = False
    key: str = field(default="", compare=False)
    attempt: int = field(default=0, compare=False)  # retries already made (the coordinator schedules them)

    def __post_init__(self) -> None:
        if not self.key:
            text = f"{int(self.want_body)}|{self.method or ''}|{int(self.raw)}|{self.url}"
            object.__setattr__(self, "key", hashlib.blake2b(text.encode(), digest_size=16).hexdigest())

    def to_json(self) -> list[Any]:
        return [self.url, self.want_body, self.method, self.raw, self.attempt]

    @classmethod
    def from_json(cls, data: list[Any]) -> FetchItem:
        url, want_body, method, raw = data[:4]
        return cls(url, bool(want_body), method, bool(raw), attempt=int(data[4]) if len(data) > 4 else 0)


@dataclass(frozen=True, slots=True)
class Batch:
    """A unit of work: fetches of one scan, with the settings to fetch them."""

    scan: str
    id: str
    spec: FetchSpec
    items: tuple[FetchItem, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scan": self.scan,
            "id": self.id,
            "spec": self.spec.to_json(),
            "items": [i.to_json() for i in self.items],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Batch:
        return cls(
            data["scan"],
            data["id"],
            FetchSpec.from_json(data["spec"]),
            tuple(FetchItem.from_json(i) for i in data["items"]),
        )


def page_to_json(page: Page) -> dict[str, Any]:
    """A :class:`Page` as JSON-ready values (the inverse of :func:`page_from_json`)."""
    data: dict[str, Any] = {"result": result_to_json(page.result), "body_read": page.body_read}
    if page.extraction is not None:
        e = page.extraction
        data["extraction"] = {
            "links": [list(row) for row in e.rows],
            "anchors": sorted(e.anchors),
            "base_href": e.base_href,
            "nofollow": e.nofollow,
        }
    if page.sitemap is not None:
        sitemap = page.sitemap
        data["sitemap"] = {"locs": list(sitemap.locs), "is_index": sitemap.is_index, "total": sitemap.total}
    if page.text is not None:
        data["text"] = page.text
    return data


def page_from_json(data: Mapping[str, Any]) -> Page:
    extraction = None
    if (e := data.get("extraction")) is not None:
        extraction = Extraction(
            rows=tuple((url, line, text, element) for url, line, text, element in e["links"]),
            anchors=frozenset(e["anchors"]),
            base_href=e["base_href"],
            nofollow=e["nofollow"],
        )
    sitemap = None
    if (s := data.get("sitemap")) is not None:
        sitemap = Sitemap(tuple(s["locs"]), s["is_index"], s.get("total", 0))
    return Page(
        result_from_json(data["result"]),
        body_read=data["body_read"],
        extraction=extraction,
        sitemap=sitemap,
        text=data.get("text"),
    )
