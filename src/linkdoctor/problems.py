"""Problems: a check's failed results grouped into one entry per target document and cause.

A check result is per link as found, fragment and all, so one missing page linked through 50 different
``#fragments`` is 50 broken results. A reader wants one problem: *this page is missing*, found at these
places. :func:`group_problems` turns a report's results into :class:`Problem` values:

- a broken (or unverified) document is one problem per cause (diagnosis code and status); every link into
  it, with or without a fragment, is one of its :class:`Location` values, each keeping the fragment it used;
- a missing anchor is a problem only when its document is fine (``*.fragment-missing``), one per target
  page and anchor, so the anchors missing on one page sort next to each other;
- :class:`ProblemCounts` are the unique problems, the places they were linked from and the referring pages:
  the headline every output shows (the console summary, each report format, the monitor).

Pure: it imports only the models, the URL helpers and the code catalogue, so the report formats, the
monitor and library users all group the same way.

>>> from linkdoctor.models import Category, CheckResult, Referrer
>>> from linkdoctor.classify.codes import make
>>> gone = make("http.not-found")
>>> results = [
...     CheckResult("https://e.org/old.html#a", Category.BROKEN, 404, diagnosis=gone,
...                 referrers=(Referrer("https://e.org/", 3),)),
...     CheckResult("https://e.org/old.html#b", Category.BROKEN, 404, diagnosis=gone,
...                 referrers=(Referrer("https://e.org/x.html", 9),)),
... ]
>>> [(p.target, p.links, p.pages) for p in group_problems(results)]
[('https://e.org/old.html', 2, 2)]
>>> headline(count_problems(group_problems(results)))
'1 problem: 1 missing page (linked 2 times from 2 pages)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, overload, runtime_checkable

from linkdoctor.classify import codes
from linkdoctor.models import Category, CheckResult, Referrer, Summary, results_in
from linkdoctor.urls import split_fragment

# The categories that are problems: a broken link, and one that could not be verified.
PROBLEM_CATEGORIES: frozenset[Category] = frozenset({Category.BROKEN, Category.UNVERIFIED})
# Codes that name a missing page, and those that name a missing anchor on a page that is fine.
MISSING_PAGE_CODES: frozenset[str] = frozenset({"http.not-found", "http.gone", "file.not-found"})
ANCHOR_CODE_SUFFIXES: tuple[str, ...] = (".fragment-missing", ".anchor-missing")
START_URL = "(start URL)"


class ProblemKind(StrEnum):
    """What a problem is about: the target document itself, or one anchor on a document that is fine."""

    DOCUMENT = "document"
    ANCHOR = "anchor"


@dataclass(frozen=True, slots=True)
class Location:
    """One place a problem's link was found: the referring ``page`` (``START_URL`` for an input given
    on the command line), its ``line``, the link's text or element, and the ``fragment`` it used."""

    page: str
    line: int | None = None
    text: str = ""
    fragment: str = ""

    def link(self, target: str) -> str:
        """The link's full URL: ``target`` with this location's fragment."""
        return f"{target}#{self.fragment}" if self.fragment else target


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: a target document (and, for :attr:`ProblemKind.ANCHOR`, the missing anchor) and its
    cause, with every place it was linked from.

    ``result`` is the document's verdict (status, diagnosis, redirects, findings) without referrers;
    ``locations`` are in page order; ``links`` counts the places (``locations``, plus any only counted) and
    ``pages`` the unique referring pages.
    """

    kind: ProblemKind
    target: str
    anchor: str
    result: CheckResult
    locations: Sequence[Location]
    links: int
    pages: int

    @property
    def category(self) -> Category:
        return self.result.category

    @property
    def code(self) -> str:
        """The diagnosis code, or the category when the result has none."""
        return self.result.diagnosis.code if self.result.diagnosis else self.result.category.value

    @property
    def url(self) -> str:
        """The target with the missing anchor, or the target document."""
        return f"{self.target}#{self.anchor}" if self.anchor else self.target

    @property
    def cause(self) -> str:
        """One sentence: the diagnosis summary (with its detail), else the error message or status."""
        diagnosis = self.result.diagnosis
        if diagnosis is not None:
            return diagnosis.summary
        if self.result.error_message:
            return self.result.error_message
        if self.result.status is not None:
            return f"HTTP {self.result.status} {self.result.reason}".rstrip()
        return self.result.category.value

    @property
    def fix(self) -> tuple[str, ...]:
        return self.result.diagnosis.fix if self.result.diagnosis else ()

    @property
    def label(self) -> str:
        """The short noun a headline counts it under (``missing page``, ``missing anchor`` …)."""
        return problem_label(self.code, self.kind)

    @property
    def key(self) -> str:
        """A stable identity across runs: kind, code and URL (the monitor's diff compares these)."""
        return _key(self.kind, self.code, self.url)

    @property
    def id(self) -> str:
        """A short stable id of :attr:`key`, for anchors, fingerprints and cross references."""
        return hashlib.sha256(self.key.encode("utf-8", "surrogatepass")).hexdigest()[:12]

    @property
    def fragments(self) -> tuple[str, ...]:
        """The distinct fragments its links used, sorted (a document problem's ``#a``, ``#b`` …)."""
        return tuple(sorted({loc.fragment for loc in self.locations if loc.fragment}))


@dataclass(frozen=True, slots=True)
class LabelCount:
    """How many problems a headline counts under one label, and their links and pages."""

    label: str
    problems: int
    links: int
    pages: int


@dataclass(frozen=True, slots=True)
class ProblemCounts:
    """The headline numbers: unique problems (broken and unverified), the places they were linked from
    and the unique referring pages, in all and per label (most pages affected first)."""

    problems: int = 0
    broken: int = 0
    unverified: int = 0
    links: int = 0
    pages: int = 0
    labels: tuple[LabelCount, ...] = ()


@dataclass(frozen=True, slots=True)
class PageProblems:
    """The per-page view: one referring page and each (location, problem) found on it, by line."""

    page: str
    entries: tuple[tuple[Location, Problem], ...]


def is_missing_anchor(result: CheckResult) -> bool:
    """Whether ``result`` says an anchor is missing on a document that is itself fine."""
    return result.diagnosis is not None and result.diagnosis.code.endswith(ANCHOR_CODE_SUFFIXES)


def _key(kind: ProblemKind, code: str, url: str) -> str:
    return f"{kind.value} {code} {url}"


def problem_key(url: str, category: Category, code: str | None) -> str:
    """The :attr:`Problem.key` of the problem that a broken or unverified result of ``url`` with this
    category and diagnosis code is grouped into, read without the result itself (a stored scan's keys
    without its referrers).

    >>> problem_key("https://e.org/a.html#s1", Category.BROKEN, "http.not-found")
    'document http.not-found https://e.org/a.html'
    >>> problem_key("https://e.org/a.html#s1", Category.BROKEN, "html.fragment-missing")
    'anchor html.fragment-missing https://e.org/a.html#s1'
    """
    target, fragment = split_fragment(url)
    if code is not None and code.endswith(ANCHOR_CODE_SUFFIXES):
        return _key(ProblemKind.ANCHOR, code, f"{target}#{fragment}" if fragment else target)
    return _key(ProblemKind.DOCUMENT, code or category.value, target)


def problem_label(code: str, kind: ProblemKind = ProblemKind.DOCUMENT) -> str:
    """The short noun for a code: ``missing page``, ``missing anchor``, else the catalogue's title."""
    if kind is ProblemKind.ANCHOR or code.endswith(ANCHOR_CODE_SUFFIXES):
        return "missing anchor"
    if code in MISSING_PAGE_CODES:
        return "missing page"
    entry = codes.CODES.get(code)
    if entry is not None:
        return entry.title.lower()
    return f"{code} link"


_COUNTABLE = frozenset({"page", "problem", "other problem", "missing page", "missing anchor"})


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    if noun in _COUNTABLE or noun.endswith(" link"):
        return f"{count:,} {noun}s"
    return f"{count:,} × {noun}"  # a catalogue title ("server error", "file: link on a web page")


# What sorts a result into a problem: kind, target, anchor, category, code, status, precise status, error.
ProblemKey = tuple[ProblemKind, str, str, Category, str, int | None, int | None, str]


@runtime_checkable
class _Memoizing(Protocol):
    def memo(self, key: str, compute: Callable[[], Any]) -> Any: ...

    @property
    def grouper(self) -> Callable[[Iterable[CheckResult]], Sequence[Problem]] | None:
        """How these results group their problems, when not in memory (results kept outside it)."""


@runtime_checkable
class _Counting(Protocol):
    def counts(self) -> ProblemCounts: ...


def group_problems(results: Iterable[CheckResult]) -> Sequence[Problem]:
    """The problems among ``results``, most pages affected first (then most links, then by URL).

    Streams: only the broken and unverified results are held, so a report of 100,000 ok links costs one
    pass, and a crawl's results are grouped once however many formats and summaries read them. Results
    of other categories are skipped. Results kept outside memory may group them outside memory too (their
    ``grouper``: :func:`linkdoctor.problems_on_disk.group_on_disk`).
    """
    if isinstance(results, _Memoizing):
        group = results.grouper or _group
        problems: Sequence[Problem] = results.memo("problems", lambda: group(results))
        return problems
    return _group(results)


def _group(results: Iterable[CheckResult]) -> tuple[Problem, ...]:
    found: dict[ProblemKey, tuple[CheckResult, list[Sequence[Location]], list[int]]] = {}
    for result in results_in(results, PROBLEM_CATEGORIES):
        key, locations, links = problem_part(result)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = (result, [], [0])
        entry[1].append(locations)
        entry[2][0] += links
    problems = [_problem(key, *entry) for key, entry in found.items()]
    problems.sort(key=lambda p: (-p.pages, -p.links, p.url, p.code))
    return tuple(problems)


def problem_part(result: CheckResult) -> tuple[ProblemKey, Sequence[Location], int]:
    """The key of the problem a broken or unverified ``result`` is part of, the places it adds, and how
    many places it counts (its referrers found, when only some were kept)."""
    target, fragment = split_fragment(result.url)
    anchor = is_missing_anchor(result)
    kind = ProblemKind.ANCHOR if anchor else ProblemKind.DOCUMENT
    code = result.diagnosis.code if result.diagnosis else ""
    error = result.error.value if result.error else ""
    key: ProblemKey = (
        kind, target, fragment if anchor else "", result.category, code, result.status,
        result.precise_status, error,
    )  # fmt: skip
    locations = _locations(result.referrers, fragment)
    return key, locations, max(result.referrers_found, len(locations))


def _locations(referrers: Sequence[Referrer], fragment: str) -> Sequence[Location]:
    if not referrers:
        return (Location(START_URL, None, "", fragment),)
    if isinstance(referrers, tuple | list):
        return tuple(Location(r.url, r.line, r.text, fragment) for r in referrers)
    return _Places(referrers, fragment)  # kept outside memory (too many to hold): built as they are read


class _Places(Sequence[Location]):
    """The places of ``referrers`` kept outside memory, each built as it is read."""

    __slots__ = ("_fragment", "_referrers")

    def __init__(self, referrers: Sequence[Referrer], fragment: str) -> None:
        self._referrers = referrers
        self._fragment = fragment

    def __len__(self) -> int:
        return len(self._referrers)

    @overload
    def __getitem__(self, index: int) -> Location: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Location]: ...
    def __getitem__(self, index: int | slice) -> Location | Sequence[Location]:
        if isinstance(index, slice):
            return _Places(self._referrers[index], self._fragment)
        r = self._referrers[index]
        return Location(r.url, r.line, r.text, self._fragment)

    def __iter__(self) -> Iterator[Location]:
        fragment = self._fragment
        return (Location(r.url, r.line, r.text, fragment) for r in self._referrers)


def location_order(loc: Location) -> tuple[str, bool, int, str, str]:
    """The order of a problem's locations; two locations with the same are one."""
    return (loc.page, loc.line is not None, loc.line or 0, loc.fragment, loc.text)


def _problem(
    key: ProblemKey, first: CheckResult, parts: list[Sequence[Location]], links: list[int]
) -> Problem:
    unique = {location_order(loc): loc for part in parts for loc in part}
    return build_problem(key, first, tuple(unique[k] for k in sorted(unique)), links[0])


def build_problem(
    key: ProblemKey, first: CheckResult, locations: Sequence[Location], links: int, pages: int | None = None
) -> Problem:
    """The problem of ``key``: ``first`` its first result, ``locations`` its places (unique, in
    :func:`location_order`), ``links`` the places its results counted, ``pages`` its unique pages (counted
    from ``locations`` unless given)."""
    kind, target, anchor = key[0], key[1], key[2]
    url = f"{target}#{anchor}" if anchor else target
    result = first.for_link(url, ())
    if not anchor and first.final_url and "#" in first.final_url:
        result = CheckResult(
            url, first.category, first.status, first.reason, first.precise_status,
            split_fragment(first.final_url)[0], first.redirects, first.elapsed_ms, first.error,
            first.error_message, first.diagnosis, (), first.findings,
        )  # fmt: skip
    if pages is None:
        pages = len({loc.page for loc in locations})
    return Problem(kind, target, anchor, result, locations, max(links, len(locations)), pages)


def problem_counts(results: Iterable[CheckResult]) -> ProblemCounts:
    """``count_problems(group_problems(results))``, once per crawl's results however many readers ask (the
    JSON report's head and the summary line)."""
    if isinstance(results, _Memoizing):
        counts: ProblemCounts = results.memo("counts", lambda: count_problems(group_problems(results)))
        return counts
    return count_problems(group_problems(results))


def count_problems(problems: Sequence[Problem]) -> ProblemCounts:
    """The headline numbers of ``problems``: see :class:`ProblemCounts` (problems kept outside memory
    count themselves there)."""
    if isinstance(problems, _Counting):
        return problems.counts()
    per_label: dict[str, tuple[list[Problem], set[str]]] = {}
    pages: set[str] = set()
    for problem in problems:
        group = per_label.setdefault(problem.label, ([], set()))
        group[0].append(problem)
        for loc in problem.locations:
            group[1].add(loc.page)
            pages.add(loc.page)
    labels = [
        LabelCount(label, len(group), sum(p.links for p in group), len(group_pages))
        for label, (group, group_pages) in per_label.items()
    ]
    labels.sort(key=lambda c: (-c.pages, -c.links, c.label))  # by impact, as problems sort
    broken = sum(1 for p in problems if p.category is Category.BROKEN)
    return ProblemCounts(
        problems=len(problems),
        broken=broken,
        unverified=len(problems) - broken,
        links=sum(p.links for p in problems),
        pages=len(pages),
        labels=tuple(labels),
    )


def headline(counts: ProblemCounts, *, labels: int = 3) -> str:
    """``3 problems: 1 missing page (linked 62 times from 12 pages), 2 missing anchors (…)``: the first
    ``labels`` labels by impact, the rest counted together.

    >>> headline(ProblemCounts())
    'no problems'
    """
    if not counts.problems:
        return "no problems"
    parts = [
        f"{_plural(c.problems, c.label)} (linked {_times(c.links)} from {_plural(c.pages, 'page')})"
        for c in counts.labels[:labels]
    ]
    rest = sum(c.problems for c in counts.labels[labels:])
    if rest:
        parts.append(f"{_plural(rest, 'other problem')}")
    return f"{_plural(counts.problems, 'problem')}: " + ", ".join(parts)


def summary_line(summary: Summary, counts: ProblemCounts) -> str:
    """The run in one line of plain text: the problems' headline, then links per category and pages.

    >>> summary_line(Summary(total=3, ok=3, pages_crawled=1, elapsed_s=0.5), ProblemCounts())
    'no problems · 3 links: 3 ok · 0 redirected · 0 broken · 0 unverified · 0 excluded (1 page in 0.5s)'
    """
    s = summary
    links = (
        f"{s.total:,} links: {s.ok:,} ok · {s.redirected:,} redirected · {s.broken:,} broken · "
        f"{s.unverified:,} unverified · {s.excluded:,} excluded"
    )
    return f"{headline(counts)} · {links} ({_plural(s.pages_crawled, 'page')} in {s.elapsed_s:.1f}s)"


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count:,} times"


def by_page(problems: Sequence[Problem]) -> tuple[PageProblems, ...]:
    """The per-page view of ``problems``: each referring page with its problems' locations by line."""
    pages: dict[str, list[tuple[Location, Problem]]] = {}
    for problem in problems:
        for loc in problem.locations:
            pages.setdefault(loc.page, []).append((loc, problem))
    return tuple(
        PageProblems(page, tuple(sorted(entries, key=lambda e: (e[0].line or 0, e[1].url, e[0].fragment))))
        for page, entries in sorted(pages.items())
    )
