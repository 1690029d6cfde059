"""What a fetched body is and how to read it: document kind, charset, extraction, fragment lookup.

Pure functions used by the crawler (and by anything else that parses fetched pages), plus
:class:`ParserProcess`, which runs the extraction of a big crawl's pages in a second process so that
parsing and the network use both cores. This module imports only the extractors at load time, so that
process starts quickly.

The parser process is a fresh interpreter (``python -c``, never a fork of the caller, which may be a
multi-threaded server), started with no file descriptor but its two pipes: it holds no listening socket
and no database of the caller's. It reads batches on its stdin and exits when that pipe closes, so it
ends with its parent however the parent ends, ``kill -9`` included.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import unquote, urlsplit

from linkdoctor.extract import Extraction, extract_css, extract_html
from linkdoctor.extract.model import LinkRow
from linkdoctor.urls import InvalidURL, Resolver, resolve

if TYPE_CHECKING:  # the parser process needs neither: importing them would slow its start by ~70 ms
    import asyncio
    from concurrent.futures import Future

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
    if "html" in content_type:  # most documents: no need to split the URL
        return "html"
    path = urlsplit(url).path.lower()
    if path.endswith((".html", ".htm", ".xhtml")):
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


# Codecs Python has that no browser decodes a page with (the WHATWG Encoding Standard leaves them out): UTF-7
# turns "+ADw-" into "<", the escape codecs read backslashes, the rest are not text encodings of pages.
_NOT_PAGE_ENCODINGS: Final = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined", "palmos", "mbcs"}
)


@functools.lru_cache(maxsize=64)
def charset_of(content_type: str) -> str:
    """The ``charset`` parameter of a Content-Type when Python knows it and browsers do too, else UTF-8.

    >>> charset_of("text/html; charset=ISO-8859-1"), charset_of("text/html; charset=utf-7")
    ('iso-8859-1', 'utf-8')
    """
    _, _, params = content_type.partition(";")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ").lower()
            try:
                "".encode(name)
                known = codecs.lookup(name).name
            except LookupError:
                return "utf-8"
            return "utf-8" if known in _NOT_PAGE_ENCODINGS else name
    return "utf-8"


def body_encoding(body: bytes, content_type: str) -> str:
    """The encoding to read ``body`` with: its byte order mark's when it starts with one (UTF-8 or UTF-16,
    whatever the Content-Type says, as browsers read it; the codec drops the mark), else
    :func:`charset_of` the Content-Type.

    >>> body_encoding(b"\\xff\\xfe<\\x00a\\x00", "text/html; charset=iso-8859-1"), body_encoding(b"<a", "")
    ('utf-16', 'utf-8')
    """
    if body[:3] == codecs.BOM_UTF8:
        return "utf-8-sig"
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return charset_of(content_type)


def extract_document(kind: str, text: str, max_links: int = 0) -> Extraction:
    """Extract with the parser for ``kind`` (HTML for anything unknown), keeping at most ``max_links`` link
    rows (0: all) and counting the rest in :attr:`Extraction.dropped`."""
    if kind == "css":
        found = extract_css(text)
    elif kind == "markdown":
        from linkdoctor.extract.markdown import extract_markdown  # markdown-it only when needed

        found = extract_markdown(text)
    else:
        return extract_html(text, max_links=max_links)
    if max_links and len(found.rows) > max_links:
        return replace(found, rows=found.rows[:max_links], dropped=len(found.rows) - max_links)
    return found


# An extraction as it crosses the process boundary: links as (url, line, text, element), anchors,
# base href, nofollow, and each link resolved against the job's base URL (or None when the job has none),
# and the count of links past the job's cap. Plain tuples and strings pickle in C; the frozen dataclasses
# would not.
CompactExtraction = tuple[
    tuple[LinkRow, ...],
    tuple[str, ...],
    str | None,
    bool,
    tuple[str | InvalidURL, ...] | None,
    int,
]
# (kind, body, content type, base URL to resolve against, links to keep at most: 0 for all)
ParseJob = tuple[str, bytes, str, str | None, int]
# The parser process's program: the caller's import path first (a library caller may have extended it),
# then the loop. Unlike multiprocessing's spawn it never re-runs the caller's __main__, so a library
# caller's script need not guard itself.
_BOOT = (
    "import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
    "from linkdoctor.engine.documents import parser_main; parser_main()"
)
_READY = "ready"
_STOP_SECONDS = 5.0
_START_SECONDS = 10.0
# Bytes of a document that is always parsed in the worker process (see ParserProcess.extract).
BIG_DOCUMENT = 1024 * 1024
_worker_resolver: Resolver | None = None
_W = TypeVar("_W")  # what waits for a job's extraction


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
    for kind, body, content_type, page_url, max_links in jobs:
        found = extract_document(
            kind, body.decode(body_encoding(body, content_type), errors="replace"), max_links
        )
        rows, base_href = found.rows, found.base_href
        resolved = None
        if page_url is not None:
            resolved = resolver.page(links_base(page_url, base_href), [url for url, _, _, _ in rows])
        out.append((rows, tuple(found.anchors), base_href, found.nofollow, resolved, found.dropped))
    return out


def from_compact(compact: CompactExtraction) -> tuple[Extraction, tuple[str | InvalidURL, ...] | None]:
    """The :class:`Extraction` that :func:`extract_batch` flattened, and the links' resolutions."""
    links, anchors, base_href, nofollow, resolved, dropped = compact
    extraction = Extraction(links, frozenset(anchors), base_href, nofollow, dropped)
    return extraction, resolved


def parser_main() -> None:
    """The parser process's loop: a batch of :data:`ParseJob` in on stdin, its :func:`extract_batch` out on
    stdout, until stdin closes (the parent closed it, or died)."""
    source = sys.stdin.buffer
    # Results go to the pipe on a descriptor of their own; fd 1 and sys.stdout become stderr, so nothing
    # else (a print, a C library) can write into the results.
    sink = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the parent's to handle
    try:
        pickle.dump(_READY, sink)
        sink.flush()
        while True:
            try:
                jobs = pickle.load(source)
            except EOFError:  # done: exit at once, as a forked worker would, without an interpreter's
                sink.close()  # teardown of what the batches left (the parent waits for this exit)
                sys.stderr.flush()
                os._exit(0)
            big = sum(len(job[1]) for job in jobs) > BIG_DOCUMENT
            pickle.dump(extract_batch(jobs), sink, protocol=pickle.HIGHEST_PROTOCOL)
            sink.flush()
            del jobs
            if big:  # give a big parse's memory back to the system, not only to the allocator
                _trim_heap()
    except BrokenPipeError:  # the parent is gone
        return


class _Worker:
    """The parser process and the two threads that feed it and read it. :meth:`submit` returns a future
    per batch; replies come back in the order batches went out."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        from concurrent.futures import Future

        self.ready: Future[None] = Future()
        self._lock = threading.Lock()
        self._replies: deque[Future[list[CompactExtraction]]] = deque()
        self._outgoing: queue.SimpleQueue[Sequence[ParseJob] | None] = queue.SimpleQueue()
        self._closed = False
        self._used = False  # whether a batch was ever sent: a process that never had one is killed at close
        self._threads = [
            threading.Thread(target=self._write, name="linkdoctor-parser-in", daemon=True),
            threading.Thread(target=self._read, name="linkdoctor-parser-out", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, jobs: Sequence[ParseJob]) -> Future[list[CompactExtraction]]:
        """Send a batch; raises ``RuntimeError`` once the process is gone or closing."""
        from concurrent.futures import Future

        reply: Future[list[CompactExtraction]] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the parser process has stopped")
            self._replies.append(reply)
            self._outgoing.put(jobs)
            self._used = True
        return reply

    def _write(self) -> None:
        pipe = self._process.stdin
        assert pipe is not None
        try:
            pickle.dump(sys.path, pipe)
            pipe.flush()
            while (jobs := self._outgoing.get()) is not None:
                pickle.dump(jobs, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.flush()
        except OSError:  # the process died: the reader fails what waits
            pass
        finally:
            with contextlib.suppress(OSError):
                pipe.close()

    def _read(self) -> None:
        pipe = self._process.stdout
        assert pipe is not None
        error: BaseException = RuntimeError("the parser process stopped")
        try:
            if pickle.load(pipe) != _READY:
                raise RuntimeError("the parser process did not start")
            self.ready.set_result(None)
            while True:
                results = pickle.load(pipe)
                with self._lock:
                    reply = self._replies.popleft()
                reply.set_result(results)
        except Exception as exc:  # EOF, a dead process, a garbled pipe: all end the worker
            error = exc
        finally:
            with self._lock:
                self._closed = True
                waiting = list(self._replies)
                self._replies.clear()
            if not self.ready.done():
                self.ready.set_exception(error)
            for reply in waiting:
                reply.set_exception(error)
            with contextlib.suppress(OSError):
                pipe.close()

    def close(self) -> None:
        """Let the process finish the batches it has, close its stdin (it exits), and wait for it; one that
        never had a batch (started for a crawl that ended first) is killed, not waited for while it boots."""
        with self._lock:
            self._closed = True
            self._outgoing.put(None)
            idle = not self._used
        if idle:
            with contextlib.suppress(OSError):
                self._process.kill()
        try:
            self._process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for thread in self._threads:
            thread.join(timeout=_STOP_SECONDS)


class ParserProcess:
    """Extraction for one crawl, moved to a worker process once the crawl passes ``after`` documents, or
    announces (:meth:`expect`) more than that many.

    Small crawls never pay for the process. Until the worker has started, documents are parsed here;
    after that, documents that arrive while a batch is in the worker wait for the next batch (at most
    ``in_flight`` batches at a time), which keeps the pipe's cost per page small. If the worker dies,
    its documents are parsed here. A document over :data:`BIG_DOCUMENT` bytes waits for the worker (started
    for it when the crawl is still small), so this process never holds its parse. Call :meth:`close` when
    the crawl ends. Each document keeps at most
    ``max_links`` link rows (0: all; the rest are counted in :attr:`Extraction.dropped`), so a page of a
    million links never crosses the pipe whole.
    """

    def __init__(self, *, after: int = 30, in_flight: int = 2, max_links: int = 0) -> None:
        self._max_links = max_links
        self._after = after
        self._max_in_flight = in_flight
        self._seen = 0
        self._expected = 0
        self._worker: _Worker | None = None
        self._pending: list[tuple[ParseJob, asyncio.Future[CompactExtraction]]] = []
        self._in_flight = 0
        self._broken = False

    @property
    def started(self) -> bool:
        """Whether the worker process is up and takes documents."""
        worker = self._worker
        if self._broken or worker is None or not worker.ready.done():
            return False
        return worker.ready.exception() is None

    @property
    def pid(self) -> int | None:
        """The worker process's id, once one was started."""
        return None if self._worker is None else self._worker.pid

    def expect(self) -> None:
        """One more document is on its way (a crawl queued a page). Once more than ``after`` are known,
        the worker starts, so that it is up by the time they arrive instead of booting while this process
        parses them."""
        self._expected += 1
        if self._expected > self._after and self._worker is None and not self._broken:
            self._start()

    def _start(self) -> None:
        try:
            self._worker = _Worker()
        except (OSError, ValueError):  # no process to be had: parse here
            self._broken = True

    async def extract(
        self, kind: str, body: bytes, content_type: str, *, page_url: str | None = None
    ) -> tuple[Extraction, tuple[str | InvalidURL, ...] | None]:
        """What :func:`extract_document` finds in ``body`` decoded per ``content_type`` and, when the
        worker did the parsing, the links resolved against ``page_url`` (see :func:`links_base`)."""
        self._seen += 1
        # A big document would stop this process's event loop for a second or more and grow its memory by
        # the parse: it goes to the worker, started for it if need be, whatever the crawl's size.
        big = len(body) > BIG_DOCUMENT
        if self._worker is None and not self._broken and (big or self._seen > self._after):
            self._start()
        if big and self._worker is not None and not self._broken and not self._worker.ready.done():
            import asyncio

            with contextlib.suppress(Exception):  # a worker that fails to start: parse here
                ready = asyncio.wrap_future(self._worker.ready)
                await asyncio.wait_for(asyncio.shield(ready), _START_SECONDS)
        if not self.started:
            text = body.decode(body_encoding(body, content_type), errors="replace")
            return extract_document(kind, text, self._max_links), None
        import asyncio

        waiter: asyncio.Future[CompactExtraction] = asyncio.get_running_loop().create_future()
        self._pending.append(((kind, body, content_type, page_url, self._max_links), waiter))
        self._send()
        compact = await waiter
        if big:  # the body's bytes and the fetch's buffers are gone: give them back to the system
            del body
            _trim_heap()
        return from_compact(compact)

    def _send(self) -> None:
        if self._in_flight >= self._max_in_flight or not self._pending:
            return
        batch, self._pending = _first_batch(self._pending)
        jobs = [job for job, _ in batch]
        if self._worker is None or self._broken:
            self._deliver(batch, _extract_here(jobs))
            return
        import asyncio

        try:
            sent = asyncio.wrap_future(self._worker.submit(jobs))
        except RuntimeError:  # the worker is gone or closing
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
        if self._worker is not None:
            self._worker.close()


def _first_batch(
    pending: list[tuple[ParseJob, _W]],
) -> tuple[list[tuple[ParseJob, _W]], list[tuple[ParseJob, _W]]]:
    """The batch to send first, and what is left: documents in order up to :data:`BIG_DOCUMENT` bytes in all
    (at least one), so the worker holds one big body at a time."""
    size = 0
    for count, (job, _) in enumerate(pending):
        size += len(job[1])
        if size > BIG_DOCUMENT and count:
            return pending[:count], pending[count:]
    return pending, []


def _trim_heap() -> None:
    """Return the C heap's free memory to the system (glibc ``malloc_trim``; nothing elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _extract_here(jobs: list[ParseJob]) -> list[CompactExtraction]:
    """The worker's work done in this process, leaving resolution to the caller's own memo."""
    return extract_batch([(kind, body, content_type, None, cap) for kind, body, content_type, _, cap in jobs])
