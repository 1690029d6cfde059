"""Trap defences and budgets: which new URLs a crawl takes, and a count of everything it leaves out.

The crawler asks a :class:`TrapGuard` before it takes a URL it has never seen (:meth:`TrapGuard.admit`),
before it reads a page's links (:meth:`TrapGuard.links_to_read`) and before each check
(:meth:`TrapGuard.out_of_time`). The guard turns away, by reason:

* ``crawl.query-cap``: more than ``max_queries`` distinct query strings on one path;
* ``crawl.path-too-deep``: a page in scope whose path has more than ``max_path_depth`` segments;
* ``crawl.trap-suspected``: a page in scope whose path repeats a block of segments three times
  (``a/b/a/b/a/b``, ``more/more/more``); whose *shape* (digit runs and ids set aside, so
  ``/cal/2026/01/02`` is ``/cal/#/#/#``), holding two numbers or more like a date, keeps appearing more
  than ``trap_depth`` links deeper than where the shape was first seen (a calendar that links to the next
  day forever; a numbered chain such as ``/page/7`` is finite and left alone); or whose path comes
  back with more than ``trap_ids`` different session-like ids (``/s/3f9a…/docs/``, ``;jsessionid=…``);
* ``crawl.link-cap``: links past the first ``max_links_per_page`` of one page;
* ``crawl.url-budget``: new URLs once ``max_urls`` were taken, and sitemap locations past the first
  ``max_sitemap_urls`` of the whole run (a sitemap index of a million URLs is read up to that many, and
  its sitemaps after that are checked, not read: :meth:`TrapGuard.sitemap_locs`,
  :meth:`TrapGuard.sitemap_not_read`);
* ``crawl.time-budget``: checks not started once ``max_time`` seconds passed.

Each is counted, with an example, and comes back as :class:`~linkdoctor.models.LeftOut` lines
(:meth:`TrapGuard.left_out`) that every report format shows. The guard's memory is bounded by what it
admits: per-shape and per-path counters only for paths with digits, ids or queries, and a capped set of
the URLs it turned away (so a link seen on every page is counted once).

>>> guard = TrapGuard(TrapLimits(max_path_depth=3))
>>> guard.admit("https://e.org/a/b/c/d", depth=1, crawl=True)
False
>>> [item.code for item in guard.left_out()]
['crawl.path-too-deep']
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from linkdoctor.classify import codes
from linkdoctor.config import CheckConfig
from linkdoctor.models import CheckResult, LeftOut

TRAP_SUSPECTED: Final = "crawl.trap-suspected"
QUERY_CAP: Final = "crawl.query-cap"
PATH_TOO_DEEP: Final = "crawl.path-too-deep"
LINK_CAP: Final = "crawl.link-cap"
URL_BUDGET: Final = "crawl.url-budget"
TIME_BUDGET: Final = "crawl.time-budget"
PAGE_BUDGET: Final = "crawl.page-budget"
BODY_TRUNCATED: Final = "http.body-truncated"

# The order left-out lines are listed in: what ended the run first, then what was cut inside it.
_ORDER: Final = (TIME_BUDGET, URL_BUDGET, PAGE_BUDGET, TRAP_SUSPECTED, QUERY_CAP, PATH_TOO_DEEP, LINK_CAP,
                 BODY_TRUNCATED)  # fmt: skip
_EXAMPLES: Final = 3
# URLs turned away are remembered (by hash) up to this many, so one seen on every page counts once.
_REMEMBERED: Final = 200_000
_REPEATS: Final = 3  # a block of path segments repeated this many times in a row is a trap
_DATE_NUMBERS: Final = 2  # numbers in a path shape judged by how deep it keeps appearing
_LONGEST_BLOCK: Final = 4
_SITEMAPS_BEFORE_ONE_IS_READ: Final = 8  # sitemaps read at once while their size is unknown
_DIGITS = re.compile(r"[0-9]+")
# An id: 16+ characters of letters and digits (hex, base64url), with at least one of each; or a UUID.
_ID_LENGTH: Final = 16
_ID = re.compile(r"^(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_\-]{16,}$")
_ASPNET_SESSION = re.compile(r"^\([A-Z]\(.*\)\)$")  # ASP.NET cookieless sessions: /(S(abc…))/page


@dataclass(frozen=True, slots=True)
class TrapLimits:
    """The guard's limits; 0 (or ``None`` for the budgets) turns one off. A run's come from its
    configuration (:func:`trap_limits`), whose defaults are :mod:`linkdoctor.options`'."""

    max_queries: int = 0
    max_path_depth: int = 0
    trap_depth: int = 0
    trap_ids: int = 0
    max_links_per_page: int = 0
    max_urls: int | None = None
    max_sitemap_urls: int = 0
    max_time: float | None = None
    max_body: int = 0  # only for the body-truncated line's wording
    max_pages: int = 0  # only for the page-budget line's wording


def trap_limits(config: CheckConfig) -> TrapLimits:
    """The guard's limits from a run's configuration."""
    return TrapLimits(
        max_queries=config.max_queries,
        max_path_depth=config.max_path_depth,
        trap_depth=config.trap_depth,
        trap_ids=config.trap_ids,
        max_links_per_page=config.max_links_per_page,
        max_urls=config.max_urls,
        max_sitemap_urls=config.max_sitemap_urls,
        max_time=config.max_time,
        max_body=config.max_body,
        max_pages=config.max_pages,
    )


@dataclass(slots=True)
class _Tally:
    count: int = 0
    examples: tuple[str, ...] = ()
    detail: str = ""


class TrapGuard:
    """Decides which new URLs a crawl takes, and counts what it turns away (see the module docstring).

    ``clock`` measures ``max_time`` from the guard's creation (the start of the run)."""

    def __init__(self, limits: TrapLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._started = clock()
        self._taken = 0
        self._from_sitemaps = 0
        self._largest_sitemap = 0  # the most locations one sitemap gave so far
        self._sitemaps_reading: set[str] = set()  # sitemaps let through whose locations are not taken yet
        self._index_children: set[int] = set()  # hashes of the sitemaps that sitemap indexes listed
        self._queries: dict[str, int] = {}
        self._shapes: dict[str, int] = {}  # shape → the least depth it was seen at
        self._ids: dict[str, set[str]] = {}  # path with its ids set aside → the ids seen
        self._turned_away: set[int] = set()
        self._tallies: dict[str, _Tally] = {}

    # --- questions the crawler asks ---------------------------------------------------------------------------
    def admit(self, url: str, *, depth: int, crawl: bool, seed: bool = False) -> bool:
        """Whether the crawl takes ``url`` (no fragment, never seen before) found ``depth`` links from the
        start; ``crawl`` says it would be crawled (in scope). A seed is always taken. A URL turned away is
        counted under its reason."""
        if not seed:
            reason = self._reason(url, depth, crawl)
            if reason is not None:
                self._turn_away(reason, url)
                return False
        self._taken += 1
        return True

    def links_to_read(self, page_url: str, found: int, *, held: int | None = None) -> int:
        """How many of the ``found`` links of ``page_url`` to read, in document order; the rest are
        counted under ``crawl.link-cap``. ``held``: how many of them the page's parse kept (a sitemap keeps
        at most 50,000), when fewer than found."""
        cap = self.limits.max_links_per_page or found
        if held is not None:
            cap = min(cap, held)
        if found <= cap:
            return found
        self._count(LINK_CAP, found - cap, page_url)
        return cap

    def sitemap_locs(
        self, sitemap_url: str, found: int, *, locs: Sequence[str], index: bool = False
    ) -> list[str]:
        """The distinct ``locs`` (of ``found``) of a sitemap to take, in order: past :meth:`links_to_read`'s
        cap (``crawl.link-cap``), the run's ``max_sitemap_urls`` taken from all sitemaps together bounds
        them (``crawl.url-budget``). The sitemaps an ``index`` lists are the ones :meth:`sitemap_not_read`
        may leave unread."""
        keep = self.links_to_read(sitemap_url, found, held=len(locs))
        distinct = list(dict.fromkeys(locs[:keep]))  # a repeated loc is one URL, and one referrer
        budget = self.limits.max_sitemap_urls
        if not budget:
            return distinct
        self._sitemaps_reading.discard(sitemap_url)
        self._largest_sitemap = max(self._largest_sitemap, len(distinct))
        room = max(0, budget - self._from_sitemaps)
        if len(distinct) > room:
            self._count(URL_BUDGET, len(distinct) - room, sitemap_url)
            del distinct[room:]
        self._from_sitemaps += len(distinct)
        if index:
            self._index_children.update(hash(loc) for loc in distinct)
        return distinct

    def sitemap_not_read(self, url: str) -> bool:
        """Whether ``url``, a sitemap that a sitemap index listed, is to be checked without reading it because ``max_sitemap_urls`` will be taken by the sitemaps already taken
        and those being read (each counted as big as the biggest so far); counted as left out. So an index
        of a thousand sitemaps of a thousand URLs has some fifty of them downloaded, not all."""
        budget = self.limits.max_sitemap_urls
        if not budget or hash(url) not in self._index_children:
            return False
        reading = len(self._sitemaps_reading)
        if self._largest_sitemap:
            room = self._from_sitemaps + reading * self._largest_sitemap < budget
        else:  # no sitemap read yet: how big they are is not known
            room = reading < _SITEMAPS_BEFORE_ONE_IS_READ
        if room:
            self._sitemaps_reading.add(url)
            return False
        self._count(URL_BUDGET, 1, url)
        return True

    def out_of_time(self) -> bool:
        """Whether ``max_time`` has passed: no check should start any more."""
        limit = self.limits.max_time
        return limit is not None and self._clock() - self._started >= limit

    def not_checked(self, url: str) -> None:
        """Count ``url`` as left unchecked because time ran out."""
        self._count(TIME_BUDGET, 1, url)

    def saw(self, result: CheckResult) -> None:
        """Count ``result`` when its body was cut at ``max_body`` (its diagnosis says so), once per URL."""
        diagnosis = result.diagnosis
        if diagnosis is not None and diagnosis.code == BODY_TRUNCATED:
            self._turn_away(BODY_TRUNCATED, result.url)

    def page_not_crawled(self, url: str) -> None:
        """Count a page checked but not crawled because ``max_pages`` was reached."""
        self._count(PAGE_BUDGET, 1, url)

    def left_out(self) -> tuple[LeftOut, ...]:
        """What was left out, one line per reason, in a fixed order."""
        return tuple(
            LeftOut(code, tally.count, self._detail(code), tally.examples)
            for code in _ORDER
            if (tally := self._tallies.get(code)) is not None
        )

    # --- the rules ----------------------------------------------------------------------------------------
    def _reason(self, url: str, depth: int, crawl: bool) -> str | None:
        limits = self.limits
        if limits.max_urls is not None and self._taken >= limits.max_urls:
            return URL_BUDGET
        head, _, query = url.partition("?")
        if query and limits.max_queries:
            seen = self._queries.get(head, 0)
            if seen >= limits.max_queries:
                return QUERY_CAP
            self._queries[head] = seen + 1
        if not crawl:  # a leaf cannot lead anywhere: only pages to crawl can be a trap
            return None
        scheme_end = head.find("//")
        path_start = head.find("/", scheme_end + 2) if scheme_end >= 0 else -1
        if path_start < 0:
            return None
        site, path = head[:path_start], head[path_start:]
        segments = [s for s in path.split("/") if s]
        if limits.max_path_depth and len(segments) > limits.max_path_depth:
            return PATH_TOO_DEEP
        if (
            limits.trap_depth and len(segments) >= _REPEATS and _repeats(segments)
        ):  # --trap-depth 0 turns the path patterns off
            return TRAP_SUSPECTED
        shape, ids = _shape(segments)
        if limits.trap_ids and ids:
            key = site + "/" + "/".join(shape)
            known = self._ids.setdefault(key, set())
            if ids not in known:
                if len(known) >= limits.trap_ids:
                    return TRAP_SUSPECTED
                known.add(ids)
        # Dates have two or three numbers (/2026/01/02, /2026-01-02); a numbered chain of pages (/page/7,
        # /p7.html) is finite, and deep only because each links to the next: not judged by depth.
        if limits.trap_depth and sum(part.count("#") for part in shape) >= _DATE_NUMBERS:
            key = site + "/" + "/".join(shape)
            first = self._shapes.setdefault(key, depth)
            if depth < first:
                self._shapes[key] = depth
            elif depth - first > limits.trap_depth:
                return TRAP_SUSPECTED
        return None

    # --- counting -----------------------------------------------------------------------------------------
    def _turn_away(self, code: str, url: str) -> None:
        key = hash(url)
        if key in self._turned_away:
            return
        if len(self._turned_away) < _REMEMBERED:
            self._turned_away.add(key)
        self._count(code, 1, url)

    def _count(self, code: str, count: int, example: str) -> None:
        tally = self._tallies.get(code)
        if tally is None:
            tally = self._tallies[code] = _Tally()
        tally.count += count
        if len(tally.examples) < _EXAMPLES:
            tally.examples = (*tally.examples, example)

    def _detail(self, code: str) -> str:
        """The catalogue's summary, with the limit that applied."""
        limits = self.limits
        value = {
            QUERY_CAP: f"--max-queries {limits.max_queries}",
            PATH_TOO_DEEP: f"--max-path-depth {limits.max_path_depth}",
            LINK_CAP: f"--max-links-per-page {limits.max_links_per_page}",
            URL_BUDGET: f"--max-urls {limits.max_urls}"
            + (
                f"; from sitemaps --max-sitemap-urls {limits.max_sitemap_urls}"
                if limits.max_sitemap_urls
                else ""
            ),
            TIME_BUDGET: f"--max-time {limits.max_time:g}s" if limits.max_time is not None else "",
            PAGE_BUDGET: f"--max-pages {limits.max_pages}",
        }.get(code, "")
        if code == BODY_TRUNCATED:
            return (
                f"pages cut short (at --max-body {limits.max_body:,} bytes, or early as a decompression bomb): "
                "links past the cut were not checked"
            )
        summary = codes.info(code).summary
        return f"{summary} ({value})" if value else summary


def _repeats(segments: list[str]) -> bool:
    """Whether a block of 1 to 4 segments occurs :data:`_REPEATS` times in a row.

    >>> _repeats("a b a b a b".split()), _repeats("docs docs api".split())
    (True, False)
    """
    count = len(segments)
    for size in range(1, _LONGEST_BLOCK + 1):
        span = size * _REPEATS
        for start in range(count - span + 1):
            block = segments[start : start + size]
            if all(segments[start + k * size : start + (k + 1) * size] == block for k in range(1, _REPEATS)):
                return True
    return False


def _shape(segments: list[str]) -> tuple[list[str], str]:
    """The path's shape (digit runs as ``#``; ids, and ids in path parameters, as ``*``) and the session
    ids it carries: ids in a segment other than the last one, and path parameters (``;jsessionid=…``).

    >>> _shape(["cal", "2026", "01", "02"])
    (['cal', '#', '#', '#'], '')
    >>> _shape(["s", "0123456789abcdef0", "docs", "a.html;jsessionid=XYZ"])
    (['s', '*', 'docs', 'a.html;*'], '0123456789abcdef0;jsessionid=XYZ')
    """
    shape: list[str] = []
    ids: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        base, semicolon, params = segment.partition(";")
        if semicolon:
            ids.append(params)
        # the length and first character first: most segments are neither, and the patterns cost more
        if (len(base) >= _ID_LENGTH and _ID.match(base)) or (base[:1] == "(" and _ASPNET_SESSION.match(base)):
            if index != last:
                ids.append(base)
            shape.append("*" + (";*" if semicolon else ""))
        else:
            shape.append(_DIGITS.sub("#", base) + (";*" if semicolon else ""))
    return shape, ";".join(ids)


# Google reads the first 500 KiB of a robots.txt and ignores the rest: so does the crawler, which also keeps
# matching each URL against a few thousand rules, not a hostile file's hundreds of thousands.
ROBOTS_MAX_CHARS: Final = 500 * 1024


def robots_rules(text: str) -> str:
    """The part of a robots.txt that is obeyed: its first :data:`ROBOTS_MAX_CHARS`, cut at a line's end.

    >>> robots_rules("User-agent: *\\nDisallow: /a\\n"), len(robots_rules("Disallow: /x\\n" * 100_000)) <= ROBOTS_MAX_CHARS
    ('User-agent: *\\nDisallow: /a\\n', True)
    """
    if len(text) <= ROBOTS_MAX_CHARS:
        return text
    return text[: text.rfind("\n", 0, ROBOTS_MAX_CHARS) + 1]
