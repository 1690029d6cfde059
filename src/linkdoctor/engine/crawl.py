"""The engine: a frontier of unique URLs, crawled within scope and checked once each.

``inputs → extract → collect/crawl → check → classify → report``: this module is the collect/crawl stage
and the conductor. It dedupes URLs, remembers every referrer, applies scope, filters and robots.txt,
runs the checks with bounded concurrency, and emits one :class:`CheckResult` per unique link.

>>> # report = await Crawler(config, transport=transport).run(collect_inputs(["https://example.org/"]))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from linkdoctor.classify import codes
from linkdoctor.config import CheckConfig
from linkdoctor.engine.cache import ResultCache
from linkdoctor.engine.check import ContextProvider, HttpChecker
from linkdoctor.engine.documents import ParserProcess, links_base
from linkdoctor.engine.fetching import FetchAborted, Page, PageSource, ParsingPages, read_page
from linkdoctor.engine.filters import excluded_result, file_on_web_result, invalid_result
from linkdoctor.engine.frontier import Frontier, FrontierLink, FrontierResource
from linkdoctor.engine.http.limiter import HostLimiter, SlotsClosed
from linkdoctor.engine.inputs import Inputs
from linkdoctor.engine.local import check_file
from linkdoctor.engine.page_budget import PageBudget
from linkdoctor.engine.progress import Progress
from linkdoctor.engine.results import ResultView
from linkdoctor.engine.robots import RobotsRules
from linkdoctor.engine.soft404 import detector_for
from linkdoctor.engine.state import (
    CrawlState,
    LinkEntry,
    MemoryState,
    ResourceEntry,
    in_page_order,
)
from linkdoctor.engine.transport import Transport
from linkdoctor.engine.traps import TrapGuard, trap_limits
from linkdoctor.engine.verdicts import Verdicts
from linkdoctor.models import Category, CheckResult, ErrorKind, Referrer, Report, Summary
from linkdoctor.urls import (
    InvalidURL,
    Resolver,
    Scope,
    directory_of,
    remap_url,
    shown_link,
    split_fragment,
)

# Elements whose targets are documents worth following when in scope.
_FOLLOW = frozenset(
    {
        "a[href]",
        "area[href]",
        "iframe[src]",
        "frame[src]",
        "meta[refresh]",
        "link[href]",
        "css @import",
        "md link",
        "md autolink",
        "seed",
        "sitemap",
        "redirect",
    }
)


# The state's entries (engine/state.py), under the names this module has always used.
_Resource = ResourceEntry
_Link = LinkEntry
_in_page_order = in_page_order
ResultSink = Callable[[CheckResult], None]
# Pages that may wait for the parser process, per fetch slot, without holding one (see ParsingPages).
PARSE_BACKLOG_FACTOR = 3
# Link texts kept once each while they repeat ("Home", "Next"); past this many the memo starts over, so
# a site of distinct titles does not keep every title of every ok link.
TEXTS_MEMO_LIMIT = 4096
# Pages' sets of ids and answers' reason phrases repeat too (a site template's ids, "OK"): shared likewise.
ANCHORS_MEMO_LIMIT = 4096
REASONS_MEMO_LIMIT = 256


class Crawler:
    """One run over some inputs. Create it per run; it is not reusable."""

    def __init__(
        self,
        config: CheckConfig,
        *,
        transport: Transport,
        tls: ContextProvider | None = None,
        on_result: ResultSink | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache: ResultCache | None = None,
        pages: PageSource | None = None,
        state: CrawlState | None = None,
    ) -> None:
        """``pages`` fetches and parses (default: here, with an HttpChecker over ``transport``); ``state``
        holds the links and referrers (default: in memory, see :mod:`linkdoctor.engine.state`)."""
        self.config = config
        self.progress = Progress(started=clock())
        self._clock = clock
        self._on_result = on_result
        self._cache = cache
        self._limiter = HostLimiter(
            config.max_per_host, config.host_interval, clock=clock, limits=config.host_limits
        )
        self._checker = HttpChecker(transport, config, limiter=self._limiter, tls=tls, clock=clock)
        # A page's links past --max-links-per-page are counted by the parser, never materialised.
        self._parser = ParserProcess(max_links=config.max_links_per_page) if pages is None else None
        self._pages = pages or ParsingPages(
            self._checker,
            self._parser or ParserProcess(max_links=config.max_links_per_page),
            fetch_slots=max(1, config.max_concurrency),
        )
        self._state: CrawlState = MemoryState(keep_all=config.all_referrers) if state is None else state
        self._queue = self._state.queue()  # the URLs of resources to check
        self._scope = Scope(patterns=config.scope)
        self._robots = RobotsRules(self._pages, config.user_agent, self._robots_sitemap)
        self._resolve = Resolver()
        self._texts: dict[str, str] = {}
        self._anchor_sets: dict[frozenset[str], frozenset[str]] = {}
        self._reasons: dict[str, str] = {}
        self._inputs = Inputs()
        self._page_budget = PageBudget(config.max_pages)
        self.warnings: list[str] = []
        self._checks = 0
        self._traps = TrapGuard(trap_limits(config), clock=clock)  # what is left out is counted there
        self.soft404 = detector_for(config, self._pages, self._robots.allow, self._traps)
        self._verdicts = Verdicts(self._state, config.check_fragments, self._on_disk)

    @property
    def requests(self) -> int:
        return self._checker.requests

    @property
    def checks(self) -> int:
        """Resources checked so far (what ``CheckConfig.max_checks`` counts)."""
        return self._checks

    # --- public -----------------------------------------------------------------------------------
    async def run(self, inputs: Inputs, *, resume: Frontier | None = None) -> Report:
        """Crawl and check; with ``resume`` (from :meth:`frontier`), only what was left is checked and the
        report covers the earlier run's links too."""
        self._inputs = inputs
        for site in inputs.sites:
            self._scope = self._scope.with_prefix(site.base)
        try:  # the parser process may start while the seeds are queued (ParserProcess.expect)
            await self._run(inputs, resume)
        finally:
            if self._parser is not None:
                self._parser.close()
        return self._report()

    async def _run(self, inputs: Inputs, resume: Frontier | None) -> None:
        """Queue the seeds, then check until the queue is done or a worker ends the run (its error raised)."""
        if resume is not None:
            self._restore(resume)
        for seed in inputs.seeds:
            self._scope = self._scope.with_prefix(directory_of(seed))
            self._add(seed, None, "seed", depth=0, seed=True)
        for url, source, line in inputs.links:
            self._add_raw(
                url, url, Referrer(source, line, "url list"), "url list", depth=1, allow_crawl=False
            )
        for _path, url in inputs.documents:
            self._add(url, None, "seed", depth=0, seed=True)
        count = max(1, self.config.max_concurrency)
        if self._parser is not None:  # plus workers whose pages wait for the parser process, slot-free
            count += PARSE_BACKLOG_FACTOR * count
        workers = [asyncio.create_task(self._worker()) for _ in range(count)]
        joined = asyncio.ensure_future(self._queue.join())
        try:  # a worker ends only on FetchAborted, and that ends the run
            done, _ = await asyncio.wait([joined, *workers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (joined, *workers):
                task.cancel()
            await asyncio.gather(joined, *workers, return_exceptions=True)
        for task in done:
            if task is not joined:
                task.result()

    def finish_started(self) -> None:
        """Start no more checks, as when ``max_checks`` is reached now: the checks begun finish (their
        redirects, retries, robots.txt and soft-404 probes included), the others stay pending, and
        :meth:`frontier` resumes from them. A monitored scan's turn ends this way."""
        self.config = replace(self.config, max_checks=self._checks)

    def stop(self) -> None:
        """Start no more checks and send no more requests: the queue drains without fetching, a check whose
        request has not gone out yet stays pending (it waited for a slot of its host, for a retry, or for
        its next redirect), and the crawl ends once the requests on the wire are answered. :meth:`frontier`
        and the report say what was done."""
        self.finish_started()
        self._limiter.close()

    # --- collecting links ------------------------------------------------------------------------
    def _add_raw(
        self,
        base: str,
        raw: str,
        referrer: Referrer | None,
        element: str,
        *,
        depth: int,
        allow_crawl: bool = True,
    ) -> None:
        (url,) = self._resolve_all(base, (raw,))
        self._add_resolved(raw, url, referrer, element if allow_crawl else "url list", depth=depth)

    def _resolve_all(self, base: str, raws: Sequence[str]) -> tuple[str | InvalidURL, ...]:
        """``raws`` (one document's links) resolved against ``base``; in a local folder, a path from the
        root starts at the folder's root."""
        site = self._inputs.site_for(base) if self._inputs.sites else None
        if site is not None and site.base.startswith("file:"):
            raws = [
                site.root_relative(r) if r.startswith("/") and not r.startswith("//") else r for r in raws
            ]
        return self._resolve.page(base, raws)

    def _add_resolved(
        self,
        raw: str,
        url: str | InvalidURL,
        referrer: Referrer | None,
        element: str,
        *,
        depth: int,
        repeat: bool = False,
    ) -> None:
        if not isinstance(url, InvalidURL):
            self._add(url, referrer, element, depth=depth, repeat=repeat)
        elif not repeat:
            # Kept under the link as written (its percent-encoded form may be another, valid link's URL),
            # and named percent-encoded.
            self._preset(raw, referrer, invalid_result(shown_link(raw), url.reason))

    def _add(
        self,
        url: str,
        referrer: Referrer | None,
        element: str,
        *,
        depth: int,
        seed: bool = False,
        repeat: bool = False,
    ) -> None:
        """Add ``url``'s link found at ``referrer`` by ``element``. A ``repeat`` (the page named it on that
        line with that text before, by another element) adds no second referrer to a known link, only what
        the element may change; a link not taken at first (a trap guard refuses a page, not a picture)
        is added with the referrer."""
        if self.config.remap and (remapped := remap_url(url, self.config.remap)) != url:
            url = remapped  # the original's referrers are reported on the rewritten URL
            if seed:
                self._scope = self._scope.with_prefix(directory_of(url))
        if referrer is None or repeat:
            seen = self._seen_again(url, element, depth, None)
        else:
            seen = self._seen_again(url, element, depth, referrer.url, referrer.line, referrer.text)
        if not seen:
            self._add_new(url, referrer, element, depth=depth, seed=seed)

    def _add_new(
        self, url: str, referrer: Referrer | None, element: str, *, depth: int, seed: bool = False
    ) -> None:
        """Add ``url``'s link, not seen before (and already remapped)."""
        preset = None if seed else excluded_result(url, self.config)
        if preset is None and referrer is not None:  # never a web page's file: link on this disk
            preset = file_on_web_result(url, referrer.url)
        if preset is not None:
            self._preset(url, referrer, preset)
            return
        target, fragment = split_fragment(url)
        resource = self._state.resource(target)
        if resource is None:
            crawl = self._should_crawl(target, element, depth)
            if not self._traps.admit(target, depth=depth, crawl=crawl, seed=seed):
                return  # a trap, a cap or the URL budget: counted by the guard, reported as left out
            resource = self._state.add_resource(_Resource(target, depth, crawl, scope_seed=seed))
        else:
            self._upgrade(resource, element, depth)
        link = self._state.add_link(_Link(url, fragment, resource, referrer or []))
        self.progress.links += 1
        if resource.done:
            if fragment and resource.anchors is None and self._needs_anchor_fetch(resource):
                self._enqueue(resource, refetch=True)
            else:
                self._emit(link)
        elif not resource.queued:
            self._enqueue(resource)

    def _seen_again(
        self, url: str, element: str, depth: int, page: str | None, line: int | None = None, text: str = ""
    ) -> bool:
        """Whether ``url``'s link is known; if so it takes the referrer ``(page, line, text)`` (none without
        a ``page``), and its resource the shallower depth. The common case (most links a page holds were
        seen before), so kept short."""
        state = self._state
        link = state.link(url) if page is None else state.refer_known(url, page, line, text)
        if link is None:
            return False
        known = link.resource
        # Only a shallower depth, or an element that is followed (an <img> never is), can change it.
        if known is not None and (depth < known.depth or (element in _FOLLOW and not known.crawl_or_queued)):
            self._upgrade(known, element, depth)
        return True

    def _preset(self, url: str, referrer: Referrer | None, result: CheckResult) -> None:
        link = self._state.link(url)
        if link is None:
            link = self._state.add_link(_Link(url, "", None, referrer or [], result))
            self.progress.links += 1
            self._emit(link)
        elif referrer:
            self._state.refer(link, referrer)

    def _should_crawl(self, url: str, element: str, depth: int) -> bool:
        cfg = self.config
        if element not in _FOLLOW:
            return False
        if depth > 0 and not cfg.recursive:
            return False
        if cfg.depth is not None and depth > cfg.depth:
            return False
        return self._scope.contains(url)

    def _upgrade(self, resource: _Resource, element: str, depth: int) -> None:
        if depth < resource.depth:
            resource.depth = depth
        if (
            not resource.crawl
            and not resource.queued
            and self._should_crawl(resource.url, element, resource.depth)
        ):
            resource.crawl = True

    def _needs_anchor_fetch(self, resource: _Resource) -> bool:
        result = resource.result
        return (
            self.config.check_fragments
            and not resource.fetched_body
            and result is not None
            and result.category in (Category.OK, Category.REDIRECTED)
        )

    def _enqueue(self, resource: _Resource, *, refetch: bool = False) -> None:
        resource.queued = True
        if refetch:
            resource.done = False
        self.progress.queued += 1
        if resource.crawl and not refetch and self._parser is not None and not self._on_disk(resource.url):
            self._parser.expect()  # a web page to parse is coming (a file's is parsed here): start it ahead
        self._queue.put_nowait(resource.url)

    # --- checking ----------------------------------------------------------------------------------
    async def _worker(self) -> None:
        state = self._state
        while True:
            resource = state.resource(await self._queue.get())
            assert resource is not None  # queued once added
            state.hold(resource)
            try:
                await self._process(resource)
            except FetchAborted:
                raise
            except SlotsClosed:  # stopped (stop()) before its check was done: it stays pending, not
                self._checks -= 1  # counted (a budget is charged with the checks made, and it is made later)
            except Exception as exc:  # a bug must not hang the run: record it on the resource
                resource.result = CheckResult(
                    resource.url,
                    Category.UNVERIFIED,
                    error=ErrorKind.OTHER,
                    error_message=f"internal error: {exc!r}",
                )
                self._finish(resource)
            finally:
                state.release(resource)
                state.flush()
                self._queue.task_done()

    async def _process(self, resource: _Resource) -> None:
        if self.config.max_checks is not None and self._checks >= self.config.max_checks:
            return  # stays undone: it is part of the frontier
        if self._traps.out_of_time():
            self._traps.not_checked(resource.url)
            return  # stays undone, counted as left out by --max-time
        self._checks += 1
        if resource.result is not None:
            # A refetch to read anchors of an already checked resource.
            page = await self._fetch(resource, want_body=True)
            self._take_body(resource, page, extract_links=False)
            self._finish(resource)
            return
        if resource.crawl and self.config.respect_robots and not await self._robots.allow(resource.url):
            resource.result = CheckResult(
                resource.url,
                Category.EXCLUDED,
                error=ErrorKind.ROBOTS,
                diagnosis=codes.make("robots.disallowed"),
            )
            self._finish(resource)
            return
        if resource.crawl and self._traps.sitemap_not_read(resource.url):
            resource.crawl = False  # --max-sitemap-urls taken: checked, not read (counted as left out)
        # A slot of --max-pages, kept only if this turns out to be a page (else given back: page_budget.py).
        crawl = resource.crawl and await self._page_budget.reserve()
        if resource.crawl and not crawl:
            resource.crawl = False
            self._traps.page_not_crawled(resource.url)  # counted as crawl.page-budget
            self._warn_once(
                f"--max-pages {self.config.max_pages} reached: further pages are checked, not crawled"
            )
        kept = False
        try:
            want_body = crawl or (
                self.config.check_fragments and any(link.fragment for link in resource.links)
            )
            fetched = await self._fetch(resource, want_body=want_body)
            if self.soft404 is not None:  # one probe per host; compares only pages fetched anyway
                fetched = await self.soft404.review(resource.url, fetched)
            pages_before = self.progress.pages  # from here on, no await: only this page can count
            self._take_page(resource, fetched, crawl=crawl)
            kept = self.progress.pages > pages_before
        finally:
            if crawl:
                self._page_budget.settle(kept=kept)

    def _take_page(self, resource: _Resource, page: Page, *, crawl: bool) -> None:
        resource.result = self._shared(page.result)
        if crawl and resource.scope_seed and page.result.redirects:
            # A start URL that redirects (http→https, www) moves the scope along with it.
            self._scope = self._scope.with_prefix(directory_of(page.result.final_url))
        final_url = page.result.final_url
        if crawl and page.result.redirects and final_url != resource.url:
            self._adopt_redirect_target(resource, page, final_url)
        else:
            self._take_body(resource, page, extract_links=crawl)
        self._finish(resource)

    def _adopt_redirect_target(self, resource: _Resource, page: Page, final_url: str) -> None:
        """A crawled page that redirects is parsed under its final URL (once), so referrers name the page
        that really holds the links and the target is not fetched a second time."""
        if self._state.resource(final_url) is not None or not self._scope.contains(final_url):
            return
        target = self._state.add_resource(_Resource(final_url, resource.depth, crawl=True))
        target.fetched_body = True
        # The target's own answer, as a direct fetch would judge it: not redirected (else the verdict
        # would hang on whether the target or a link to it was fetched first).
        category = Category.OK if page.result.category is Category.REDIRECTED else page.result.category
        target.result = replace(
            page.result, url=final_url, redirects=(), final_url=final_url, category=category
        )
        self._take_body(target, page, extract_links=True)
        target.done = True

    async def _fetch(self, resource: _Resource, *, want_body: bool) -> Page:
        if want_body:
            resource.fetched_body = True
        site = self._inputs.site_for(resource.url) if self._inputs.sites else None
        if site is not None or resource.url.startswith("file:"):
            fetched = check_file(resource.url, site, want_body=want_body, max_body=self.config.max_body)
            return read_page(fetched, resource.url)
        if self._cache is None:
            return await self._pages.page(resource.url, want_body=want_body)
        # A page to crawl is served from the cache only if it had no body worth parsing (a PDF, an image).
        cached = self._cache.get(resource.url, leaf_only=want_body)
        if cached is not None:
            return Page(cached)
        page = await self._pages.page(resource.url, want_body=want_body)
        self._cache.put(page.result, leaf=want_body and not page.body_read)
        return page

    def _take_body(self, resource: _Resource, page: Page, *, extract_links: bool) -> None:
        """Take in what the page's body held (parsed by :func:`~linkdoctor.engine.fetching.read_page`; an error
        page's body is only read for its fingerprint, never crawled)."""
        base = page.result.final_url or resource.url
        self._traps.saw(page.result)  # a body cut at --max-body is counted as left out
        sitemap = page.sitemap
        if sitemap is not None:
            self.progress.pages += 1
            # the distinct locs within --max-links-per-page and --max-sitemap-urls; the rest are counted
            locs = self._traps.sitemap_locs(base, sitemap.found, locs=sitemap.locs, index=sitemap.is_index)
            found = self._resolve_all(base, locs)
            self._state.prefetch(found)
            element = "seed" if not sitemap.is_index else "sitemap"
            for loc, url in zip(locs, found, strict=True):
                self._add_resolved(loc, url, Referrer(base, None, "sitemap"), element, depth=resource.depth)
            return
        extraction = page.extraction
        if extraction is None:
            return
        shared = self._anchor_sets
        if len(shared) > ANCHORS_MEMO_LIMIT:
            shared.clear()
        resource.anchors = shared.setdefault(extraction.anchors, extraction.anchors)
        if not extract_links:
            return
        self.progress.pages += 1
        resolved = page.resolved
        base = links_base(base, extraction.base_href)
        depth = resource.depth + 1
        follow = not extraction.nofollow
        # Link texts repeat across a site ("Home", "Next"); one copy each keeps big crawls smaller.
        texts = self._texts
        if len(texts) > TEXTS_MEMO_LIMIT:
            texts.clear()
        rows = extraction.rows
        page_url = resource.url
        # The same link on one line with one text is one referrer, whatever its elements (an <img>'s src
        # and srcset): the key in_page_order gives referrers. Another element only may change its crawl.
        seen: dict[tuple[object, ...], str] = {}
        keep = self._traps.links_to_read(page_url, len(rows) + extraction.dropped)  # --max-links-per-page
        if resolved is None:  # parsed here, not by the parser process
            resolved = self._resolve_all(base, [url for url, _, _, _ in rows[:keep]])
        self._state.prefetch(resolved[:keep])
        direct = not self.config.remap  # a URL to remap takes _add's way
        refer_known, add_new = self._state.refer_known, self._add_new
        for (url, line, text, element), target in zip(rows[:keep], resolved[:keep], strict=True):
            kind = element if follow else "nofollow"
            key = (target, line, text)
            first = seen.get(key)
            if first is not None:
                if first != kind:  # no second referrer: only what this element makes of the link
                    referrer = Referrer(page_url, line, texts.setdefault(text, text))
                    self._add_resolved(url, target, referrer, kind, depth=depth, repeat=True)
                continue
            seen[key] = kind
            text = texts.setdefault(text, text)
            if not direct or type(target) is not str:
                self._add_resolved(url, target, Referrer(page_url, line, text), kind, depth=depth)
                continue
            # What _seen_again does, inlined: this loop runs once per link a page holds
            link = refer_known(target, page_url, line, text)
            if link is None:
                add_new(target, Referrer(page_url, line, text), kind, depth=depth)
            elif (known := link.resource) is not None and (
                depth < known.depth or (kind in _FOLLOW and not known.crawl_or_queued)
            ):
                self._upgrade(known, kind, depth)

    def _shared(self, result: CheckResult) -> CheckResult:
        """``result`` with its reason phrase shared with earlier results ("OK" once, not once per URL)."""
        reasons = self._reasons
        if len(reasons) > REASONS_MEMO_LIMIT:
            reasons.clear()
        reason = reasons.setdefault(result.reason, result.reason)
        return result if reason is result.reason else replace(result, reason=reason)

    def _finish(self, resource: _Resource) -> None:
        resource.done = True
        resource.queued = False
        self.progress.checked += 1
        links = resource.links
        if (
            resource.anchors is None
            and any(link.fragment for link in links)
            and self._needs_anchor_fetch(resource)
        ):
            self._enqueue(resource, refetch=True)
            return
        waiting = [link for link in links if not link.emitted]
        if self._on_result is not None and waiting:  # streamed with their referrers, read in one go
            self._state.prefetch_referrers(waiting)
        for link in waiting:
            self._emit(link)

    def _emit(self, link: _Link) -> None:
        link.emitted = True
        category = self._verdicts.category(link)
        self.progress.done += 1
        if category is Category.BROKEN:
            self.progress.broken += 1
        if category in (Category.BROKEN, Category.UNVERIFIED):
            self._count_problem(link)
        if self._on_result is not None:  # else the result itself is built once, for the report
            self._on_result(self._verdicts.result(link))
        # Its verdict is known: an ok link keeps only the count of its referrers from now on.
        self._state.settle(link, keep=category is not Category.OK)

    def _count_problem(self, link: _Link) -> None:
        """One more problem for the progress bar when ``link`` is the first to its broken document (its
        fragment links fold into that one problem) or names a missing anchor: as ``linkdoctor.problems``
        groups them, so the bar ends on the summary's problem count."""
        key = (
            link.url if self._verdicts.fragment_missing(link) or link.resource is None else link.resource.url
        )
        self._state.note_problem(key)  # counted by the state: a set of every key would grow with the site
        self.progress.problems = self._state.problem_count()

    def _on_disk(self, url: str) -> bool:
        """Whether ``url`` is a file of a checked folder."""
        return url.startswith("file:") or (
            bool(self._inputs.sites) and self._inputs.site_for(url) is not None
        )

    def _robots_sitemap(self, site: str, sitemap: str) -> None:
        self._add_raw(
            site + "/", sitemap, Referrer(site + "/robots.txt", None, "Sitemap:"), "sitemap", depth=0
        )

    # --- budget and resume -------------------------------------------------------------------------
    def pending(self) -> list[str]:
        """The URLs not checked yet: :meth:`frontier`'s pending resources, without its links."""
        return [resource.url for resource in self._state.resources() if not resource.done]

    def frontier(self) -> Frontier:
        """The state to resume from: pending resources are those not checked yet, left over by ``max_checks``
        or, taken while the crawl runs (a checkpoint), still queued or in flight."""
        resources = tuple(
            FrontierResource(r.url, r.depth, r.crawl, r.scope_seed, not r.done, r.fetched_body,
                             r.result, None if r.anchors is None else tuple(sorted(r.anchors)))
            for r in self._state.resources()
        )  # fmt: skip
        links = tuple(
            FrontierLink(link.url, link.fragment, None if link.resource is None else link.resource.url,
                         referrers, link.preset, count - len(referrers))
            for link in self._state.links()
            for referrers, count in (self._state.referrers_and_count(link),)
        )  # fmt: skip
        return Frontier(resources, links, self._scope.prefixes, self._page_budget.used)

    def _restore(self, frontier: Frontier) -> None:
        for prefix in frontier.scope_prefixes:
            self._scope = self._scope.with_prefix(prefix)
        self._page_budget = PageBudget(self.config.max_pages, frontier.pages_started)
        for saved in frontier.resources:
            anchors = None if saved.anchors is None else frozenset(saved.anchors)
            self._state.add_resource(_Resource(
                saved.url, saved.depth, saved.crawl, saved.scope_seed, done=not saved.pending,
                fetched_body=saved.fetched_body, result=saved.result, anchors=anchors,
            ))  # fmt: skip
        for found in frontier.links:
            resource = None if found.resource is None else self._state.resource(found.resource)
            emitted = resource is None or resource.done  # reported by the earlier run
            link = self._state.add_link(
                _Link(found.url, found.fragment, resource, list(found.referrers), found.preset, emitted,
                      found.counted)
            )  # fmt: skip
            self.progress.links += 1
            if emitted:  # settled by its verdict again: an ok link goes on with only a count
                category = self._verdicts.category(link)
                self.progress.done += 1
                self.progress.broken += category is Category.BROKEN
                if category in (Category.BROKEN, Category.UNVERIFIED):
                    self._count_problem(link)
                self._state.settle(link, keep=category is not Category.OK)
        for saved in frontier.resources:
            if saved.pending:
                self._enqueue(self._resource(saved.url))

    def _resource(self, url: str) -> _Resource:
        resource = self._state.resource(url)
        assert resource is not None, url
        return resource

    # --- the end -----------------------------------------------------------------------------------
    def _warn_once(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _report(self) -> Report:
        # Built as they are read, from the state: a report streams them, never holding them all at once.
        self._state.flush(force=True)
        self.progress.problems = self._state.problem_count()
        links = self._state.emitted_links()
        verdicts = self._verdicts
        results = ResultView(
            links, verdicts.result, verdicts.category, verdicts.located, verdicts.alike,
            outside_memory=self._state.outside_memory,
        )  # fmt: skip
        if self.config.insecure:
            self._warn_once(
                "TLS certificate verification was DISABLED (--insecure): results may hide attacks"
            )
        summary = Summary.from_categories(
            results.categories(),
            pages_crawled=self.progress.pages,
            elapsed_s=round(self._clock() - self.progress.started, 3),
            warnings=tuple(self.warnings),
            left_out=self._traps.left_out(),
        )
        return Report(summary, results)
