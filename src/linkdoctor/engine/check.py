"""Check one URL over HTTP: redirects hop by hop, HEAD then GET, retries with backoff, bounded body reads.

:meth:`HttpChecker.fetch` never raises for a dead link: every failure becomes a :class:`CheckResult`. The
checker owns the policy; each request goes through a :class:`~linkdoctor.engine.transport.Transport`
(the network in a real run, a dict in a test), whose failures arrive as neutral
:class:`~linkdoctor.engine.transport.TransportError` values.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urljoin, urlsplit

from linkdoctor.classify import codes
from linkdoctor.classify.http import classify_response
from linkdoctor.classify.nginx_pages import FINGERPRINT_BYTES, looks_like_nginx
from linkdoctor.config import CheckConfig, Method, reveal
from linkdoctor.engine.http.limiter import HostLimiter
from linkdoctor.engine.inputs.sitemap import looks_like_sitemap_url
from linkdoctor.engine.transport import Answer, Transport, TransportError
from linkdoctor.models import Category, CheckResult, ErrorKind, Redirect

if TYPE_CHECKING:
    from linkdoctor.tls.certs import LoadedClientCert
    from linkdoctor.tls.probe import ProbeResult
from linkdoctor.urls import host_of, normalize, origin

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_ERRORS = frozenset({ErrorKind.TIMEOUT, ErrorKind.RESET, ErrorKind.CONNECTION_CLOSED})
# Categories a cut body is reported on (an error page is only read for its fingerprint).
_CUT_VISIBLE = frozenset({Category.OK, Category.REDIRECTED})
_PARSEABLE = ("text/html", "application/xhtml+xml", "text/css", "xml", "text/markdown", "text/plain")
# Codes a handshake probe can sharpen (see HttpChecker._refine_tls).
_REFINABLE = frozenset({"tls.client-cert-rejected", "tls.handshake-failed", "tls.server-cert-untrusted"})


class ContextProvider(Protocol):
    """Where the checker gets the ``ssl=`` argument for a host (see ``linkdoctor.tls.context``)."""

    def context_for(self, host: str) -> ssl.SSLContext | bool: ...

    def client_cert_for(self, host: str) -> LoadedClientCert | None: ...


@dataclass(frozen=True, slots=True)
class Fetched:
    """A check result plus what the crawler needs from the body (only for parseable content)."""

    result: CheckResult
    body: bytes | None = None
    content_type: str = ""
    truncated: bool = False


def mark_truncated(fetched: Fetched, limit: int | None = None) -> Fetched:
    """``fetched`` with the ``http.body-truncated`` warning when its body was cut at the limit and the answer
    was otherwise fine: how much was read (less than ``limit``: a decompression bomb cut early), and that
    links past the cut were not checked. The category stays (ok, or redirected): the link works, and what
    was not checked is counted as left out instead.

    >>> cut = Fetched(CheckResult("https://e.org/", Category.OK), b"x" * 10, "text/html", truncated=True)
    >>> mark_truncated(cut).result.diagnosis.code
    'http.body-truncated'
    """
    result = fetched.result
    if not fetched.truncated or result.diagnosis is not None or result.category not in _CUT_VISIBLE:
        return fetched
    read = len(fetched.body or b"")
    detail = f"read the first {read:,} bytes"
    if limit is not None and read < limit:  # cut before the limit: the transport saw a decompression bomb
        detail += ", where the compressed body expanded like a decompression bomb"
    return replace(fetched, result=replace(result, diagnosis=codes.make("http.body-truncated", detail)))


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date) into seconds from ``now`` (epoch seconds)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


def is_parseable(content_type: str) -> bool:
    return any(t in content_type for t in _PARSEABLE)


def is_retryable(result: CheckResult) -> bool:
    """Whether a check that ended with ``result`` is worth another attempt (a timeout, a reset, a 5xx…).

    >>> is_retryable(CheckResult("https://a.example/", Category.BROKEN, status=503))
    True
    """
    if result.error is not None:
        return result.error in _RETRY_ERRORS
    return result.status in _RETRY_STATUS


class HttpChecker:
    """Checks URLs over one transport, politely, and returns results as values."""

    def __init__(
        self,
        transport: Transport,
        config: CheckConfig,
        *,
        limiter: HostLimiter,
        tls: ContextProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._transport = transport
        self._config = config
        self._limiter = limiter
        self._tls = tls
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._nginx_origins: set[str] = set()
        self._cert_hosts = tuple(h for cert in config.client_certs for h in cert.hosts)
        self._probed_origins: dict[str, bool] = {}
        self._probes: dict[tuple[str, int], ProbeResult] = {}
        self._host_headers: dict[str, dict[str, str]] = {}
        self.requests = 0

    async def fetch(self, url: str, *, want_body: bool, method: Method | None = None) -> Fetched:
        """Check ``url`` (no fragment). ``want_body`` reads parseable bodies (pages, CSS, sitemaps) up to
        ``max_body`` bytes; otherwise ``method`` (default from config) decides HEAD or GET."""
        method = method or (Method.GET if want_body else self._config.method)
        if method is Method.AUTO:
            first = await self._with_retries(url, "HEAD", want_body=False)
            if first.result.category in (Category.OK, Category.REDIRECTED) or first.result.error in (
                ErrorKind.DNS,
                ErrorKind.REFUSED,
                ErrorKind.TIMEOUT,
                ErrorKind.TLS,
                ErrorKind.INVALID_URL,
                ErrorKind.REDIRECT_LOOP,
                ErrorKind.TOO_MANY_REDIRECTS,
            ):
                return first
            return await self._with_retries(url, "GET", want_body=False)
        verb = "HEAD" if method is Method.HEAD else "GET"
        return await self._with_retries(url, verb, want_body=want_body)

    async def _with_retries(self, url: str, verb: str, *, want_body: bool) -> Fetched:
        fetched = await self._retrying(url, verb, want_body=want_body)
        diagnosis = fetched.result.diagnosis
        if diagnosis is not None and diagnosis.code in _REFINABLE:
            fetched = await self._refine_tls(fetched, diagnosis.code)
        return fetched

    async def _refine_tls(self, fetched: Fetched, code: str) -> Fetched:
        """Name the real TLS cause with one handshake probe per host: which CAs the server accepts for
        client certificates, whether it asked for one at all, and the chain it sent."""
        from linkdoctor.classify.tls import classify_verify_code
        from linkdoctor.tls.certs import refine_client_cert_rejection
        from linkdoctor.tls.probe import probe

        result = fetched.result
        parts = urlsplit(result.final_url or result.url)
        host = (parts.hostname or "").lower()
        port = parts.port or 443
        client = self._tls.client_cert_for(host) if self._tls is not None else None
        key = (host, port)
        if key not in self._probes:
            self._probes[key] = await asyncio.to_thread(
                probe,
                host,
                port,
                client=client,
                timeout=self._config.timeout,
                cafile=self._config.cacert_for(host),
            )
        seen = self._probes[key]
        now = datetime.fromtimestamp(self._wall_clock(), UTC)
        refined = code
        if code == "tls.handshake-failed" and seen.cert_requested:
            refined = "tls.client-cert-rejected" if client is not None else "tls.client-cert-required"
        elif code == "tls.server-cert-untrusted" and seen.verify_code is not None:
            refined = classify_verify_code(seen.verify_code, seen.peer_chain)
        if refined == "tls.client-cert-rejected":
            refined = refine_client_cert_rejection(client, seen.client_ca_names, now)
        if refined == code:
            return fetched
        detail = result.diagnosis.summary.partition(": ")[2] if result.diagnosis else ""
        if refined == "tls.client-cert-untrusted-ca" and seen.client_ca_names:
            detail = "the server accepts certificates from: " + "; ".join(
                n.rfc4514_string() for n in seen.client_ca_names
            )
        return replace(fetched, result=replace(result, diagnosis=codes.make(refined, detail)))

    async def _retrying(self, url: str, verb: str, *, want_body: bool) -> Fetched:
        started = self._clock()
        attempt = 0
        while True:
            fetched, retry_after = await self._follow(url, verb, want_body=want_body, started=started)
            result = fetched.result
            if attempt >= self._config.retries or not self._retryable(result):
                return fetched
            attempt += 1
            host = host_of(result.final_url or url)
            if retry_after is not None:
                if retry_after > self._config.max_retry_after:
                    return fetched
                # Pause the whole host, so queued requests wait too instead of hammering it.
                self._limiter.pause(host, retry_after)
            else:
                delay = self._config.retry_backoff * (2 ** (attempt - 1))
                await asyncio.sleep(delay * (0.5 + self._rng.random()))

    @staticmethod
    def _retryable(result: CheckResult) -> bool:
        return is_retryable(result)

    async def _follow(
        self, url: str, verb: str, *, want_body: bool, started: float
    ) -> tuple[Fetched, float | None]:
        chain: list[Redirect] = []
        seen = {url}
        current = url
        while True:
            try:
                answer = await self._request(current, verb, want_body=want_body)
            except TransportError as failure:
                result = CheckResult(
                    url=url,
                    category=Category.BROKEN,
                    final_url=current,
                    redirects=tuple(chain),
                    elapsed_ms=self._elapsed(started),
                    error=failure.kind,
                    error_message=str(failure),
                    diagnosis=codes.make(failure.code, str(failure)),
                )
                if failure.kind is ErrorKind.CONNECTION_CLOSED:
                    result = await self._explain_empty_reply(result, current)
                return Fetched(result), None
            location = answer.headers.get("location")
            if answer.status in _REDIRECTS and location:
                chain.append(Redirect(current, answer.status))
                try:
                    target = normalize(urljoin(current, location.strip())).partition("#")[0]
                except ValueError:
                    return self._fail(
                        url, current, chain, started, ErrorKind.INVALID_URL, "url.invalid"
                    ), None
                if (scheme := urlsplit(target).scheme) not in ("http", "https"):
                    # Never followed (a file: target is on the reader's machine, not this one's disk).
                    code = "url.file-on-web" if scheme == "file" else "url.unsupported-scheme"
                    return self._fail(url, target, chain, started, ErrorKind.UNSUPPORTED_SCHEME, code), None
                if target in seen:
                    return self._fail(
                        url, target, chain, started, ErrorKind.REDIRECT_LOOP, "http.redirect-loop"
                    ), None
                if len(chain) > self._config.max_redirects:
                    return self._fail(
                        url, target, chain, started, ErrorKind.TOO_MANY_REDIRECTS, "http.too-many-redirects"
                    ), None
                seen.add(target)
                current = target
                if answer.status == 303:
                    verb = "GET"
                continue
            return self._final(url, current, chain, started, answer), self._retry_after(answer)

    def _retry_after(self, answer: Answer) -> float | None:
        if answer.status not in (429, 503):
            return None
        return retry_after_seconds(answer.headers.get("retry-after"), self._wall_clock())

    def _final(
        self, url: str, current: str, chain: list[Redirect], started: float, answer: Answer
    ) -> Fetched:
        body = answer.body or b""
        host = host_of(current)
        if looks_like_nginx(answer.headers.get("server"), body):
            self._nginx_origins.add(origin(current))
        verdict = classify_response(
            answer.status,
            answer.headers,
            body[:FINGERPRINT_BYTES],
            redirected=bool(chain),
            accept=self._config.accept,
            has_client_cert=self._tls is not None and self._tls.client_cert_for(host) is not None,
            cert_hosts=self._cert_hosts,
            host=host,
        )
        result = CheckResult(
            url=url,
            category=verdict.category,
            status=answer.status,
            reason=answer.reason,
            precise_status=verdict.precise_status,
            final_url=current,
            redirects=tuple(chain),
            elapsed_ms=self._elapsed(started),
            diagnosis=verdict.diagnosis,
            error_message=f"body truncated at {self._config.max_body} bytes" if answer.truncated else "",
        )
        content_type = answer.headers.get("content-type", "").lower()
        fetched = Fetched(result, answer.body, content_type, answer.truncated)
        return mark_truncated(fetched, self._config.max_body) if answer.truncated else fetched

    def _fail(
        self, url: str, current: str, chain: list[Redirect], started: float, kind: ErrorKind, code: str
    ) -> Fetched:
        detail = f"after {len(chain)} redirects" if chain else ""
        return Fetched(
            CheckResult(
                url=url,
                category=Category.BROKEN,
                final_url=current,
                redirects=tuple(chain),
                elapsed_ms=self._elapsed(started),
                error=kind,
                error_message=detail,
                diagnosis=codes.make(code, detail),
                status=chain[-1].status if chain else None,
                precise_status=chain[-1].status if chain else None,
            )
        )

    async def _explain_empty_reply(self, result: CheckResult, url: str) -> CheckResult:
        """An empty reply is nginx's ``return 444`` when the server is (or answers like) nginx."""
        site = origin(url)
        if site not in self._nginx_origins and site not in self._probed_origins:
            self._probed_origins[site] = await self._probe_server_header(site + "/")
        if site in self._nginx_origins or self._probed_origins.get(site):
            return replace(
                result,
                precise_status=444,
                diagnosis=codes.make("http.connection-closed-no-response", "nginx closed it (444)"),
            )
        return result

    async def _probe_server_header(self, url: str) -> bool:
        try:
            answer = await self._request(url, "HEAD", want_body=False)
        except TransportError:
            return False
        return looks_like_nginx(answer.headers.get("server"))

    def _headers_for(self, host: str) -> dict[str, str]:
        """Global headers, then the host's own; chosen per hop, so a redirect to another host never
        carries a host's auth along."""
        headers = self._host_headers.get(host)
        if headers is None:
            headers = self._host_headers[host] = self._build_headers(host)
        return headers

    def _build_headers(self, host: str) -> dict[str, str]:
        headers = dict(self._config.headers)
        for settings in self._config.host_settings_for(host):
            headers.update((name, reveal(value)) for name, value in settings.headers)
            if settings.basic_auth:
                user, password = settings.basic_auth
                token = base64.b64encode(f"{user}:{password.reveal()}".encode()).decode("ascii")
                headers["Authorization"] = f"Basic {token}"
        return headers

    async def _request(self, url: str, verb: str, *, want_body: bool) -> Answer:
        host = host_of(url)
        headers = self._headers_for(host)
        ssl_arg: ssl.SSLContext | bool = True
        if self._tls is not None and url.startswith("https:"):
            ssl_arg = self._tls.context_for(host)
        async with self._limiter.slot(host):
            self.requests += 1
            return await self._transport.send(
                verb,
                url,
                headers=headers,
                tls=ssl_arg,
                body_limit=self._document_limit if want_body else self._error_page_limit,
            )

    def _error_page_limit(self, status: int, headers: Mapping[str, str], url: str) -> int:
        """How much of an answer's body to read when the body itself is not wanted: an error page's
        start, for the nginx fingerprint."""
        if status == 400 or (status >= 400 and "nginx" in headers.get("server", "")):
            return FINGERPRINT_BYTES
        return 0

    def _document_limit(self, status: int, headers: Mapping[str, str], url: str) -> int:
        """The same, when the body is wanted: a successful document to parse, up to ``max_body``."""
        if status < 300 and (
            is_parseable(headers.get("content-type", "").lower())
            or looks_like_sitemap_url(unquote(urlsplit(url).path))
        ):
            return self._config.max_body
        return self._error_page_limit(status, headers, url)

    def _elapsed(self, started: float) -> float:
        return round((self._clock() - started) * 1000, 1)
