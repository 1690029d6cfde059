"""Problems grouped on disk: :func:`linkdoctor.problems.group_problems` for results kept outside memory.

A distributed crawl keeps its results in Redis, so the process writing its report holds a chunk of them at
a time. Grouped in memory, its problems would not be bounded: each holds its places, and a site of 200,000
pages has about 160,000 problem links. :func:`group_on_disk` groups them in a scratch database
(:mod:`linkdoctor.scratch`) instead, and :class:`StoredProblems` reads them back one at a time, in the
order and with the values :func:`~linkdoctor.problems.group_problems` gives in memory (the tests compare
the two), and counts them there for the headline.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby, islice
from operator import itemgetter
from typing import Any, overload

from linkdoctor import codec
from linkdoctor.models import Category, CheckResult, results_in
from linkdoctor.problems import (
    PROBLEM_CATEGORIES,
    LabelCount,
    Location,
    PageProblems,
    Problem,
    ProblemCounts,
    ProblemKey,
    ProblemKind,
    build_problem,
    location_order,
    problem_label,
    problem_part,
)
from linkdoctor.scratch import PIECE, ReadAsTuple, StoredRows, blob, open_scratch, text_of

_SCHEMA = """
CREATE TABLE problem (
    id INTEGER PRIMARY KEY, key BLOB UNIQUE NOT NULL, first BLOB NOT NULL, links INTEGER NOT NULL,
    url BLOB NOT NULL, code BLOB NOT NULL, label BLOB NOT NULL, broken INTEGER NOT NULL
);
CREATE TABLE place (
    problem INTEGER NOT NULL, page BLOB NOT NULL, has_line INTEGER NOT NULL, line INTEGER NOT NULL,
    fragment BLOB NOT NULL, text BLOB NOT NULL,
    PRIMARY KEY (problem, page, has_line, line, fragment, text)
) WITHOUT ROWID;
"""
# The order of group_problems: most pages, then most links, then by URL and code; ties in order of first
# appearance (Python's sort is stable).
_ORDER = """
CREATE TABLE ordered (
    pos INTEGER PRIMARY KEY, id INTEGER NOT NULL, links INTEGER NOT NULL, pages INTEGER NOT NULL,
    places INTEGER NOT NULL
);
INSERT INTO ordered
SELECT row_number() OVER (ORDER BY pages DESC, links DESC, url, code, id) - 1, id, max(links, places), pages,
    places FROM (
    SELECT p.id, p.url, p.code, p.links,
        (SELECT count(*) FROM place WHERE problem = p.id) AS places,
        (SELECT count(DISTINCT page) FROM place WHERE problem = p.id) AS pages
    FROM problem AS p
);
CREATE TABLE placed (pos INTEGER PRIMARY KEY, page BLOB NOT NULL, line INTEGER, fragment BLOB NOT NULL,
    text BLOB NOT NULL);
"""
_CHUNK = 256
_NAMED = 4096  # problems the view by page keeps while they repeat, without their places (about 1 KB each)
_SHARED = 65_536  # strings read back shared while they repeat (a page's URL in each of its problems), bounded


def group_on_disk(results: Iterable[CheckResult]) -> StoredProblems:
    """The problems among ``results``, grouped in a scratch database: see the module's docstring."""
    db = open_scratch()
    db.executescript(_SCHEMA)
    db.execute("BEGIN")
    for result in results_in(results, PROBLEM_CATEGORIES):
        key, locations, links = problem_part(result)
        stored_key = _json_blob(_key_to_json(key))
        row = db.execute("SELECT id FROM problem WHERE key = ?", (stored_key,)).fetchone()
        if row is None:
            kind, code = key[0], result.diagnosis.code if result.diagnosis else result.category.value
            problem_id = db.execute(
                "INSERT INTO problem (key, first, links, url, code, label, broken) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stored_key,
                    _json_blob(codec.result_to_json(result.for_link(result.url, ()))),
                    links,
                    blob(f"{key[1]}#{key[2]}" if key[2] else key[1]),
                    blob(code),
                    blob(problem_label(code, kind)),
                    key[3] is Category.BROKEN,
                ),
            ).lastrowid
        else:
            problem_id = row[0]
            db.execute("UPDATE problem SET links = links + ? WHERE id = ?", (links, problem_id))
        db.executemany(
            "INSERT OR IGNORE INTO place VALUES (?, ?, ?, ?, ?, ?)",
            ((problem_id, *_place(loc)) for loc in locations),
        )
    db.execute("COMMIT")
    db.executescript(_ORDER)
    return StoredProblems(db)


def _json_blob(value: object) -> bytes:
    """``value`` as JSON, its characters as they are: escaped, a surrogate pair would come back as one
    character (and two keys that differ only so would be one)."""
    return blob(json.dumps(value, ensure_ascii=False))


def _key_to_json(key: ProblemKey) -> list[Any]:
    kind, target, anchor, category, code, status, precise_status, error = key
    return [kind.value, target, anchor, category.value, code, status, precise_status, error]


def _key_from_json(row: list[Any]) -> ProblemKey:
    kind, target, anchor, category, code, status, precise_status, error = row
    return (ProblemKind(kind), target, anchor, Category(category), code, status, precise_status, error)


def _place(loc: Location) -> tuple[bytes, bool, int, bytes, bytes]:
    page, has_line, line, fragment, text = location_order(loc)
    return blob(page), has_line, line, blob(fragment), blob(text)


class StoredProblems(ReadAsTuple[Problem]):
    """The problems :func:`group_on_disk` grouped, built as they are read; they count themselves
    (:func:`~linkdoctor.problems.count_problems`) without being built."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._count: int = db.execute("SELECT count(*) FROM ordered").fetchone()[0]
        self._strings: dict[bytes, str] = {}
        self._placed_at: dict[int, int] = {}  # a problem with many places → where they are in ``placed``
        self._placed_end = 0

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Problem: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Problem, ...]: ...
    def __getitem__(self, index: int | slice) -> Problem | tuple[Problem, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return tuple(self[i] for i in range(start, stop, step))
            return tuple(self._read(start, stop))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return next(self._read(index, index + 1))

    def __iter__(self) -> Iterator[Problem]:
        for start in range(0, self._count, _CHUNK):
            yield from self._read(start, start + _CHUNK)

    def _read(self, start: int, stop: int, *, listed: bool = True) -> Iterator[Problem]:
        """The problems from ``start`` to ``stop``; unless ``listed``, their places are read only if they
        are listed (the view by page names a problem on each of its pages, never its places)."""
        rows = self._db.execute(
            "SELECT o.id, o.links, o.places, o.pages, p.key, p.first FROM ordered AS o JOIN problem AS p ON p.id = o.id "
            "WHERE o.pos >= ? AND o.pos < ? ORDER BY o.pos",
            (start, stop),
        ).fetchall()
        for problem_id, links, places, pages, key, first in rows:
            locations: Sequence[Location]
            if not listed:
                locations = _PlacesOf(self, problem_id, places)
            elif places > PIECE:  # too many to hold at once: read as they are listed
                locations = StoredRows(
                    self._db,
                    "placed",
                    "page, line, fragment, text",
                    *self._placed(problem_id, places),
                    self._location,
                )
            else:
                locations = tuple(self.places_of(problem_id))
            yield build_problem(
                _key_from_json(json.loads(text_of(key))),
                codec.result_from_json(json.loads(text_of(first))),
                locations,
                links,
                pages,
            )

    def places_of(self, problem_id: int) -> Iterator[Location]:
        """The places of the problem ``problem_id``, in order, read as they are iterated."""
        rows = self._db.execute(
            "SELECT page, CASE has_line WHEN 1 THEN line END, fragment, text FROM place WHERE problem = ? "
            "ORDER BY page, has_line, line, fragment, text",
            (problem_id,),
        )
        return (self._location(*row) for row in rows)

    def _location(self, page: bytes, line: int | None, fragment: bytes, text: bytes) -> Location:
        shared = self._shared
        return Location(shared(page), line, shared(text), shared(fragment))

    def _placed(self, problem_id: int, places: int) -> tuple[int, int]:
        """Where the places of a problem with more than :data:`~linkdoctor.scratch.PIECE` of them are, in
        order (copied there when first read), and how many."""
        start = self._placed_at.get(problem_id)
        if start is None:
            start = self._placed_at[problem_id] = self._placed_end
            self._db.execute(
                "INSERT INTO placed SELECT ? + row_number() OVER (ORDER BY page, has_line, line, fragment, text)"
                " - 1, page, CASE has_line WHEN 1 THEN line END, fragment, text FROM place WHERE problem = ?",
                (start, problem_id),
            )
            self._placed_end += places
        return start, places

    def _shared(self, raw: bytes) -> str:
        """``raw`` decoded, one string while it repeats: a reader that keeps every problem (the console's
        pages) keeps each page's URL once, as in memory."""
        text = self._strings.get(raw)
        if text is None:
            if len(self._strings) >= _SHARED:
                self._strings.clear()
            text = self._strings[raw] = text_of(raw)
        return text

    def by_page(self) -> Iterator[PageProblems]:
        """:func:`~linkdoctor.problems.by_page` of these problems, sorted on disk and read a page at a time
        (a problem on every page is one place a page); the problems named come without their places, read
        again (a row) when more than :data:`_NAMED` alternate."""
        rows = self._db.execute(
            "SELECT pl.page, CASE pl.has_line WHEN 1 THEN pl.line END, pl.fragment, pl.text, o.pos "
            "FROM place AS pl JOIN ordered AS o ON o.id = pl.problem JOIN problem AS p ON p.id = pl.problem "
            "ORDER BY pl.page, pl.line, p.url, pl.fragment, o.pos, pl.has_line, pl.text"
        )
        problems: dict[int, Problem] = {}
        for page, places in groupby(rows, key=itemgetter(0)):
            entries = []
            for _, line, fragment, text, pos in places:
                problem = problems.get(pos)
                if problem is None:
                    if len(problems) >= _NAMED:
                        problems.clear()
                    problem = problems[pos] = next(self._read(pos, pos + 1, listed=False))
                entries.append((self._location(page, line, fragment, text), problem))
            yield PageProblems(self._shared(page), tuple(entries))

    def counts(self) -> ProblemCounts:
        """:func:`~linkdoctor.problems.count_problems` of these problems, counted in the database."""
        db = self._db
        per_label = db.execute(
            "SELECT p.label, count(*), sum(o.links) FROM ordered AS o JOIN problem AS p ON p.id = o.id "
            "GROUP BY p.label"
        ).fetchall()
        label_pages = dict(
            db.execute(
                "SELECT p.label, count(DISTINCT pl.page) FROM place AS pl JOIN problem AS p ON p.id = pl.problem "
                "GROUP BY p.label"
            ).fetchall()
        )
        labels = [
            LabelCount(text_of(label), problems, links, label_pages[label])
            for label, problems, links in per_label
        ]
        labels.sort(key=lambda c: (-c.pages, -c.links, c.label))
        links, broken = db.execute(
            "SELECT coalesce(sum(o.links), 0), coalesce(sum(p.broken), 0) FROM ordered AS o "
            "JOIN problem AS p ON p.id = o.id"
        ).fetchone()
        pages = db.execute("SELECT count(DISTINCT page) FROM place").fetchone()[0]
        return ProblemCounts(self._count, broken, self._count - broken, links, pages, tuple(labels))

    def __repr__(self) -> str:
        return f"StoredProblems({self._count} problems)"


class _PlacesOf(ReadAsTuple[Location]):
    """A stored problem's places, read from the scratch database each time they are listed."""

    __slots__ = ("_count", "_id", "_problems")

    def __init__(self, problems: StoredProblems, problem_id: int, count: int) -> None:
        self._problems = problems
        self._id = problem_id
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Location]:
        return self._problems.places_of(self._id)

    @overload
    def __getitem__(self, index: int) -> Location: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Location, ...]: ...
    def __getitem__(self, index: int | slice) -> Location | tuple[Location, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            return tuple(islice(self, start, stop, step)) if step > 0 else tuple(self)[index]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return next(islice(self, index % self._count, None))
