"""The indexes the JSON report (:mod:`linkdoctor.report.json_v2`) is written with: the referring pages
numbered in sorted order, and the runs of results into one target document.

Each comes in memory, and on disk (:mod:`linkdoctor.scratch`) for results kept outside memory (a
distributed crawl's, in Redis: ``outside_memory``), whose report would otherwise hold an entry per page
and per target of the whole site.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from linkdoctor.models import CheckResult
from linkdoctor.scratch import SortedStrings, blob, open_scratch, text_of


class PageIndex(Protocol):
    """A page's number."""

    def __getitem__(self, page: str, /) -> int: ...


class PageNumbers(PageIndex, Protocol):
    """Pages, each kept once: :meth:`update` them, :meth:`rank` once, then list them in sorted order, or
    look up a page's number (its place in that order)."""

    def update(self, values: Iterable[str]) -> None: ...

    def rank(self) -> None: ...

    def __iter__(self) -> Iterator[str]: ...


class PagesInMemory:
    """:class:`PageNumbers` in a set, then a dict."""

    def __init__(self) -> None:
        self._pages: set[str] = set()
        self._numbers: dict[str, int] = {}

    def update(self, values: Iterable[str]) -> None:
        self._pages.update(values)

    def rank(self) -> None:
        self._numbers = {page: i for i, page in enumerate(sorted(self._pages))}
        self._pages = set()

    def __iter__(self) -> Iterator[str]:
        return iter(self._numbers)

    def __getitem__(self, page: str) -> int:
        return self._numbers[page]


def page_numbers(outside_memory: bool) -> PageNumbers:
    """:class:`PageNumbers` on disk for results outside memory, else in memory."""
    return SortedStrings(open_scratch()) if outside_memory else PagesInMemory()


class Runs(Protocol):
    """:class:`TargetRuns` or :class:`StoredRuns`."""

    def groups(self) -> Iterator[tuple[str, list[int]]]: ...

    def position_of(self, targets: Iterable[str]) -> Callable[[str], int | None]: ...


def target_runs(urls: Iterable[str], outside_memory: bool) -> Runs:
    """The runs of results with these URLs: on disk for results outside memory, else in memory."""
    return StoredRuns(open_scratch(), urls) if outside_memory else TargetRuns.of_urls(urls)


class TargetRuns:
    """The results' links grouped by target document, as runs of consecutive indices.

    Results come sorted by URL, so the links into one document are nearly always one run (``page.html``,
    ``page.html#a``, ``page.html#b``); a URL sorting between them (``page.html!x``) splits it, and such a
    target's later runs join its first. Holds an index and a target reference per run, not the results.
    """

    def __init__(self, starts: array[int], targets: list[str], total: int, repeats: dict[int, list[int]]):
        self._starts = starts
        self._targets = targets
        self._total = total
        self._repeats = repeats  # first run of a split target -> its later runs
        self._later = {run for later in repeats.values() for run in later}

    @classmethod
    def of(cls, results: Sequence[CheckResult]) -> TargetRuns:
        return cls.of_urls(result.url for result in results)

    @classmethod
    def of_urls(cls, urls: Iterable[str]) -> TargetRuns:
        """The runs of results with these URLs, in order."""
        starts: array[int] = array("q")
        targets: list[str] = []
        seen: set[str] = set()
        repeats: dict[int, list[int]] = {}
        previous = None
        total = 0
        for index, url in enumerate(urls):
            total += 1
            target = url.partition("#")[0]  # split_fragment's, inline: once per link of the report
            if target == previous:
                continue
            if target in seen:
                repeats.setdefault(targets.index(target), []).append(len(targets))
            seen.add(target)
            starts.append(index)
            targets.append(target)
            previous = target
        return cls(starts, targets, total, repeats)

    def _indices(self, run: int) -> range:
        end = self._starts[run + 1] if run + 1 < len(self._starts) else self._total
        return range(self._starts[run], end)

    def groups(self) -> Iterator[tuple[str, list[int]]]:
        """Each target with the indices of its results, in the order of their first run."""
        for run, target in enumerate(self._targets):
            if run in self._later:
                continue
            indices = list(self._indices(run))
            for later in self._repeats.get(run, ()):
                indices.extend(self._indices(later))
            yield target, indices

    def positions(self, wanted: set[str]) -> dict[str, int]:
        """The position in :meth:`groups` of each ``wanted`` target that has results."""
        found: dict[str, int] = {}
        position = 0
        for run, target in enumerate(self._targets):
            if run in self._later:
                continue
            if target in wanted:
                found[target] = position
            position += 1
        return found

    def position_of(self, targets: Iterable[str]) -> Callable[[str], int | None]:
        """The position in :meth:`groups` of a target among ``targets`` (None when it has no results)."""
        return self.positions(set(targets)).get


class StoredRuns:
    """:class:`TargetRuns` on disk: a row per run and one per target, streamed back in order."""

    def __init__(self, db: sqlite3.Connection, urls: Iterable[str]) -> None:
        self._db = db
        db.executescript(
            "CREATE TABLE target (target BLOB PRIMARY KEY, position INTEGER UNIQUE NOT NULL) WITHOUT ROWID;"
            "CREATE TABLE run (run INTEGER PRIMARY KEY, position INTEGER NOT NULL, start INTEGER NOT NULL,"
            " stop INTEGER NOT NULL);"
        )
        db.execute("BEGIN")
        previous: str | None = None
        position = start = targets = 0
        index = -1
        for index, url in enumerate(urls):
            target = url.partition("#")[0]  # split_fragment's, inline: once per link of the report
            if target == previous:
                continue
            if previous is not None:
                db.execute(
                    "INSERT INTO run (position, start, stop) VALUES (?, ?, ?)", (position, start, index)
                )
            row = db.execute("SELECT position FROM target WHERE target = ?", (blob(target),)).fetchone()
            if row is None:
                position, targets = targets, targets + 1
                db.execute("INSERT INTO target VALUES (?, ?)", (blob(target), position))
            else:
                position = row[0]
            start, previous = index, target
        if previous is not None:
            db.execute(
                "INSERT INTO run (position, start, stop) VALUES (?, ?, ?)", (position, start, index + 1)
            )
        db.execute("CREATE INDEX run_by_position ON run (position, run)")
        db.execute("COMMIT")

    def groups(self) -> Iterator[tuple[str, list[int]]]:
        """Each target with the indices of its results, in the order of their first run."""
        rows = self._db.execute(
            "SELECT t.target, r.position, r.start, r.stop FROM run AS r JOIN target AS t ON t.position = r.position "
            "ORDER BY r.position, r.run"
        )
        current, target, indices = -1, "", list[int]()
        for name, position, start, stop in rows:
            if position != current:
                if current >= 0:
                    yield target, indices
                current, target, indices = position, text_of(name), []
            indices.extend(range(start, stop))
        if current >= 0:
            yield target, indices

    def position(self, target: str) -> int | None:
        row = self._db.execute("SELECT position FROM target WHERE target = ?", (blob(target),)).fetchone()
        return None if row is None else int(row[0])

    def position_of(self, targets: Iterable[str]) -> Callable[[str], int | None]:
        """:meth:`position`: looked up on disk, so ``targets`` are not read."""
        return self.position
