"""The lists a :class:`~linkdoctor.distributed.crawlstate.RedisState` keeps mostly in Redis, read a piece at a
time: the crawl's queue of URLs (its first ``window`` here, the rest in a Redis list), a report's links
with a verdict (sorted by URL in a scratch database, read a chunk at a time as they are indexed), and the referrers of a link
with more than :data:`SPILL_OVER` of them (read into a scratch database, listed from there in page order).

>>> # queue = SpillingQueue(Spill(store, window=4096)); links = EmittedLinks(store.read_chunk, count)
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, overload

from linkdoctor.distributed.staterecords import decoded, text_of
from linkdoctor.engine.state import LinkEntry
from linkdoctor.models import Referrer
from linkdoctor.scratch import StoredRows, blob, open_scratch

CHUNK = 1024  # links a report reads at once
SPILL_OVER = 2048  # a link's referrers read into memory at most; more are read into a scratch database


class QueueStore(Protocol):
    """Where a :class:`Spill` keeps what its window does not hold."""

    def read_queue(self, start: int, stop: int) -> list[str]:
        """The URLs ``start`` to ``stop - 1`` of the written list (their entries read along)."""

    def pin(self, url: str) -> None:
        """Keep the entries of ``url`` in memory while it is in the window."""

    def unpin(self, url: str) -> None:
        """``url`` left the window."""


class Spill:
    """A queue's container: its first URLs here (up to ``window``), the later ones in
    the store's list, written with its changes. First in, first out, like a deque."""

    def __init__(self, state: QueueStore, window: int) -> None:
        self._state = state
        self._window = window
        self._local: deque[str] = deque()
        self._written = 0  # URLs in the Redis list
        self._read = 0  # of those, taken into ``_local``
        self._unwritten: list[str] = []  # queued after those, not written yet

    def append(self, url: str) -> None:
        if self._read == self._written and not self._unwritten and len(self._local) < self._window:
            self._take((url,))
        else:
            self._unwritten.append(url)

    def _take(self, urls: Iterable[str]) -> None:
        """Into the window: the resources of ``urls`` (here, or just read) stay here until taken out."""
        for url in urls:
            self._state.pin(url)
            self._local.append(url)

    def popleft(self) -> str:
        if not self._local:
            if self._read < self._written:
                urls = self._state.read_queue(self._read, min(self._written, self._read + self._window))
                self._read += len(urls)
                self._take(urls)
            else:  # the list is read through: what waits to be written is next (touched since the flush)
                self._take(self._unwritten[: self._window])
                del self._unwritten[: self._window]
        url = self._local.popleft()
        self._state.unpin(url)  # the check that takes it holds it at once
        return url

    def unsent(self) -> list[str]:
        """The URLs to write to the list now (counted as written)."""
        urls, self._unwritten = self._unwritten, []
        self._written += len(urls)
        return urls

    def __len__(self) -> int:
        return len(self._local) + self._written - self._read + len(self._unwritten)

    def __iter__(self) -> Iterator[str]:
        """The URLs in the window (what a queue's ``repr`` shows)."""
        return iter(self._local)


class SpillingQueue(asyncio.Queue[str]):
    """An :class:`asyncio.Queue` over a :class:`Spill` (asyncio's own queues subclass it this way)."""

    def __init__(self, spill: Spill) -> None:
        self._spill = spill
        super().__init__()

    def _init(self, maxsize: int) -> None:
        self._queue = self._spill

    def _put(self, item: str) -> None:
        self._spill.append(item)

    def _get(self) -> str:
        return self._spill.popleft()


class EmittedLinks(Sequence[LinkEntry]):
    """``count`` links with a verdict, by URL, read ``CHUNK`` at a time by ``read_chunk(start, stop)`` as they
    are indexed."""

    def __init__(self, read_chunk: Callable[[int, int], list[LinkEntry]], count: int) -> None:
        self._read_chunk = read_chunk
        self._count = count
        self._start = -1
        self._chunk: list[LinkEntry] = []

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> LinkEntry: ...
    @overload
    def __getitem__(self, index: slice) -> list[LinkEntry]: ...
    def __getitem__(self, index: int | slice) -> LinkEntry | list[LinkEntry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        start = index - index % CHUNK
        if start != self._start:
            self._chunk = self._read_chunk(start, start + CHUNK)
            self._start = start
        return self._chunk[index - start]

    def __iter__(self) -> Iterator[LinkEntry]:
        for start in range(0, self._count, CHUNK):
            yield from self._read_chunk(start, start + CHUNK)


class EmittedIndex:
    """The URLs of a report's links with a verdict, sorted by URL in a private scratch database
    (:mod:`linkdoctor.scratch`) and read a chunk at a time by rank: Redis keeps no sorted copy of every link's
    URL for the report (it was a fifth of the crawl state)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None

    def build(self, pieces: Iterable[Iterable[bytes]]) -> int:
        """Index the URLs of ``pieces`` (repeats are one; Redis's ``HSCAN`` may give one twice) in place of
        the last ones indexed, and return how many there are."""
        db = self._db
        if db is None:
            db = self._db = open_scratch()
        db.executescript(
            "DROP TABLE IF EXISTS staging; DROP TABLE IF EXISTS ranked;"
            "CREATE TABLE staging (url BLOB PRIMARY KEY) WITHOUT ROWID;"
            "CREATE TABLE ranked (rank INTEGER PRIMARY KEY, url BLOB NOT NULL);"
        )
        db.execute("BEGIN")
        try:
            for piece in pieces:
                db.executemany("INSERT OR IGNORE INTO staging VALUES (?)", ((url,) for url in piece))
            count: int = db.execute(
                "INSERT INTO ranked SELECT row_number() OVER (ORDER BY url) - 1, url FROM staging"
            ).rowcount
            db.execute("DELETE FROM staging")
        except BaseException:  # the next build starts over; the error to see is this one (a full disk)
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return count

    def urls(self, start: int, stop: int) -> list[str]:
        """The URLs ranked ``start`` to ``stop - 1`` (bytes sort as Redis sorts them, and as code points do)."""
        assert self._db is not None, "built first"
        found = self._db.execute(
            "SELECT url FROM ranked WHERE rank >= ? AND rank < ? ORDER BY rank", (start, stop)
        )
        return [text_of(url) for (url,) in found]


class ReferrerSpill:
    """The referrers of links with more than :data:`SPILL_OVER` of them: read from Redis a piece at a time
    into a private scratch database (:mod:`linkdoctor.scratch`), without repeats, and listed from there in
    page order (:func:`~linkdoctor.engine.state.in_page_order`'s) as a :class:`~linkdoctor.scratch.StoredRows`.
    So a report holds a piece of a link's referrers at a time, however many pages link to it (a navigation
    link on every page of a huge site).

    A link spilled once its referrers no longer change (``final``) is spilled once: the report's passes
    over it all read the same rows.
    """

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._end = 0  # the next free position
        self._final: dict[str, StoredRows[Referrer]] = {}

    def spilled(self, url: str) -> StoredRows[Referrer] | None:
        """``url``'s referrers, when they were spilled once final."""
        return self._final.get(url)

    def spill(
        self, url: str, pieces: Iterable[Iterable[bytes | str]], *, final: bool
    ) -> StoredRows[Referrer]:
        """Keep ``pieces`` of ``url``'s referrer records (``[page, line, text]``; repeats are one), and list
        them in page order."""
        db = self._db
        if db is None:
            db = self._db = open_scratch()
            db.executescript(
                "CREATE TABLE staging (page BLOB NOT NULL, has_line INTEGER NOT NULL, line INTEGER NOT NULL,"
                " text BLOB NOT NULL, PRIMARY KEY (page, has_line, line, text)) WITHOUT ROWID;"
                "CREATE TABLE spilled (pos INTEGER PRIMARY KEY, page BLOB NOT NULL, line INTEGER, text BLOB NOT NULL);"
            )
        start = self._end
        db.execute("BEGIN")
        try:
            for piece in pieces:  # reading a piece may fail (Redis out of reach): nothing is kept then
                db.executemany("INSERT OR IGNORE INTO staging VALUES (?, ?, ?, ?)", map(_staged, piece))
            count = db.execute(
                "INSERT INTO spilled SELECT ? + row_number() OVER (ORDER BY page, has_line, line, text) - 1,"
                " page, CASE has_line WHEN 1 THEN line END, text FROM staging",
                (start,),
            ).rowcount
            db.execute("DELETE FROM staging")
        except sqlite3.Error:
            raise  # the database failed (a full disk): its error is the one to see, not a cleanup's
        except BaseException:  # reading Redis failed: no journal to roll back, so its rows are deleted
            db.execute("DELETE FROM staging")
            db.execute("DELETE FROM spilled WHERE pos >= ?", (start,))
            db.execute("COMMIT")
            raise
        db.execute("COMMIT")
        self._end += count
        rows = StoredRows(db, "spilled", "page, line, text", start, count, _referrer)
        if final:
            self._final[url] = rows
        return rows


def _staged(raw: bytes | str) -> tuple[bytes, bool, int, bytes]:
    page, line, text = decoded(raw)
    return blob(page), line is not None, line or 0, blob(text)


def _referrer(page: bytes, line: int | None, text: bytes) -> Referrer:
    return Referrer(text_of(page), line, text_of(text))
