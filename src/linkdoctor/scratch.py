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

import sqlite3
from collections.abc import Iterable, Iterator

CACHE_KIB = 1024  # SQLite's page cache per scratch database, in KiB
_MEMO = 4096  # lookups remembered, bounded: a page refers to many links in a row


def open_scratch() -> sqlite3.Connection:
    """A private temporary SQLite database on disk, deleted when closed, its cache bounded."""
    db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA temp_store = FILE")
    return db


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
