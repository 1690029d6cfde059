"""Scratch space on disk for a report whose results live outside memory (a distributed crawl's, in Redis).

A report needs indexes over all of its results: the problems with their places, the referring pages in
sorted order, the runs of links into one document. Held as Python objects they grow with the site, so a
report read from an outside store keeps them here instead: in a private temporary SQLite database, which
SQLite deletes when its connection closes and caches in at most :data:`CACHE_KIB` of memory.

Text is stored as UTF-8 blobs (``surrogatepass``: a URL may hold a lone surrogate). SQLite compares blobs
byte by byte, and UTF-8's byte order is the code point order Python sorts strings in, so ``ORDER BY`` a
blob sorts as ``sorted`` does.

>>> numbers = SortedStrings(open_scratch())
>>> numbers.update(["b", "a", "b", "\\ud800"])
>>> numbers.rank()
>>> list(numbers), numbers["b"], len(numbers)
(['a', 'b', '\\ud800'], 1, 3)
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar, overload

from linkdoctor.errors import LinkdoctorError

T = TypeVar("T")
CACHE_KIB = 1024  # SQLite's page cache per scratch database, in KiB
PIECE = 1024  # rows a StoredRows reads at a time
_MEMO = 4096  # lookups remembered, bounded: a page refers to many links in a row


def open_scratch() -> sqlite3.Connection:
    """A private temporary SQLite database on disk, deleted when closed, its cache bounded."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA temp_store = FILE")
    return db


class ScratchFailed(LinkdoctorError):
    """The scratch space failed (a full disk, most often): the report cannot be written, and the run says
    where SQLite keeps it and how to make room."""

    @classmethod
    def of(cls, error: sqlite3.Error, environ: Mapping[str, str] = os.environ) -> ScratchFailed:
        where = scratch_directory(environ)
        if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
            return cls(
                f"the report's scratch space in {where} is full ({error}): free space there, or set TMPDIR "
                "to a directory on a disk with room"
            )
        return cls(f"the report's scratch space in {where} failed: {error}")


def scratch_directory(environ: Mapping[str, str] = os.environ) -> str:
    """Where SQLite keeps a temporary database: the first writable directory among ``SQLITE_TMPDIR``,
    ``TMPDIR``, ``/var/tmp``, ``/usr/tmp``, ``/tmp`` and ``.`` (its search on Unix)."""
    candidates = [environ.get("SQLITE_TMPDIR", ""), environ.get("TMPDIR", ""), "/var/tmp", "/usr/tmp", "/tmp"]
    for directory in candidates:
        if directory and os.path.isdir(directory) and os.access(directory, os.W_OK | os.X_OK):
            return directory
    return "."


def pieces(items: Iterable[T]) -> Iterator[list[T]]:
    """``items`` in lists of at most :data:`PIECE`: what a writer holds at once of a list read from disk."""
    rest = iter(items)
    while piece := list(islice(rest, PIECE)):
        yield piece


def blob(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


class SortedStrings:
    """Strings, each kept once, then numbered in sorted order: :meth:`update` them, :meth:`rank` once,
    then iterate them in order or look up a string's number."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        db.execute("CREATE TABLE strings (value BLOB PRIMARY KEY) WITHOUT ROWID")
        self._memo: dict[str, int] = {}
        self._count = 0

    def update(self, values: Iterable[str]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO strings VALUES (?)", ((blob(v),) for v in values))

    def rank(self) -> None:
        """Number the strings: 0 for the first in sorted order."""
        self._db.executescript(
            "CREATE TABLE ranks (value BLOB PRIMARY KEY, rank INTEGER NOT NULL) WITHOUT ROWID;"
            "INSERT INTO ranks SELECT value, row_number() OVER (ORDER BY value) - 1 FROM strings;"
            "DROP TABLE strings;"
        )
        self._count = self._db.execute("SELECT count(*) FROM ranks").fetchone()[0]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        return (text_of(value) for (value,) in self._db.execute("SELECT value FROM ranks ORDER BY rank"))

    def __getitem__(self, value: str) -> int:
        rank = self._memo.get(value)
        if rank is None:
            row = self._db.execute("SELECT rank FROM ranks WHERE value = ?", (blob(value),)).fetchone()
            if row is None:
                raise KeyError(value)
            if len(self._memo) >= _MEMO:
                self._memo.clear()
            rank = self._memo[value] = row[0]
        return rank


class ReadAsTuple(Sequence[T]):
    """A sequence read from a store as it is listed, which compares and hashes as the tuple of its items
    (compared an item at a time, never held whole)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))


class StoredRows(ReadAsTuple[T]):
    """The ``count`` rows of ``table`` from position ``start`` (its ``pos INTEGER PRIMARY KEY``), each made
    into a value by ``make`` as it is read, :data:`PIECE` rows at a time: a sequence as long as a site is
    big (one link's referrers, one problem's places) held on disk instead of in memory. A slice is another
    :class:`StoredRows`; it compares equal to a tuple of the same values, and pickles as one.

    >>> db = open_scratch()
    >>> _ = db.execute("CREATE TABLE t (pos INTEGER PRIMARY KEY, v TEXT)")
    >>> _ = db.executemany("INSERT INTO t VALUES (?, ?)", enumerate("abcd"))
    >>> rows = StoredRows(db, "t", "v", 1, 3, str.upper)
    >>> list(rows), rows[1:] == ("C", "D"), len(rows[5:])
    (['B', 'C', 'D'], True, 0)
    """

    __slots__ = ("_count", "_db", "_make", "_query", "_start")

    def __init__(
        self, db: sqlite3.Connection, table: str, columns: str, start: int, count: int, make: Callable[..., T]
    ) -> None:
        self._db = db
        self._query = f"SELECT {columns} FROM {table} WHERE pos >= ? AND pos < ? ORDER BY pos"
        self._start = start
        self._count = count
        self._make = make

    def __len__(self) -> int:
        return self._count

    def _rows(self, begin: int, end: int) -> Iterator[T]:
        make, start = self._make, self._start
        for piece in range(begin, end, PIECE):
            rows = self._db.execute(self._query, (start + piece, start + min(piece + PIECE, end))).fetchall()
            yield from (make(*row) for row in rows)

    def __iter__(self) -> Iterator[T]:
        return self._rows(0, self._count)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            begin, end, step = index.indices(self._count)
            if step != 1:
                return tuple(self)[index]
            rows: StoredRows[T] = StoredRows.__new__(StoredRows)
            rows._db, rows._query, rows._make = self._db, self._query, self._make
            rows._start, rows._count = self._start + begin, max(0, end - begin)
            return rows
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return next(self._rows(index, index + 1))

    def __repr__(self) -> str:
        return f"StoredRows({self._count} rows)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))
