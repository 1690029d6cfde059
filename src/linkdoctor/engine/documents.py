"""What a fetched body is and how to read it: document kind, charset, extraction, fragment lookup.

Pure functions used by the crawler (and by anything else that parses fetched pages), plus
:class:`ParserProcess`, which runs the extraction of a big crawl's pages in a second process so that
parsing and the network use both cores. This module imports only the extractors at load time, so that
process starts quickly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from urllib.parse import unquote, urlsplit

from linkdoctor.extract import Extraction, extract_css, extract_html
from linkdoctor.extract.model import LinkRow
from linkdoctor.urls import InvalidURL, Resolver, resolve

# Fragments every browser resolves without a matching id.
_IGNORED_FRAGMENTS = frozenset({"", "top"})


def fragment_found(fragment: str, anchors: frozenset[str]) -> bool:
    """Whether ``#fragment`` lands on the page (ids, ``<a name>``, ``#top``, text fragments).

    >>> fragment_found("sec%202", frozenset({"sec 2"}))
    True
    """
    if fragment in _IGNORED_FRAGMENTS or fragment.startswith(":~:"):
        return True
    return fragment in anchors or unquote(fragment) in anchors


def document_kind(content_type: str, url: str) -> str | None:
    """``html``, ``css``, ``markdown``, ``sitemap`` or ``None`` (nothing to parse), by type and path."""
    path = urlsplit(url).path.lower()
    if "html" in content_type or path.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if "css" in content_type or path.endswith(".css"):
        return "css"
    if "markdown" in content_type or path.endswith((".md", ".markdown")):
        return "markdown"
    # Imported here: the parser process needs neither (and linkdoctor.engine.check would load the checker there).
    from linkdoctor.engine.check import is_parseable
    from linkdoctor.engine.inputs.sitemap import looks_like_sitemap_url

    if "xml" in content_type or looks_like_sitemap_url(url):
        return "sitemap"
    if not content_type or is_parseable(content_type):
        return "html" if path.endswith("/") or "." not in path.rpartition("/")[2] else None
    return None


def charset_of(content_type: str) -> str:
    """The ``charset`` parameter of a Content-Type when Python knows it, else UTF-8.

    >>> charset_of("text/html; charset=ISO-8859-1")
    'iso-8859-1'
    """
    _, _, params = content_type.partition(";")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ").lower()
            try:
                "".encode(name)
            except LookupError:
                return "utf-8"
            return name
    return "utf-8"


def extract_document(kind: str, text: str) -> Extraction:
    """Extract with the parser for ``kind`` (HTML for anything unknown)."""
    if kind == "css":
        return extract_css(text)
    if kind == "markdown":
        from linkdoctor.extract.markdown import extract_markdown  # markdown-it only when needed

        return extract_markdown(text)
    return extract_html(text)


# An extraction as it crosses the process boundary: links as (url, line, text, element), anchors,
# base href, nofollow, and each link resolved against the job's base URL (or None when the job has none).
# Plain tuples and strings pickle in C; the frozen dataclasses would not.
CompactExtraction = tuple[
    tuple[LinkRow, ...],
    tuple[str, ...],
    str | None,
    bool,
    tuple[str | InvalidURL, ...] | None,
]
ParseJob = tuple[str, bytes, str, str | None]  # (kind, body, content type, base URL to resolve against)
# Fork on Linux: the worker starts at once and never re-runs the caller's __main__ (a library caller's
# script need not guard itself); elsewhere fork is unsafe or missing, so spawn.
_START_METHOD = "fork" if sys.platform == "linux" else "spawn"
_worker_resolver: Resolver | None = None


def links_base(page_url: str, base_href: str | None) -> str:
    """What a document's relative links resolve against: its ``<base href>`` when that resolves, else
    the page's own URL."""
    if base_href:
        resolved = resolve(page_url, base_href)
        if isinstance(resolved, str):
            return resolved
    return page_url


def extract_batch(jobs: Sequence[ParseJob], resolver: Resolver | None = None) -> list[CompactExtraction]:
    """Decode and extract each job and resolve its links when it names a base: the parser process's work
    (it keeps one :class:`Resolver` for all its batches)."""
    global _worker_resolver
    if resolver is None:
        resolver = _worker_resolver = _worker_resolver or Resolver()
    out: list[CompactExtraction] = []
    for kind, body, content_type, page_url in jobs:
        found = extract_document(kind, body.decode(charset_of(content_type), errors="replace"))
        rows, base_href = found.rows, found.base_href
        resolved = None
        if page_url is not None:
            resolved = resolver.page(links_base(page_url, base_href), [url for url, _, _, _ in rows])
        out.append((rows, tuple(found.anchors), base_href, found.nofollow, resolved))
    return out


def from_compact(compact: CompactExtraction) -> tuple[Extraction, tuple[str | InvalidURL, ...] | None]:
    """The :class:`Extraction` that :func:`extract_batch` flattened, and the links' resolutions."""
    links, anchors, base_href, nofollow, resolved = compact
    extraction = Extraction(links, frozenset(anchors), base_href, nofollow)
    return extraction, resolved


class ParserProcess:
    """Extraction for one crawl, moved to a worker process once the crawl passes ``after`` documents.

    Small crawls never pay for the process. Until the worker has started, documents are parsed here;
    after that, documents that arrive while a batch is in the worker wait for the next batch (at most
    ``in_flight`` batches at a time), which keeps the pipe's cost per page small. If the worker dies,
    its documents are parsed here. Call :meth:`close` when the crawl ends.
    """

    def __init__(self, *, after: int = 30, in_flight: int = 2) -> None:
        self._after = after
        self._max_in_flight = in_flight
        self._seen = 0
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[list[CompactExtraction]] | None = None
        self._pending: list[tuple[ParseJob, asyncio.Future[CompactExtraction]]] = []
        self._in_flight = 0
        self._broken = False

    @property
    def started(self) -> bool:
        """Whether the worker process is up and takes documents."""
        ready = self._ready
        return not self._broken and ready is not None and ready.done() and ready.exception() is None

    async def extract(
        self, kind: str, body: bytes, content_type: str, *, page_url: str | None = None
    ) -> tuple[Extraction, tuple[str | InvalidURL, ...] | None]:
        """What :func:`extract_document` finds in ``body`` decoded per ``content_type`` and, when the
        worker did the parsing, the links resolved against ``page_url`` (see :func:`links_base`)."""
        self._seen += 1
        if self._ready is None and not self._broken and self._seen > self._after:
            try:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(_START_METHOD))
                self._ready = self._pool.submit(extract_batch, [])
            except (OSError, RuntimeError):  # no process to be had: parse here
                self._broken = True
        if not self.started:
            return extract_document(kind, body.decode(charset_of(content_type), errors="replace")), None
        waiter: asyncio.Future[CompactExtraction] = asyncio.get_running_loop().create_future()
        self._pending.append(((kind, body, content_type, page_url), waiter))
        self._send()
        return from_compact(await waiter)

    def _send(self) -> None:
        if self._in_flight >= self._max_in_flight or not self._pending:
            return
        batch, self._pending = self._pending, []
        jobs = [job for job, _ in batch]
        if self._pool is None or self._broken:
            self._deliver(batch, _extract_here(jobs))
            return
        try:
            sent = asyncio.get_running_loop().run_in_executor(self._pool, extract_batch, jobs)
        except RuntimeError:  # a broken pool (BrokenProcessPool is one) refuses work
            self._broken = True
            self._deliver(batch, _extract_here(jobs))
            return
        self._in_flight += 1
        sent.add_done_callback(lambda done: self._received(batch, done))

    def _received(
        self,
        batch: list[tuple[ParseJob, asyncio.Future[CompactExtraction]]],
        done: asyncio.Future[list[CompactExtraction]],
    ) -> None:
        self._in_flight -= 1
        if done.cancelled() or done.exception() is not None:
            self._broken = True  # the worker is gone: parse here from now on
            self._deliver(batch, _extract_here([job for job, _ in batch]))
        else:
            self._deliver(batch, done.result())
        self._send()

    @staticmethod
    def _deliver(
        batch: list[tuple[ParseJob, asyncio.Future[CompactExtraction]]], results: list[CompactExtraction]
    ) -> None:
        for (_, waiter), result in zip(batch, results, strict=True):
            if not waiter.done():
                waiter.set_result(result)

    def close(self) -> None:
        """Stop the worker process, if one was started; later documents are parsed here."""
        self._broken = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _extract_here(jobs: list[ParseJob]) -> list[CompactExtraction]:
    """The worker's work done in this process, leaving resolution to the caller's own memo."""
    return extract_batch([(kind, body, content_type, None) for kind, body, content_type, _ in jobs])
