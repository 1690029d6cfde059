"""The aiohttp session factory: one connection pool per run, keep-alive, our User-Agent, the cookie jar.

TLS is chosen per request (``ssl=`` from :class:`linkdoctor.tls.context.TLSContextFactory`), so one pool
serves hosts with and without client certificates. Only the aiohttp transport
(:mod:`linkdoctor.engine.http.aiohttp_transport`) builds sessions.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from linkdoctor.config import CheckConfig
from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.errors import ConfigError


def load_cookie_jar(path: Path) -> aiohttp.CookieJar:
    """Load a Netscape/Mozilla ``cookies.txt`` file (as written by curl and browser extensions)."""
    # Imported here: only --cookie-jar needs the stdlib's cookie files, and most runs have none.
    import http.cookiejar

    mozilla = http.cookiejar.MozillaCookieJar(str(path))
    try:
        # The stdlib warns with a traceback ("http.cookiejar bug!") on lines of the wrong shape.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mozilla.load(ignore_discard=True, ignore_expires=True)
    except UnicodeDecodeError:
        raise ConfigError(
            f"cannot read cookie jar {path}: not a text cookies.txt file (binary or not UTF-8)"
        ) from None
    except (OSError, http.cookiejar.LoadError, ValueError) as exc:
        raise ConfigError(f"cannot read cookie jar {path}: {_one_line(exc)}") from None
    jar = aiohttp.CookieJar(unsafe=True)
    for cookie in mozilla:
        if cookie.value is None:
            continue
        domain = cookie.domain.lstrip(".")
        scheme = "https" if cookie.secure else "http"
        jar.update_cookies({cookie.name: cookie.value}, URL(f"{scheme}://{domain}{cookie.path}"))
    return jar


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + "…" if len(text) > 200 else text


def create_session(
    config: CheckConfig, *, guard: SSRFGuard | None = None, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """A session for one run. Per-host limits are enforced by :class:`~linkdoctor.engine.http.limiter.HostLimiter`,
    so the connector only caps the total number of connections. With a ``guard`` (the server mode's SSRF
    guard), every connection the session opens is vetted by it."""
    connector = aiohttp.TCPConnector(
        resolver=resolver,  # engine/http/dns.py: concurrent, shared and bounded lookups (closed by its owner)
        limit=config.max_concurrency,
        limit_per_host=0,
        ttl_dns_cache=300,
        enable_cleanup_closed=False,
        socket_factory=guard.socket_factory if guard is not None else None,
    )
    cookie_jar = load_cookie_jar(config.cookie_jar) if config.cookie_jar else aiohttp.CookieJar(unsafe=True)
    timeout = aiohttp.ClientTimeout(total=config.timeout, connect=config.connect_timeout)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=cookie_jar,
        timeout=timeout,
        headers={"User-Agent": config.user_agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        auto_decompress=True,
        trust_env=False,
        max_line_size=16384,
        max_field_size=16384,
    )
