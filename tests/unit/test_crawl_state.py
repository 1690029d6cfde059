"""The crawl state (engine/state.py): what it keeps of each link's referrers, alone and under a crawl.

An ok link keeps only the count of its referrers; a broken, redirected, unverified or excluded link keeps
every one of them; ``all_referrers`` keeps them all for every link."""

from __future__ import annotations

import asyncio
import io
import pickle
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.support.memory_site import MemoryTransport, Reply, redirect

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.frontier import Frontier
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.results import ResultView
from linkdoctor.engine.state import CrawlState, LinkEntry, MemoryState, ResourceEntry
from linkdoctor.engine.verdicts import Verdicts
from linkdoctor.models import Category, CheckResult, Referrer, Report
from linkdoctor.report.json_v2 import write_json_v2

SITE = "http://site.test"
PAGES = 30


def test_a_state_finds_what_was_added() -> None:
    state: CrawlState = MemoryState()
    resource = state.add_resource(ResourceEntry(f"{SITE}/a", 1, crawl=True))
    link = state.add_link(LinkEntry(f"{SITE}/a#x", "x", resource))

    assert state.resource(f"{SITE}/a") is resource and state.link(f"{SITE}/a#x") is link
    assert list(resource.links) == [link]
    assert list(state.resources()) == [resource] and list(state.links()) == [link]
    assert state.resource(f"{SITE}/b") is None and state.link(f"{SITE}/b") is None


def test_a_known_link_takes_a_referrer_in_one_call_and_an_unknown_one_is_left_alone() -> None:
    state: CrawlState = MemoryState()
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))

    assert state.refer_known(f"{SITE}/a", "p1", 3, "A") is link
    assert state.refer_known(f"{SITE}/b", "p1", 4, "B") is None and state.link(f"{SITE}/b") is None
    assert state.referrers(link) == (Referrer("p1", 3, "A"),)
    state.settle(link, keep=False)  # an ok link: from now on its referrers are only counted
    assert state.refer_known(f"{SITE}/a", "p2", 1, "A") is link
    assert (state.referrers(link), state.referrer_count(link)) == ((), 2)


def test_a_settled_ok_link_keeps_only_the_count_of_unique_referrers() -> None:
    state = MemoryState()
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))
    for referrer in (Referrer("p2", 1, "A"), Referrer("p1", 3, "A"), Referrer("p2", 1, "A")):
        state.refer(link, referrer)

    assert state.referrers(link) == (Referrer("p1", 3, "A"), Referrer("p2", 1, "A"))
    state.settle(link, keep=False)
    state.refer(link, Referrer("p3", 1, "A"))

    assert state.referrers(link) == () and state.referrer_count(link) == 3


def test_a_link_settled_before_any_read_counts_its_referrers_without_repeats() -> None:
    state = MemoryState()
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))
    for referrer in (
        Referrer("p2", 1, "A"),
        Referrer("p1", 3, "A"),
        Referrer("p2", 1, "A"),
        Referrer("p2", None),
    ):
        state.refer(link, referrer)
    state.settle(link, keep=False)

    assert state.referrers(link) == () and state.referrer_count(link) == 3


def test_a_plain_ok_resources_category_is_read_without_building_its_result() -> None:
    url = f"{SITE}/a"
    resource = ResourceEntry(
        url, 1, crawl=True, result=CheckResult(url, Category.OK, 200, "OK", 200, url, (), 1.0)
    )
    ResourceEntry._recent = (None, None)
    assert resource.category is Category.OK
    assert ResourceEntry._recent == (None, None)  # nothing was built
    broken = ResourceEntry(url, 1, crawl=True, result=CheckResult(url, Category.BROKEN, 404))
    assert broken.category is Category.BROKEN
    assert ResourceEntry(url, 1, crawl=True).category is None


def test_a_links_result_equals_its_resources_result_for_the_link() -> None:
    """``result_for`` builds a plain ok link's result at once; any other is ``for_link`` of the result."""
    url = f"{SITE}/a"
    referrers = (Referrer("p1", 3, "A"),)
    for result in (
        CheckResult(url, Category.OK, 200, "OK", 200, url, (), 1.5),  # kept as its time
        CheckResult(url, Category.BROKEN, 404, "Not Found", 404, url, (), 2.0),
    ):
        resource = ResourceEntry(url, 1, crawl=True, result=result)
        assert resource.result_for(f"{url}#x", referrers, None) == result.for_link(
            f"{url}#x", referrers, None
        )
        assert resource.result_for(url, (), 7) == result.for_link(url, (), 7)
    assert ResourceEntry(url, 1, crawl=True).result_for(url, (), None) is None


def test_a_settled_problem_link_keeps_every_referrer() -> None:
    state = MemoryState()
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))
    state.refer(link, Referrer("p2", 1, "A"))
    state.settle(link, keep=True)
    state.refer(link, Referrer("p1", 1, "A"))

    assert state.referrers(link) == (Referrer("p1", 1, "A"), Referrer("p2", 1, "A"))
    assert state.referrer_count(link) == 2


def test_referrers_read_in_page_order_are_kept_so_and_more_can_come() -> None:
    state = MemoryState()
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))
    for referrer in (Referrer("p3", 1, "A"), Referrer("p1", 2, "A"), Referrer("p3", 1, "A")):
        state.refer(link, referrer)
    first = state.referrers(link)

    assert first == (Referrer("p1", 2, "A"), Referrer("p3", 1, "A"))
    assert state.referrers(link) is first  # read again: not sorted again
    state.refer(link, Referrer("p2", 1, "A"))
    state.refer(link, Referrer("p1", 2, "A"))
    assert state.referrers_and_count(link) == (
        (Referrer("p1", 2, "A"), Referrer("p2", 1, "A"), Referrer("p3", 1, "A")),
        3,
    )


def test_keep_all_keeps_the_referrers_of_ok_links_too() -> None:
    state = MemoryState(keep_all=True)
    link = state.add_link(LinkEntry(f"{SITE}/a", "", None))
    state.refer(link, Referrer("p1", 1, "A"))
    state.settle(link, keep=False)
    state.refer(link, Referrer("p2", 1, "A"))

    assert state.referrers(link) == (Referrer("p1", 1, "A"), Referrer("p2", 1, "A"))


def _page(n: int) -> bytes:
    # Every page: a navigation link to the home page, twice on one line with one text (one referrer), a
    # missing page and a redirect, then the next page.
    links = ["/p0.html", "/p0.html", "/missing.html", "/old", f"/p{(n + 1) % PAGES}.html"]
    return ("<html><body>" + "".join(f'<a href="{u}">x</a>' for u in links) + "</body></html>").encode()


def _reply(url: str) -> Reply | None:
    """30 pages, each linking to the home page, a missing page, a redirect and the next page."""
    path = url.removeprefix(SITE)
    if path == "/old":
        return redirect(f"{SITE}/p1.html")
    if path.startswith("/p") and path.endswith(".html"):
        return Reply(200, _page(int(path[2:-5])))
    return None


async def _results(config: CheckConfig) -> dict[str, CheckResult]:
    report = await Crawler(config, transport=MemoryTransport(_reply)).run(collect_inputs([f"{SITE}/p0.html"]))
    return {result.url: result for result in report.results}


async def test_ok_links_keep_counts_and_problem_links_keep_every_referrer() -> None:
    results = await _results(CheckConfig(retries=0))
    pages = [f"{SITE}/p{n}.html" for n in range(PAGES)]

    home = results[f"{SITE}/p0.html"]
    assert home.category is Category.OK
    assert (home.referrers, home.referrer_count, home.referrers_found) == ((), PAGES, PAGES)
    missing = results[f"{SITE}/missing.html"]
    assert missing.category is Category.BROKEN and missing.referrer_count is None
    assert [r.url for r in missing.referrers] == sorted(pages)
    moved = results[f"{SITE}/old"]
    assert moved.category is Category.REDIRECTED and len(moved.referrers) == PAGES


async def test_all_referrers_lists_them_for_ok_links_with_the_same_count() -> None:
    counted = await _results(CheckConfig(retries=0))
    listed = await _results(CheckConfig(retries=0, all_referrers=True))

    for url, result in listed.items():
        assert result.referrer_count is None
        assert result.referrers_found == counted[url].referrers_found, url
        if result.category is not Category.OK:
            assert result.referrers == counted[url].referrers, url


def test_a_frontier_keeps_the_count_of_an_ok_link() -> None:
    frontier = Frontier.from_json(
        {"version": 1, "scope_prefixes": [], "pages_started": 0, "resources": [],
         "links": [[f"{SITE}/a", "", None, [], None, 7], [f"{SITE}/b", "", None, [["p", 1, "x"]], None]]}
    )  # fmt: skip

    assert [link.counted for link in frontier.links] == [7, 0]
    assert Frontier.from_json(frontier.to_json()) == frontier


def test_a_result_view_builds_each_result_when_read_and_equals_the_tuple_of_them() -> None:
    built: list[str] = []

    def build(url: str) -> CheckResult:
        built.append(url)
        return CheckResult(url, Category.OK)

    view = ResultView(["a", "b"], build)
    assert built == []
    expected = (CheckResult("a", Category.OK), CheckResult("b", Category.OK))

    assert view == expected and expected == view and list(view) == list(expected)
    assert (len(view), view[1], view[:1]) == (2, expected[1], expected[:1])
    assert pickle.loads(pickle.dumps(view)) == expected and type(pickle.loads(pickle.dumps(view))) is tuple
    assert hash(view) == hash(expected)


async def test_a_crawls_report_is_a_view_over_its_state() -> None:
    report = await Crawler(CheckConfig(retries=0), transport=MemoryTransport(_reply)).run(
        collect_inputs([f"{SITE}/p0.html"])
    )

    assert isinstance(report.results, ResultView)
    assert [r.url for r in report.results] == sorted(r.url for r in report.results)
    assert report.summary.total == len(report.results) == len(tuple(report.results))


def _anchored(url: str) -> Reply | None:
    """Three pages with an anchor each, linked plainly, by their anchor, by a missing anchor and through a
    redirect, and a missing page."""
    path = url.removeprefix(SITE)
    if path == "/old":
        return redirect(f"{SITE}/p1.html")
    if path in ("/p0.html", "/p1.html", "/p2.html"):
        links = ["/p0.html", "/p1.html#top", "/p2.html", "/p2.html#top", "/p2.html#nowhere", "/old", "/gone"]
        body = '<h1 id="top">x</h1>' + "".join(f'<a href="{u}">x</a>' for u in links)
        return Reply(200, body.encode())
    return None


async def test_the_json_report_writes_plain_links_without_building_their_results(monkeypatch: Any) -> None:
    built: list[str] = []
    result = Verdicts.result

    def counted(self: Verdicts, link: LinkEntry) -> CheckResult:
        built.append(link.url)
        return result(self, link)

    monkeypatch.setattr(Verdicts, "result", counted)
    report = await Crawler(CheckConfig(retries=0), transport=MemoryTransport(_anchored)).run(
        collect_inputs([f"{SITE}/p0.html"])
    )
    written = io.StringIO()
    write_json_v2(report, written)

    # The links to p0, p1 (and p1#top) and /old are alike: written from their resource's result, directly
    # or (/old redirects) through it. p2 has a missing anchor and /gone is missing: their links are built.
    assert set(built) == {
        f"{SITE}/p2.html",
        f"{SITE}/p2.html#top",
        f"{SITE}/p2.html#nowhere",
        f"{SITE}/gone",
    }
    built.clear()
    each = io.StringIO()
    write_json_v2(Report(report.summary, tuple(report.results)), each)
    assert written.getvalue() == each.getvalue()


async def test_a_link_counted_as_ok_in_one_piece_and_broken_in_the_next_keeps_its_count() -> None:
    # A monitored site's fragment check turned on between two pieces of a scan: the link settled ok in the
    # first piece kept only the count of its referrers; broken now, it says how many places link to it.
    pages = {
        "/": b'<a href="/a.html">a</a><a href="/p.html#nope">p</a>',
        "/a.html": b'<a href="/p.html#nope">p</a><a href="/b.html">b</a>',
        "/b.html": b"<p>b</p>",
        "/p.html": b'<h1 id="here">p</h1>',
    }

    def reply(url: str) -> Reply | None:
        body = pages.get(url.removeprefix(SITE))
        return None if body is None else Reply(200, body)

    inputs = collect_inputs([f"{SITE}/"])
    first = Crawler(
        CheckConfig(retries=0, check_fragments=False, max_checks=3), transport=MemoryTransport(reply)
    )
    await first.run(inputs)
    second = Crawler(CheckConfig(retries=0, check_fragments=True), transport=MemoryTransport(reply))
    report = await second.run(inputs, resume=first.frontier())
    (missing,) = [r for r in report.results if r.url == f"{SITE}/p.html#nope"]
    assert (missing.category, missing.referrers, missing.referrer_count) == (Category.BROKEN, (), 2)


async def test_a_crawl_resumed_in_pieces_keeps_the_same_referrers_and_counts() -> None:
    # The start page p1 is ok with no referrer when the first piece stops; p0 links to it later.
    seed = f"{SITE}/p1.html"
    full = {
        r.url: r
        for r in (
            await Crawler(CheckConfig(retries=0), transport=MemoryTransport(_reply)).run(
                collect_inputs([seed])
            )
        ).results
    }
    config = CheckConfig(retries=0, max_checks=1)
    frontier: Frontier | None = None
    for _piece in range(200):
        crawler = Crawler(config, transport=MemoryTransport(_reply))
        report = await crawler.run(collect_inputs([seed]), resume=frontier)
        frontier = Frontier.from_json(crawler.frontier().to_json())
        if frontier.pending == 0:
            break
    pieces = {result.url: result for result in report.results}

    assert {url: (r.referrers, r.referrers_found) for url, r in pieces.items()} == {
        url: (r.referrers, r.referrers_found) for url, r in full.items()
    }


def test_a_plain_ok_result_is_kept_as_its_time_and_read_back_equal() -> None:
    url = f"{SITE}/a"
    plain = CheckResult(url, Category.OK, 200, "OK", 200, url, (), 12.5)
    resource = ResourceEntry(url, 3, crawl=True, result=plain)

    assert resource.result == plain and resource.result is not plain  # rebuilt, not held
    assert resource.result is resource.result  # reads in a row build it once
    resource.result = replace(plain, elapsed_ms=3.0)
    assert resource.result == replace(plain, elapsed_ms=3.0)  # not the one built before
    assert (resource.depth, resource.crawl, resource.queued, resource.done) == (3, True, False, False)
    for other in (
        replace(plain, reason="Fine"),
        replace(plain, final_url=f"{SITE}/b"),
        replace(plain, url=f"{SITE}/b"),
        replace(plain, error_message="body truncated at 10 bytes"),
        replace(plain, category=Category.REDIRECTED),
        replace(plain, precise_status=None),
    ):
        resource.result = other
        assert resource.result is other  # anything else is kept as it is
    resource.result = None
    assert resource.result is None


def test_a_resources_flags_and_depth_change_one_at_a_time() -> None:
    resource = ResourceEntry(f"{SITE}/a", 7, crawl=False, scope_seed=True, fetched_body=True)
    resource.queued = True
    resource.depth = 2
    resource.crawl = True
    resource.scope_seed = False
    resource.done = True
    resource.queued = False

    assert (resource.depth, resource.crawl, resource.scope_seed, resource.queued, resource.done) == (
        2, True, False, False, True,
    )  # fmt: skip
    assert resource.fetched_body


def test_a_resource_behind_an_excluded_link_of_the_same_url_is_still_found_and_listed() -> None:
    state = MemoryState()
    url = f"{SITE}/a"
    first = state.add_resource(ResourceEntry(f"{SITE}/first", 0, crawl=True))
    excluded = state.add_link(LinkEntry(url, "", None, preset=CheckResult(url, Category.EXCLUDED)))
    resource = state.add_resource(ResourceEntry(url, 1, crawl=False))
    plain = state.add_link(LinkEntry(f"{SITE}/first", "", first))
    fragment = state.add_link(LinkEntry(f"{url}#x", "x", resource))

    assert state.link(url) is excluded and state.resource(url) is resource
    assert state.resource(f"{SITE}/first") is first and state.link(f"{SITE}/first") is plain
    assert list(state.resources()) == [first, resource]
    assert list(state.links()) == [plain, excluded, fragment] and len(state) == 3
    assert state.link(f"{SITE}/b") is None and state.resource(f"{url}#x") is None


def test_a_settled_unique_url_costs_a_few_hundred_bytes() -> None:
    # What a big crawl holds once per unique URL: the entries, the URL, a plain ok result, the index.
    count = 20_000
    urls = [f"{SITE}/section/page-{n}.html" for n in range(count)]
    state = MemoryState()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for url in urls:
            resource = state.add_resource(ResourceEntry(url, 12, crawl=True))  # a deep page
            link = state.add_link(LinkEntry(url, "", resource, Referrer(f"{SITE}/", 3, "Page")))
            resource.result = CheckResult(url, Category.OK, 200, "OK", 200, url, (), float(len(url)))
            resource.done = True
            state.settle(link, keep=False)
        per_url = (tracemalloc.get_traced_memory()[0] - before) / count
    finally:
        tracemalloc.stop()

    assert state.resource(urls[-1]) is not None and state.referrer_count(state.link(urls[-1])) == 1  # type: ignore[arg-type]
    assert per_url < 250, per_url  # about 205 B (entries 160, the time 24, the index); it was about 410 B


class _StoppingTransport(MemoryTransport):
    """Calls ``stop`` as it sends its fourth request: the crawl's other checks wait for the host's one slot
    then (counted by requests, not by time, so a busy machine gives the same run)."""

    stop: Callable[[], None] | None = None

    async def send(self, method: str, url: str, **kwargs: Any) -> Any:
        if len(self.sent) == 3 and self.stop is not None:
            self.stop()
        await asyncio.sleep(0)  # the waiting checks take their turn
        return await super().send(method, url, **kwargs)


async def test_a_stopped_crawl_counts_only_the_checks_it_made() -> None:
    # stop() while checks wait for the one slot of the host: they stay pending and are not counted, so a
    # budget charged with ``checks`` pays for each check once, when it is made.
    links = "".join(f'<a href="/p{n}.html">p</a>' for n in range(20))
    replies = {f"{SITE}/": Reply(200, links.encode())} | {
        f"{SITE}/p{n}.html": Reply(200, b"") for n in range(20)
    }
    transport = _StoppingTransport(replies)
    crawler = Crawler(
        CheckConfig(retries=0, max_per_host=1, soft_404=False, respect_robots=False), transport=transport
    )
    transport.stop = crawler.stop
    await crawler.run(collect_inputs([f"{SITE}/"]))
    made = {url for _, url in transport.sent}
    pending = [r.url for r in crawler.frontier().resources if r.pending]
    assert 1 < crawler.checks == len(made) < 21
    assert len(made) + len(pending) == 21 and not made & set(pending)
