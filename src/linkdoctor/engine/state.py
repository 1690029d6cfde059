"""Where a crawl keeps what it found: the unique resources and links, and each link's referrers.

The crawler (:mod:`linkdoctor.engine.crawl`) finds, adds and lists entries and their referrers only
through :class:`CrawlState`, so that another store can hold the same state: :class:`MemoryState` is the
one-process store, and :mod:`linkdoctor.distributed.crawlstate` keeps it in Redis. The crawler changes an
entry's own fields (``done``, ``result``, ``anchors``) in place; a store outside the process writes them
back on :meth:`CrawlState.flush`, and it costs a round trip per page, not per link, because the crawler
names a page's links first (:meth:`CrawlState.prefetch`) and reads the finished links as one sorted
sequence (:meth:`CrawlState.emitted_links`).

Referrers are what grows with a site: a navigation link is found on every page. So a link keeps its
referrers while its verdict is pending, and once it is settled (:meth:`CrawlState.settle`) an ``ok`` link
keeps only how many unique referrers it has; every other verdict (broken, redirected, unverified,
excluded) keeps them all, as does every link with ``keep_all`` (``--all-referrers``). The crawler hands
each referrer once: a page's repeats of the same link on the same line with the same text are one.

A finished crawl's results are a :class:`~linkdoctor.engine.results.ResultView` over its links.

>>> state = MemoryState()
>>> link = state.add_link(LinkEntry("https://example.org/", "", None))
>>> state.refer(link, Referrer("https://example.org/a", 3, "Home"))
>>> state.settle(link, keep=False)
>>> state.refer(link, Referrer("https://example.org/b", 4, "Home"))
>>> state.referrers(link), state.referrer_count(link)
((), 2)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from linkdoctor.models import Category, CheckResult, Referrer

# ResourceEntry's flags, packed into one int (below 256, so one of the ints Python shares, never a new one).
_CRAWL, _SCOPE_SEED, _QUEUED, _DONE, _FETCHED_BODY = 1, 2, 4, 8, 16


class ResourceEntry:
    """One unique URL without its fragment: what fetching it told, and the links that point at it
    (``links``; most resources have one, held without a list).

    A crawl holds one per unique URL until its end, so it is kept small: its five flags share one small
    int, and a plain ``ok`` result (200 "OK", no redirect, no error, nothing attached) is kept as its
    elapsed time alone and built again when read (:func:`plain_elapsed`). That is 80 bytes and a float
    instead of 112 bytes and a 144-byte result.
    """

    __slots__ = ("_bits", "_result", "anchors", "depth", "linked", "url")
    _recent: ClassVar[tuple[ResourceEntry | None, CheckResult | None]] = (None, None)

    def __init__(
        self,
        url: str,
        depth: int,
        crawl: bool,
        scope_seed: bool = False,
        queued: bool = False,
        done: bool = False,
        fetched_body: bool = False,
        result: CheckResult | None = None,
        anchors: frozenset[str] | None = None,
        linked: LinkEntry | list[LinkEntry] | None = None,
    ) -> None:
        self.url = url
        self.depth = depth
        self._bits = (
            (_CRAWL if crawl else 0)
            | (_SCOPE_SEED if scope_seed else 0)
            | (_QUEUED if queued else 0)
            | (_DONE if done else 0)
            | (_FETCHED_BODY if fetched_body else 0)
        )
        self._result: CheckResult | float | None = None
        self.result = result
        self.anchors = anchors
        self.linked = linked

    def __repr__(self) -> str:
        return (
            f"ResourceEntry({self.url!r}, depth={self.depth}, crawl={self.crawl}, queued={self.queued}, "
            f"done={self.done}, result={self.result!r})"
        )

    def _flag(self, bit: int, on: bool) -> None:
        self._bits = self._bits | bit if on else self._bits & ~bit

    @property
    def crawl(self) -> bool:
        """Its body is parsed for more links (in scope, within depth)."""
        return bool(self._bits & _CRAWL)

    @crawl.setter
    def crawl(self, on: bool) -> None:
        self._flag(_CRAWL, on)

    @property
    def scope_seed(self) -> bool:
        """A start URL: a redirect of it moves the scope along."""
        return bool(self._bits & _SCOPE_SEED)

    @scope_seed.setter
    def scope_seed(self, on: bool) -> None:
        self._flag(_SCOPE_SEED, on)

    @property
    def queued(self) -> bool:
        return bool(self._bits & _QUEUED)

    @queued.setter
    def queued(self, on: bool) -> None:
        self._flag(_QUEUED, on)

    @property
    def crawl_or_queued(self) -> bool:
        """To be crawled, or waiting for its check (one read for the crawler's most frequent question)."""
        return bool(self._bits & (_CRAWL | _QUEUED))

    @property
    def done(self) -> bool:
        return bool(self._bits & _DONE)

    @done.setter
    def done(self, on: bool) -> None:
        self._flag(_DONE, on)

    @property
    def fetched_body(self) -> bool:
        return bool(self._bits & _FETCHED_BODY)

    @fetched_body.setter
    def fetched_body(self, on: bool) -> None:
        self._flag(_FETCHED_BODY, on)

    @property
    def result(self) -> CheckResult | None:
        kept = self._result
        if type(kept) is not float:
            return kept  # type: ignore[return-value]  # not a float: a result or None
        # The crawler reads a resource's result several times in a row (its verdict, a fragment check, its
        # links' results): the last one built is kept, so that costs one build, not one per read.
        recent = ResourceEntry._recent
        if recent[0] is self:
            return recent[1]
        url = self.url
        built = CheckResult(url, Category.OK, 200, "OK", 200, url, (), kept, None, "", None, (), (), None)
        ResourceEntry._recent = (self, built)
        return built

    @result.setter
    def result(self, result: CheckResult | None) -> None:
        if ResourceEntry._recent[0] is self:
            ResourceEntry._recent = (None, None)
        elapsed = None if result is None else plain_elapsed(self.url, result)
        self._result = result if elapsed is None else elapsed

    @property
    def category(self) -> Category | None:
        """Its result's category (None before it is checked), without building a plain ``ok`` result."""
        kept = self._result
        if type(kept) is float:
            return Category.OK
        return None if kept is None else kept.category  # type: ignore[union-attr]  # a result

    def result_for(
        self, url: str, referrers: Sequence[Referrer], referrer_count: int | None
    ) -> CheckResult | None:
        """The result of the link ``url`` to this resource: its result's
        :meth:`~linkdoctor.models.CheckResult.for_link`, built once for a plain ``ok`` result, not twice."""
        kept = self._result
        if type(kept) is float:
            return CheckResult(
                url,
                Category.OK,
                200,
                "OK",
                200,
                self.url,
                (),
                kept,
                None,
                "",
                None,
                referrers,
                (),
                referrer_count,
            )
        return None if kept is None else kept.for_link(url, referrers, referrer_count)  # type: ignore[union-attr]

    @property
    def links(self) -> Sequence[LinkEntry]:
        """The links to this resource (with and without fragments), in the order they were added."""
        linked = self.linked
        if linked is None:
            return ()
        return linked if isinstance(linked, list) else (linked,)

    def add_link(self, link: LinkEntry) -> None:
        linked = self.linked
        if linked is None:
            self.linked = link
        elif isinstance(linked, list):
            linked.append(link)
        else:
            self.linked = [linked, link]


def plain_elapsed(url: str, result: CheckResult) -> float | None:
    """``result``'s elapsed time if it is the plain ``ok`` answer of ``url`` (200 "OK" from ``url`` itself,
    nothing else set), which ``CheckResult(url, OK, 200, "OK", 200, url, (), elapsed)`` rebuilds equal;
    else ``None``. Most results of a big crawl are plain."""
    if (
        result.category is Category.OK
        and result.status == 200
        and result.reason == "OK"
        and type(result.elapsed_ms) is float
        and result.url == url
        and result.final_url == url
        and result.precise_status == 200
        and not result.redirects
        and result.error is None
        and not result.error_message
        and result.diagnosis is None
        and not result.referrers
        and not result.findings
        and result.referrer_count is None
    ):
        return result.elapsed_ms
    return None


@dataclass(slots=True)
class LinkEntry:
    """One unique link as found (fragment and all). ``referrers`` holds one referrer as itself and several
    in a list (most links wait for their verdict with one), or in a tuple once read in page order; it is
    ``None`` once only counted, and ``counted`` is then the number of unique referrers not listed."""

    url: str
    fragment: str
    resource: ResourceEntry | None
    referrers: Referrer | list[Referrer] | Sequence[Referrer] | None = field(default_factory=list)
    preset: CheckResult | None = None
    emitted: bool = False
    counted: int = 0


def in_page_order(found: Iterable[Referrer]) -> tuple[Referrer, ...]:
    """Referrers without repeats, by page, line and text (a line-less referrer first on its page).

    Keyed by plain tuples, which hash and compare in C; equal keys mean equal referrers."""
    unique = {(r.url, r.line is not None, r.line or 0, r.text): r for r in found}
    if len(unique) < 2:
        return tuple(unique.values())
    return tuple([unique[key] for key in sorted(unique)])


class CrawlState(Protocol):
    """A crawl's resources, links and referrers, whatever holds them."""

    # Whether it holds them outside this process's memory: a report then indexes its results outside too.
    outside_memory: bool

    def resource(self, url: str) -> ResourceEntry | None:
        """The resource of ``url`` (no fragment), if known."""

    def add_resource(self, resource: ResourceEntry) -> ResourceEntry:
        """Remember a new resource; returns it."""

    def link(self, url: str) -> LinkEntry | None:
        """The link of ``url`` (fragment and all), if known."""

    def add_link(self, link: LinkEntry) -> LinkEntry:
        """Remember a new link (and add it to its resource's links); returns it."""

    def refer_known(self, url: str, page: str, line: int | None, text: str) -> LinkEntry | None:
        """:meth:`refer` ``Referrer(page, line, text)`` to the link of ``url`` and return the link, if it
        is known; else change nothing and return ``None``. Most links a page holds were seen before, and
        most of those are settled ``ok`` links that only count their referrers: one call for them, and no
        :class:`Referrer` built."""

    def resources(self) -> Iterator[ResourceEntry]:
        """Every resource, in the order they were added."""

    def links(self) -> Iterator[LinkEntry]:
        """Every link, in the order they were added."""

    def refer(self, link: LinkEntry, referrer: Referrer) -> None:
        """One more place ``link`` was found (the crawler never hands the same one twice once settled)."""

    def settle(self, link: LinkEntry, *, keep: bool) -> None:
        """``link``'s verdict is known: keep its referrers (``keep``), or only their count."""

    def referrers(self, link: LinkEntry) -> Sequence[Referrer]:
        """The referrers kept for ``link``, without repeats, in page order."""

    def referrer_count(self, link: LinkEntry) -> int:
        """How many unique referrers ``link`` has, kept or only counted."""

    def referrers_and_count(self, link: LinkEntry) -> tuple[Sequence[Referrer], int]:
        """``referrers`` and ``referrer_count`` at once (a result needs both)."""

    def prefetch(self, urls: Iterable[object]) -> None:
        """The links and resources of ``urls`` (the ``str`` ones; the rest are skipped) are about to be
        asked for: a store outside the process reads them in one go."""

    def prefetch_referrers(self, links: Sequence[LinkEntry]) -> None:
        """The referrers of ``links`` are about to be asked for (their results streamed as a resource is
        done): a store outside the process reads them in one go."""

    def queue(self) -> asyncio.Queue[str]:
        """A new queue of the URLs of resources to check, first in, first out (a store outside the process
        may keep most of it there)."""

    def hold(self, resource: ResourceEntry) -> None:
        """A check of ``resource`` starts: the crawler holds it (and its links) until :meth:`release`."""

    def release(self, resource: ResourceEntry) -> None:
        """The check of ``resource`` is over."""

    def flush(self, *, force: bool = False) -> None:
        """A check finished: a store outside the process may write back what changed (it must, with
        ``force``) and forget the entries of resources not held (:meth:`hold`); the crawler keeps no
        other entry across a flush."""

    def emitted_links(self) -> Sequence[LinkEntry]:
        """The links with a verdict (``emitted``), sorted by URL: what a report lists."""

    def note_problem(self, key: str) -> None:
        """A problem as :mod:`linkdoctor.problems` groups them, named by ``key`` (a broken document's URL, or
        a link's with its missing anchor), was found: the progress display counts the distinct ones."""

    def problem_count(self) -> int:
        """How many distinct problems were noted; a store outside the process may count those noted since
        its last write-back only from the next one (it never counts one twice), and counts all after
        ``flush(force=True)``."""


class MemoryState:
    """:class:`CrawlState` in this process's memory. ``keep_all`` keeps every referrer of every link.

    One dict holds both kinds of entry, by URL: a resource's URL (it has no fragment) is usually also the
    URL of its plain link, so the dict keeps the link there and reaches the resource through it (a second
    dict would cost about 40 bytes more per unique URL). A resource whose URL's entry is a link to something
    else (an excluded or invalid link of the same text) waits in ``_hidden``. Resources are listed in the
    order they were added, those hidden last; links in the order their URLs were first added.
    """

    def __init__(self, *, keep_all: bool = False) -> None:
        self.keep_all = keep_all
        self.outside_memory = False
        self._entries: dict[str, LinkEntry | ResourceEntry] = {}
        self._hidden: dict[str, ResourceEntry] = {}
        self._problems: set[str] = set()
        self._link_count = 0

    def resource(self, url: str) -> ResourceEntry | None:
        entry = self._entries.get(url)
        if type(entry) is LinkEntry:
            own = entry.resource
            return own if own is not None and own.url == url else self._hidden.get(url)
        return entry  # type: ignore[return-value]  # a resource or None

    def add_resource(self, resource: ResourceEntry) -> ResourceEntry:
        url = resource.url
        entry = self._entries.get(url)
        if entry is None or type(entry) is ResourceEntry:
            self._entries[url] = resource
        else:
            self._hidden[url] = resource
        return resource

    def link(self, url: str) -> LinkEntry | None:
        entry = self._entries.get(url)
        return entry if type(entry) is LinkEntry else None

    def add_link(self, link: LinkEntry) -> LinkEntry:
        url = link.url
        entry = self._entries.get(url)
        if not isinstance(entry, LinkEntry):
            self._link_count += 1
            if entry is not None and entry is not link.resource:
                self._hidden[url] = entry  # a resource this link is not to (the link is excluded)
        self._entries[url] = link
        if link.resource is not None:
            link.resource.add_link(link)
        return link

    def resources(self) -> Iterator[ResourceEntry]:
        for url, entry in self._entries.items():
            if type(entry) is LinkEntry:
                own = entry.resource
                if own is not None and own.url == url:
                    yield own
            else:
                yield entry  # type: ignore[misc]  # a resource
        yield from self._hidden.values()

    def links(self) -> Iterator[LinkEntry]:
        for entry in self._entries.values():
            if type(entry) is LinkEntry:
                yield entry

    def refer_known(self, url: str, page: str, line: int | None, text: str) -> LinkEntry | None:
        link = self._entries.get(url)
        if type(link) is not LinkEntry:
            return None
        found = link.referrers
        if found is None:
            link.counted += 1
        elif type(found) is list:
            found.append(Referrer(page, line, text))
        else:
            self.refer(link, Referrer(page, line, text))
        return link

    def refer(self, link: LinkEntry, referrer: Referrer) -> None:
        found = link.referrers
        if found is None:
            link.counted += 1
        elif type(found) is list:
            found.append(referrer)
        elif isinstance(found, Referrer):
            link.referrers = [found, referrer]
        else:  # put in page order by an earlier read
            link.referrers = [*found, referrer]

    def settle(self, link: LinkEntry, *, keep: bool) -> None:
        found = link.referrers
        if keep or self.keep_all or found is None:
            return
        if type(found) is list:  # counted without repeats, as in_page_order would keep them (not sorted)
            link.counted += len({(r.url, r.line, r.text) for r in found})
        else:
            link.counted += 1 if isinstance(found, Referrer) else len(found)
        link.referrers = None

    def referrers(self, link: LinkEntry) -> Sequence[Referrer]:
        found = link.referrers
        if found is None:
            return ()
        if isinstance(found, Referrer):
            return (found,)
        if type(found) is tuple:
            return found
        ordered = in_page_order(found)
        link.referrers = ordered  # kept in order: a report reads a problem's referrers several times
        return ordered

    def referrer_count(self, link: LinkEntry) -> int:
        return link.counted + len(self.referrers(link))

    def referrers_and_count(self, link: LinkEntry) -> tuple[Sequence[Referrer], int]:
        referrers = self.referrers(link)
        return referrers, link.counted + len(referrers)

    def prefetch(self, urls: Iterable[object]) -> None:
        pass  # all here

    def prefetch_referrers(self, links: Sequence[LinkEntry]) -> None:
        pass  # all here

    def queue(self) -> asyncio.Queue[str]:
        return asyncio.Queue()

    def hold(self, resource: ResourceEntry) -> None:
        pass  # nothing is forgotten

    def release(self, resource: ResourceEntry) -> None:
        pass

    def flush(self, *, force: bool = False) -> None:
        pass  # nothing to write back

    def emitted_links(self) -> Sequence[LinkEntry]:
        return sorted((link for link in self.links() if link.emitted), key=lambda link: link.url)

    def note_problem(self, key: str) -> None:
        self._problems.add(key)

    def problem_count(self) -> int:
        return len(self._problems)

    def __len__(self) -> int:
        """How many links."""
        return self._link_count
