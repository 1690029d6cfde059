"""What the crawler gets from one fetch, and who does the fetching.

A :class:`Page` is a check result plus what the body held, already parsed (a document's extraction, a
sitemap, or raw text for ``robots.txt``). Parsing next to the fetch lets a remote worker do both and send
back only the links it found (see :mod:`linkdoctor.distributed`); in one process, :class:`LocalPages` fetches
with an :class:`~linkdoctor.engine.check.HttpChecker` and parses right away, and :class:`ParsingPages` (the
crawler's default) hands HTML and CSS to a :class:`~linkdoctor.engine.documents.ParserProcess`.

>>> # page = await LocalPages(checker).page("https://example.org/", want_body=True)
>>> # page.extraction.links if page.extraction else ()
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from linkdoctor.config import Method
from linkdoctor.engine.check import Fetched, HttpChecker, mark_truncated
from linkdoctor.engine.documents import ParserProcess, body_encoding, document_kind, extract_document
from linkdoctor.engine.inputs.sitemap import Sitemap, parse_sitemap, sitemap_result
from linkdoctor.errors import LinkdoctorError
from linkdoctor.extract import Extraction
from linkdoctor.models import CheckResult
from linkdoctor.urls import InvalidURL


class FetchAborted(LinkdoctorError):
    """A page source that can no longer fetch (a lost broker, say): the run stops rather than record
    results it never obtained."""


class FetchInterrupted(FetchAborted):
    """A page source out of reach for now (a lost broker): the run stops, and a later run of the same scan
    can pick up from what was saved (see :mod:`linkdoctor.monitor.scheduler`)."""


@dataclass(frozen=True, slots=True)
class BodySample:
    """The first bytes of a ``2xx`` HTML page's body (at most :data:`SAMPLE_BYTES`), its full size and
    charset: what :mod:`linkdoctor.engine.soft404` compares, held only while the crawler takes the page."""

    head: bytes
    size: int
    charset: str


# Bytes of an HTML page kept for the soft-404 comparison: a template's title and text show early.
SAMPLE_BYTES = 64 * 1024


def sample_of(fetched: Fetched, kind: str | None) -> BodySample | None:
    """The body sample of a ``2xx`` HTML page, or None for anything else."""
    status = fetched.result.status
    if kind != "html" or fetched.body is None or status is None or not 200 <= status < 300:
        return None
    body = fetched.body
    return BodySample(body[:SAMPLE_BYTES], len(body), body_encoding(body, fetched.content_type))


@dataclass(frozen=True, slots=True)
class Page:
    """One fetch as the crawler consumes it. ``body_read`` says whether a body was read at all (the result
    cache keeps only results of bodiless fetches); ``text`` is set only for raw fetches (robots.txt).
    ``resolved``, when the parser already did it, holds each extracted link resolved against
    ``links_base(the page's final URL, extraction.base_href)`` (see :func:`~linkdoctor.engine.documents.links_base`)."""

    result: CheckResult
    body_read: bool = False
    extraction: Extraction | None = None
    sitemap: Sitemap | None = None
    text: str | None = None
    resolved: tuple[str | InvalidURL, ...] | None = None
    # A transient aid, not part of what a page is: it is not compared, and no wire carries it.
    sample: BodySample | None = field(default=None, compare=False)


# Bytes of bodies that may wait for the parser process without holding a fetch slot (ParsingPages).
WAITING_BODY_BYTES = 32 * 1024 * 1024


class PageSource(Protocol):
    """Fetches one URL (no fragment) for the crawler. ``raw`` asks for the body as text, unparsed."""

    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page: ...


def read_page(fetched: Fetched, url: str, *, raw: bool = False) -> Page:
    """Parse what the crawler needs out of ``fetched`` (the fetch of ``url``).

    An error page's body is only read for its fingerprint and never crawled; a sitemap that does not parse
    holds nothing.
    """
    fetched = mark_truncated(fetched)  # a local file cut at max_body, like a page
    result = fetched.result
    body = fetched.body
    if body is None:
        return Page(result)
    if raw:
        return Page(result, body_read=True, text=body.decode("utf-8", errors="replace"))
    if result.status is not None and result.status >= 400:
        return Page(result, body_read=True)
    kind = document_kind(fetched.content_type, result.final_url or url)
    if kind is None:
        return Page(result, body_read=True)
    if kind == "sitemap":
        sitemap = parse_sitemap(body)  # a sitemap cut short says so, like a page cut at --max-body
        return Page(sitemap_result(result, sitemap), body_read=True, sitemap=sitemap)
    text = body.decode(body_encoding(body, fetched.content_type), errors="replace")
    sample = sample_of(fetched, kind)
    return Page(result, body_read=True, extraction=extract_document(kind, text), sample=sample)


class LocalPages:
    """The in-process page source: fetch with ``checker``, parse here."""

    def __init__(self, checker: HttpChecker) -> None:
        self._checker = checker

    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page:
        fetched = await self._checker.fetch(url, want_body=want_body, method=method)
        return read_page(fetched, url, raw=raw)


class ParsingPages:
    """The in-process page source (as :class:`LocalPages`), with HTML and CSS
    extracted by a :class:`ParserProcess`, so a big crawl parses on the second core.

    At most ``fetch_slots`` fetches run at once. A page waiting for the parser process holds none, so the
    network stays busy while the other core parses (the crawler runs more workers than fetch slots). Past
    :data:`WAITING_BODY_BYTES` of bodies waiting so, a page waits with its slot, as memory allows."""

    def __init__(self, checker: HttpChecker, parser: ParserProcess, *, fetch_slots: int) -> None:
        self._checker = checker
        self._parser = parser
        self._fetch_slots = asyncio.Semaphore(fetch_slots)
        self._waiting_bytes = 0

    async def page(
        self, url: str, *, want_body: bool, method: Method | None = None, raw: bool = False
    ) -> Page:
        async with self._fetch_slots:
            fetched = await self._checker.fetch(url, want_body=want_body, method=method)
            kind = _parsed_kind(fetched, url, raw)
            if kind is None:
                return read_page(fetched, url, raw=raw)
            size = len(fetched.body or b"")
            if self._waiting_bytes + size > WAITING_BODY_BYTES:
                return await self._extract(fetched, url, kind)
        self._waiting_bytes += size
        try:
            return await self._extract(fetched, url, kind)
        finally:
            self._waiting_bytes -= size

    async def _extract(self, fetched: Fetched, url: str, kind: str) -> Page:
        page_url = fetched.result.final_url or url
        extraction, resolved = await self._parser.extract(
            kind, fetched.body or b"", fetched.content_type, page_url=page_url
        )
        sample = sample_of(fetched, kind)
        return Page(fetched.result, body_read=True, extraction=extraction, resolved=resolved, sample=sample)


def _parsed_kind(fetched: Fetched, url: str, raw: bool) -> str | None:
    """``html`` or ``css`` when the parser process should extract ``fetched``'s body, else ``None``."""
    result = fetched.result
    if fetched.body is None or raw or (result.status is not None and result.status >= 400):
        return None
    kind = document_kind(fetched.content_type, result.final_url or url)
    return kind if kind in ("html", "css") else None
