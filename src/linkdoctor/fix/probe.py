"""The requests ``fix`` makes beyond the check, through the engine's checker and transport: proving an
http → https upgrade (the https URL answers ``ok`` with the content type the http one ends at), reading the
page behind a missing fragment (a local file from disk, else over HTTP), and asking a web archive's
availability API (Wayback's ``/wayback/available?url=`` JSON) for the closest copy of a dead page.

    async with Prober(config) as prober:
        copy = await prober.archived_copy("https://gone.example/page", endpoint)
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import quote

from linkdoctor.config import CheckConfig
from linkdoctor.engine.check import HttpChecker
from linkdoctor.engine.documents import body_encoding, document_kind
from linkdoctor.engine.http.limiter import HostLimiter
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.engine.local import path_of
from linkdoctor.engine.transport import Transport, TransportError
from linkdoctor.fix.model import FixKind, Proposal, Skipped
from linkdoctor.fix.rules import with_fragment
from linkdoctor.models import Category, CheckResult
from linkdoctor.tls.context import TLSContextFactory
from linkdoctor.urls import host_of, split_fragment

ARCHIVE_BODY_LIMIT = 256 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    """A target document's kind (``html`` or ``markdown``) and text."""

    kind: str
    text: str


class Prober:
    """Owns a transport, TLS contexts and a checker for the run's extra requests; an async context manager.
    ``transport`` replaces the network one (tests; the caller closes it)."""

    def __init__(
        self, config: CheckConfig, *, sites: tuple[LocalSite, ...] = (), transport: Transport | None = None
    ) -> None:
        self._config = config
        self._sites = sites
        self._stack = AsyncExitStack()
        self._tls: TLSContextFactory | None = None
        self._transport: Transport | None = transport
        self._checker: HttpChecker | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()
        if self._tls is not None:
            self._tls.close()

    async def _ready(self) -> tuple[Transport, HttpChecker, TLSContextFactory]:
        """The transport and checker, opened on first use (a plan with no network question opens none)."""
        if self._tls is None:
            self._tls = TLSContextFactory(self._config)
        if self._transport is None:
            from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport

            self._transport = await self._stack.enter_async_context(AiohttpTransport(self._config))
        if self._checker is None:
            config = self._config
            limiter = HostLimiter(config.max_per_host, config.host_interval, limits=config.host_limits)
            self._checker = HttpChecker(self._transport, config, limiter=limiter, tls=self._tls)
        return self._transport, self._checker, self._tls

    async def https_upgrade(self, result: CheckResult, https_url: str) -> Proposal | Skipped:
        """Prove that ``https_url`` serves what the http link ends at: both ``ok``, the same content type."""
        _, checker, _ = await self._ready()
        secure = await checker.fetch(split_fragment(https_url)[0], want_body=False)
        plain = await checker.fetch(split_fragment(result.url)[0], want_body=False)
        if secure.result.category is not Category.OK:
            what = secure.result.status or secure.result.error or secure.result.category
            return Skipped(
                result.url, f"the https URL {https_url} does not answer ok ({what})", FixKind.HTTPS
            )
        if plain.result.category not in (Category.OK, Category.REDIRECTED):
            return Skipped(result.url, "the http URL no longer ends at an ok page", FixKind.HTTPS)
        plain_type, secure_type = _media_type(plain.content_type), _media_type(secure.content_type)
        if plain_type != secure_type:
            return Skipped(
                result.url,
                f"the https URL answers {secure_type or 'no content type'}, the http one {plain_type or 'none'}",
                FixKind.HTTPS,
            )
        status = result.redirects[0].status
        reason = (
            f"http redirects ({status}) to {split_fragment(https_url)[0]}, which answers ok ({secure_type})"
        )
        return Proposal(result.url, with_fragment(result.url, https_url), FixKind.HTTPS, reason)

    async def page(self, url: str) -> Page | None:
        """The document at ``url`` (no fragment): a local file read from disk, else fetched."""
        url = split_fragment(url)[0]
        site = next((s for s in self._sites if url.startswith(s.base)), None)
        path = path_of(url, site)
        if path is not None:
            kind = document_kind("", path.name) or "html"
            try:
                return Page(kind, path.read_bytes().decode("utf-8", "replace"))
            except OSError:
                return None
        if not url.startswith(("http:", "https:")):
            return None
        _, checker, _ = await self._ready()
        fetched = await checker.fetch(url, want_body=True)
        if fetched.body is None or fetched.result.category is not Category.OK:
            return None
        fetched_kind = document_kind(fetched.content_type, fetched.result.final_url or url)
        if fetched_kind not in ("html", "markdown"):
            return None
        body = fetched.body
        return Page(fetched_kind, body.decode(body_encoding(body, fetched.content_type), "replace"))

    async def archived_copy(self, url: str, endpoint: str) -> str | None:
        """The closest archived copy of ``url`` that answered 200 when archived, from the availability API
        at ``endpoint`` (``{"archived_snapshots": {"closest": {"available": true, "url": …, "status": "200"}}}``);
        None when there is none or the API does not answer."""
        transport, _, tls = await self._ready()
        query = f"{endpoint}{'&' if '?' in endpoint else '?'}url={quote(url, safe='')}"
        host = host_of(query)
        context = tls.context_for(host) if query.startswith("https:") else True
        try:
            answer = await transport.send(
                "GET", query, headers={"Accept": "application/json"}, tls=context,
                body_limit=lambda status, headers, url: ARCHIVE_BODY_LIMIT,
            )  # fmt: skip
        except TransportError:
            return None
        if answer.status != 200 or not answer.body:
            return None
        return closest_snapshot(answer.body)


def closest_snapshot(body: bytes) -> str | None:
    """The snapshot URL of an availability API answer, when it is available and was archived with 200.

    >>> closest_snapshot(b'{"archived_snapshots": {"closest": {"available": true, "status": "200",'
    ...                  b' "url": "http://web.archive.org/web/2013/http://a.example/"}}}')
    'http://web.archive.org/web/2013/http://a.example/'
    >>> closest_snapshot(b'{"archived_snapshots": {}}') is None
    True
    """
    try:
        data = json.loads(body)
    except ValueError:
        return None
    snapshots = data.get("archived_snapshots") if isinstance(data, dict) else None
    closest = snapshots.get("closest") if isinstance(snapshots, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is not True:
        return None
    snapshot = closest.get("url")
    if not isinstance(snapshot, str) or not snapshot.startswith(("http://", "https://")):
        return None
    if str(closest.get("status", "200")) != "200":
        return None
    return snapshot


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()
