"""The crawl's state in Redis (:mod:`linkdoctor.distributed.crawlstate`) gives the report the in-memory state
gives: every result, referrer and count, on a site with fragments, redirects, broken and excluded links,
while the coordinator writes back and forgets entries every few checks."""

from __future__ import annotations

import asyncio
import gc
import io
import signal
import sqlite3
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
import redis
from harness.redis import RedisServer
from redis.asyncio import Redis as AsyncRedis
from tests.support.memory_site import MemoryTransport, Reply, redirect

from linkdoctor import problems_on_disk, scratch
from linkdoctor.config import CheckConfig
from linkdoctor.distributed import crawlstate
from linkdoctor.distributed.crawlstate import RedisState, StateUnavailable, forget_state
from linkdoctor.distributed.statelists import ReferrerSpill
from linkdoctor.distributed.staterecords import StoredResource
from linkdoctor.engine.crawl import Crawler, ResultSink
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.interrupt import RunStopped
from linkdoctor.engine.state import CrawlState, LinkEntry
from linkdoctor.engine.transport import Answer
from linkdoctor.models import CheckResult, Referrer, Report, results_in
from linkdoctor.problems import PROBLEM_CATEGORIES, group_problems, problem_counts
from linkdoctor.problems_on_disk import StoredProblems
from linkdoctor.report.json_v2 import write_json_v2
from linkdoctor.scratch import StoredRows

SITE = "http://site.test"
PAGES = 120


def _page(n: int) -> bytes:
    links = [
        '<a href="/">Home</a>',
        '<a href="/about.html#team">Team</a>',
        '<a href="/about.html#gone">Old team</a>',
        f'<a href="/p/{(n + 1) % PAGES}.html">Next</a>',
        f'<a href="/p/{(n * 7) % PAGES}.html#top">Jump</a>',
        f'<a href="/p/{(n * 7) % PAGES}.html#nowhere">Nowhere</a>',
        f'<img src="/img/{n % 9}.png">',
        '<a href="/missing.html">Gone</a>',
        '<a href="/old">Moved</a>',
        '<a href="http://down.test/">Down</a>',
        '<a href="mailto:team@site.test">Mail</a>',
        '<a href="http://[broken/">Bad</a>',
        '<a href="/">Home</a>',  # the same link again, on another line
    ]
    if n % 10 == 0:
        links.append(f'<a href="/p/{n}.html?session=1">Self</a>')
    body = "\n".join(links)
    return f'<html><body><h1 id="top">{n}</h1>\n{body}\n</body></html>'.encode()


def _replies(url: str) -> Reply | None:
    path = url.removeprefix(SITE)
    if path == "/":
        return Reply(
            200, b'<html><body><a href="/p/0.html">start</a><a href="/about.html">about</a></body></html>'
        )
    if path == "/about.html":
        return Reply(
            200, b'<html><body><h2 id="team">Team</h2><a href="/p/5.html#top">five</a></body></html>'
        )
    if path == "/old":
        return redirect("/about.html")
    if path.startswith("/img/"):
        return Reply(200, b"\x89PNG", (("content-type", "image/png"),))
    if path.startswith("/p/") and path.endswith(".html"):
        number = path.removeprefix("/p/").removesuffix(".html")
        if number.isdigit():
            return Reply(200, _page(int(number)))
    return None


CONFIG = CheckConfig(retries=0, check_fragments=True)


async def _crawl(
    state: CrawlState | None, config: CheckConfig = CONFIG, on_result: ResultSink | None = None
) -> Report:
    transport = MemoryTransport(_replies, down=frozenset({"down.test"}))
    crawler = Crawler(
        config, transport=transport, state=state, on_result=on_result, clock=lambda: 0.0
    )  # no elapsed time
    return await crawler.run(collect_inputs([f"{SITE}/"]))


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server.url, socket_timeout=2, encoding_errors="surrogatepass")
    yield connection
    connection.close()


def _same(ours: Report, theirs: Report) -> None:
    assert tuple(ours.results) == tuple(theirs.results)
    assert replace(ours.summary, elapsed_s=0) == replace(theirs.summary, elapsed_s=0)


@pytest.mark.parametrize(("flush_every", "queue_window"), [(1, 2), (7, 5), (10_000, 4096)])
@pytest.mark.parametrize("keep_all", [False, True])
async def test_the_report_from_redis_is_the_report_from_memory(
    client: redis.Redis, flush_every: int, queue_window: int, keep_all: bool
) -> None:
    config = replace(CONFIG, all_referrers=keep_all)
    expected = await _crawl(None, config)
    state = RedisState(
        client,
        f"t:{flush_every}:{keep_all}",
        keep_all=keep_all,
        flush_every=flush_every,
        queue_window=queue_window,
    )
    found = await _crawl(state, config)
    _same(found, expected)
    assert len(found.results) > PAGES  # the site's links, not a few
    counted = any(r.referrer_count and r.referrer_count > 100 for r in found.results)
    assert counted is not keep_all  # an ok link only counts its referrers, unless all are kept
    assert any(len(r.referrers) > 100 for r in found.results)  # kept, broken links


@pytest.mark.parametrize("flush_every", [1, 7, 10_000])
async def test_the_progress_counts_problems_in_redis_and_ends_on_the_summary_count(
    client: redis.Redis, flush_every: int
) -> None:
    """The progress display's problem count: the keys it counts by are kept in Redis, not one per problem in
    the coordinator; the count lags by at most a write-back, never counts one twice, and ends on the
    summary's count, as in memory."""
    state = RedisState(client, f"t:problems:{flush_every}", flush_every=flush_every, queue_window=4)
    seen: list[int] = []
    transport = MemoryTransport(_replies, down=frozenset({"down.test"}))
    crawler = Crawler(
        CONFIG,
        transport=transport,
        state=state,
        on_result=lambda result: seen.append(crawler.progress.problems),
        clock=lambda: 0.0,
    )
    report = await crawler.run(collect_inputs([f"{SITE}/"]))
    in_memory = Crawler(CONFIG, transport=MemoryTransport(_replies, down=frozenset({"down.test"})))
    await in_memory.run(collect_inputs([f"{SITE}/"]))

    problems = problem_counts(report.results).problems
    assert problems > 3
    assert crawler.progress.problems == in_memory.progress.problems == problems
    assert client.scard(f"t:problems:{flush_every}:p") == problems  # the keys are in Redis
    assert seen == sorted(seen) and max(seen) <= problems  # never counted twice


def _calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats").get(f"cmdstat_{command}")
    return 0 if stats is None else int(stats["calls"])


@pytest.mark.parametrize("flush_every", [1, 7, 10_000])
async def test_streamed_results_are_those_from_memory_without_a_write_each(
    client: redis.Redis, flush_every: int
) -> None:
    """A streamed result (``--format jsonl``) carries the referrers found by then, those not written back
    yet included: the verdict of the report, with referrers the report's hold (which ones were found by
    then depends on the order pages were crawled in); its referrers are read with its resource's other
    links, and nothing is written for it."""
    state = RedisState(client, f"t:stream:{flush_every}", flush_every=flush_every, queue_window=4)
    client.config_resetstat()
    streamed: list[CheckResult] = []
    report = await _crawl(state, on_result=streamed.append)
    writes = _calls(client, "evalsha") + _calls(client, "eval")

    _same(report, await _crawl(None))
    final = {r.url: r for r in report.results}
    assert len(streamed) == len({r.url for r in streamed}) == len(final) > PAGES
    for result in streamed:
        kept = final[result.url]
        assert replace(result, referrers=(), referrer_count=None) == replace(
            kept, referrers=(), referrer_count=None
        )
        assert set(result.referrers) <= set(kept.referrers) or kept.referrer_count is not None
    assert any(len(r.referrers) > 1 for r in streamed)
    if flush_every == 10_000:
        assert writes <= 3  # the final write-back (and a script load): not one per streamed result


async def test_a_report_reads_the_referrers_with_its_chunks_and_only_of_links_not_settled(
    client: redis.Redis,
) -> None:
    """The report picks its problems in one pass and builds them later: their referrers come with the chunk
    they were read in (not a round trip each), and an ok link, only counted, has no set to read."""
    expected = await _crawl(None)
    state = RedisState(client, "t:reads", flush_every=3, queue_window=4)
    chunks: list[int] = []
    read_chunk = state.read_chunk

    def counted(start: int, stop: int) -> list[LinkEntry]:
        chunks.append(start)
        return read_chunk(start, stop)

    state.read_chunk = counted  # type: ignore[method-assign]
    found = await _crawl(state)
    client.config_resetstat()
    chunks.clear()
    problems = group_problems(found.results)
    passes = len(chunks)
    sets_read = _calls(client, "sscan")
    pipelines = _calls(client, "hmget")

    assert problems == group_problems(expected.results)
    assert passes >= 1  # the links were read from Redis, a chunk (here all of them) at a time
    unsettled = sum(1 for r in found.results if r.referrer_count is None)
    assert 0 < unsettled < len(found.results) / 2  # most links are ok, only counted
    assert sets_read <= unsettled * passes  # the sets of links that keep their referrers, once a pass
    assert pipelines <= 3 * passes  # links, resources and counts of each chunk: none per problem


async def test_the_summary_reads_every_verdict_without_reading_a_referrer(client: redis.Redis) -> None:
    """The crawl's end reads every link once for the summary's counts: their verdicts, not their referrers,
    which a chunk reads only when a result is built from one of its links."""
    state = RedisState(client, "t:verdicts", flush_every=3, queue_window=4)
    client.config_resetstat()
    found = await _crawl(state)
    assert _calls(client, "hscan") >= 1  # the summary read the links from Redis
    assert _calls(client, "sscan") == 0
    assert found.summary.broken > 0
    _same(found, await _crawl(None))  # the results, built now, carry every referrer
    assert _calls(client, "sscan") > 0


async def test_the_referrers_a_report_reads_share_one_copy_of_each_page(client: redis.Redis) -> None:
    """The problem results a report reads from one chunk: one page's URL (and a repeated link text) read back
    from Redis is one string for every link it refers to, as in memory, not a copy per referrer."""
    state = RedisState(client, "t:shared", flush_every=3, queue_window=4)
    found = await _crawl(state)
    held = list(results_in(found.results, PROBLEM_CATEGORIES))  # a chunk here: the crawl is small
    referrers = [referrer for result in held for referrer in result.referrers]
    pages = {referrer.url for referrer in referrers}
    assert len(referrers) > 2 * len(pages)  # pages refer to several problem links each
    assert len({id(referrer.url) for referrer in referrers}) == len(pages)
    assert len({id(referrer.text) for referrer in referrers}) == len(
        {referrer.text for referrer in referrers}
    )


@pytest.mark.parametrize("keep_all", [False, True])
async def test_a_link_on_more_pages_than_are_read_at_once_is_read_a_piece_at_a_time(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch, keep_all: bool
) -> None:
    """A link with more referrers than SPILL_OVER (here: a broken link on each of the 120 pages) is read from
    Redis a piece at a time into a scratch database, once for all of the report's passes, and listed from
    there: the report is the one from memory, and no read brings a whole set."""
    monkeypatch.setattr(crawlstate, "SPILL_OVER", 16)
    monkeypatch.setattr(scratch, "PIECE", 5)
    monkeypatch.setattr(problems_on_disk, "PIECE", 9)
    config = replace(CONFIG, all_referrers=keep_all)
    expected = await _crawl(None, config)
    state = RedisState(client, f"t:spill:{keep_all}", keep_all=keep_all, flush_every=3, queue_window=4)
    found = await _crawl(state, config)
    client.config_resetstat()
    spilled = [r for r in found.results if isinstance(r.referrers, StoredRows)]
    assert {r.url for r in spilled} >= {f"{SITE}/missing.html", "http://down.test/"}
    assert all(len(r.referrers) > 16 for r in spilled)
    assert not any(len(r.referrers) > 16 for r in found.results if isinstance(r.referrers, tuple))
    assert _calls(client, "smembers") == 0 and _calls(client, "sscan") > len(spilled)
    _same(found, expected)
    assert group_problems(found.results) == group_problems(expected.results)
    kept = state._spill._end  # the rows spilled so far
    written = []
    for report in (expected, found, found):
        out = io.StringIO()
        write_json_v2(Report(expected.summary, report.results), out)
        written.append(out.getvalue())
    assert written[0] == written[1] == written[2]
    assert state._spill._end == kept  # each link spilled once, however many passes read it


async def test_a_redis_lost_while_a_link_is_spilled_keeps_nothing_of_it(client: redis.Redis) -> None:
    """A spill that fails half-way (Redis out of reach between two pieces) keeps none of its rows, and the
    next one starts clean."""
    spill = ReferrerSpill()

    def pieces() -> Iterator[list[bytes]]:
        yield [b'["https://e.org/a",1,"a"]', b'["https://e.org/b",null,"b"]']
        raise StateUnavailable("the crawl state's Redis was lost")

    with pytest.raises(StateUnavailable):
        spill.spill("https://e.org/x", pieces(), final=True)
    assert spill.spilled("https://e.org/x") is None
    rows = spill.spill(
        "https://e.org/y", [[b'["https://e.org/c",2,"c"]', '["https://e.org/c",2,"c"]']], final=True
    )
    assert tuple(rows) == (Referrer("https://e.org/c", 2, "c"),)
    assert spill.spilled("https://e.org/y") is rows


def test_a_spill_on_a_full_disk_fails_with_the_disk_s_error() -> None:
    """The scratch database keeps no journal: a statement that fails half-way cannot be undone, so the error
    shown is the disk's, not a cleanup's on a damaged database."""
    spill = ReferrerSpill()
    spill.spill("https://e.org/a", [[b'["https://e.org/p",1,"t"]']], final=True)
    assert spill._db is not None
    spill._db.execute("PRAGMA max_page_count = 8")  # a full disk
    many = [f'["https://e.org/p{i}",1,"{"x" * 200}"]' for i in range(5000)]
    with pytest.raises(sqlite3.OperationalError, match="full"):
        spill.spill("https://e.org/b", [many], final=True)


async def test_a_report_over_redis_groups_its_problems_on_disk_and_writes_what_memory_would(
    client: redis.Redis,
) -> None:
    """The coordinator's report holds no problem and no index of the whole site: its problems are grouped,
    its pages numbered and its runs of links kept in a scratch database, and the report is the same."""
    expected = await _crawl(None)
    found = await _crawl(RedisState(client, "t:disk", flush_every=3, queue_window=4))
    problems = group_problems(found.results)
    assert isinstance(problems, StoredProblems)
    assert problems == group_problems(expected.results)
    assert problem_counts(found.results) == problem_counts(expected.results)
    written = []
    for report in (expected, found):
        out = io.StringIO()
        write_json_v2(Report(expected.summary, report.results), out)
        written.append(out.getvalue())
    assert written[0] == written[1]
    assert '"problems":[\n' in written[0].replace(" ", "")


async def test_the_coordinator_holds_only_its_checks_in_flight_and_the_head_of_the_queue(
    client: redis.Redis,
) -> None:
    state = RedisState(client, "t:held", flush_every=5, queue_window=3)
    held: list[int] = []
    queued: list[int] = []
    original = state.flush

    def flush(*, force: bool = False) -> None:
        original(force=force)
        if state._checks == 0:  # a flush ran: what stays in memory is the point
            assert set(state._resources) <= set(state._pinned)  # held by a check or in the window
            assert not state._links
            held.append(len(state._resources))
            queued.append(len(state._queue._local) + len(state._queue._unwritten))

    state.flush = flush  # type: ignore[method-assign]
    report = await _crawl(state)
    assert len(report.results) > PAGES
    assert len(held) > PAGES / 5
    assert max(held) <= CONFIG.max_concurrency * 4 + 3  # the crawl's workers, one check each, and the window
    assert max(queued) <= 3
    assert client.llen("t:held:q") > PAGES / 2  # the frontier waited in Redis
    assert held[-1] == 0  # the crawl is over: nothing is held


async def test_what_a_write_back_lets_go_is_freed_without_the_cycle_collector(client: redis.Redis) -> None:
    """A crawl runs under a raised collection threshold (``runner.fewer_collections``): the entries a
    write-back let go, each resource with the links that point back at it, stayed in memory as cyclic
    garbage until a full collection (40 MB at 10,000 pages, then dropped). Their reference counts free them
    now."""
    state = RedisState(client, "t:freed", flush_every=5, queue_window=3)
    alive: list[int] = []
    original = state.flush

    def flush(*, force: bool = False) -> None:
        original(force=force)
        if state._checks == 0:
            alive.append(sum(1 for o in gc.get_objects() if type(o) is StoredResource))

    state.flush = flush  # type: ignore[method-assign]
    gc.collect()
    gc.disable()
    try:
        report = await _crawl(state)
    finally:
        gc.enable()
    assert len(report.results) > PAGES
    # Those the checks in flight hold, not one per page crawled (552 of them before, at the end).
    assert max(alive) < PAGES / 2, alive


async def test_a_write_that_timed_out_is_applied_once(client: redis.Redis) -> None:
    state = RedisState(client, "t:once", flush_every=1, sleep=lambda seconds: None)
    expected = await _crawl(None)
    apply = state._apply
    failures = iter([True, False] * 10_000)

    def flaky(*args: Any, **kwargs: Any) -> object:
        answer = apply(*args, **kwargs)  # applied, and then the answer is lost
        if next(failures):
            raise redis.exceptions.TimeoutError("lost answer")
        return answer

    state._apply = flaky  # type: ignore[assignment]
    _same(await _crawl(state), expected)


async def test_an_unreachable_redis_stops_the_run_after_the_grace() -> None:
    client = redis.Redis(
        host="127.0.0.1",
        port=1,
        socket_timeout=0.2,
        socket_connect_timeout=0.2,
        encoding_errors="surrogatepass",
    )
    waits: list[float] = []
    state = RedisState(client, "t:gone", outage_grace=0.0, sleep=waits.append)
    with pytest.raises(StateUnavailable, match="out of reach"):
        await _crawl(state)


def _unreachable() -> redis.Redis:
    return redis.Redis(
        host="127.0.0.1",
        port=1,
        socket_timeout=0.2,
        socket_connect_timeout=0.2,
        encoding_errors="surrogatepass",
    )


def test_once_a_call_gave_up_every_later_call_fails_at_once() -> None:
    """The checks of a crawl share its Redis, and a call blocks the crawl's loop: once one call gave up (past
    the grace), the others fail at once, where each waited out a grace of its own (a crawl with many checks
    in flight took minutes to stop)."""
    waits: list[float] = []
    state = RedisState(_unreachable(), "t:gone", outage_grace=0.3, sleep=waits.append)
    with pytest.raises(StateUnavailable, match="out of reach") as first:
        state.prefetch(["http://a.test/"])
    waits.clear()
    depths = []
    for _ in range(20):
        with pytest.raises(StateUnavailable) as again:
            state.prefetch(["http://b.test/"])
        assert again.value is first.value
        depths.append(len(traceback.extract_tb(again.value.__traceback__)))
    assert waits == []
    assert len(set(depths)) == 1  # each raise carries its own frames, not all the earlier ones


def test_a_signal_during_an_outage_stops_the_call_at_once() -> None:
    """``stopped`` is asked after each failed attempt: a signal arrived, so the call stops with its error
    instead of waiting out the grace."""
    waits: list[float] = []
    asked: list[str] = []

    def stopped(what: str, since: float) -> RunStopped:
        assert since <= time.monotonic()
        asked.append(what)
        return RunStopped(f"stopped by SIGINT while {what}", signal.SIGINT)

    state = RedisState(_unreachable(), "t:stop", outage_grace=600.0, sleep=waits.append, stopped=stopped)
    with pytest.raises(RunStopped, match="while the crawl's Redis was out of reach"):
        state.prefetch(["http://a.test/"])
    assert (asked, waits) == (["the crawl's Redis was out of reach"], [])


async def test_forget_deletes_every_run_of_the_scan_and_nothing_else(
    client: redis.Redis, redis_server: RedisServer
) -> None:
    base = "t:f*[1]"  # glob characters in a scan's key match only themselves
    for run in ("a", "b"):
        report = await _crawl(RedisState(client, f"{base}:{run}", flush_every=3))
        assert len(report.results) > PAGES
    assert len(client.keys("t:f*")) > 2 * (5 + 100)  # a set per link that keeps its referrers
    others = [b"t:fx1:a:r", b"t:f*[1]x", b"t:f"]
    for key in others:
        client.set(key, 1)
    async_client = AsyncRedis.from_url(redis_server.url)
    await forget_state(async_client, base)
    await async_client.aclose()
    assert sorted(client.keys("*")) == sorted(others)


@pytest.mark.parametrize("queue_window", [50, 2])
async def test_a_state_lost_mid_crawl_stops_the_run_resumably(client: redis.Redis, queue_window: int) -> None:
    state = RedisState(client, "t:lost", flush_every=5, queue_window=queue_window)
    original, flushes = state.flush, [0]

    def flush(*, force: bool = False) -> None:
        original(force=force)
        if state._checks == 0:
            flushes[0] += 1
            if flushes[0] == 8:
                client.flushall()  # what a Redis restarted without persistence holds

    state.flush = flush  # type: ignore[method-assign]
    with pytest.raises(FetchInterrupted, match="state in Redis is gone"):  # not a report of what is left
        await _crawl(state)


async def test_referrers_outlive_a_crawl_longer_than_the_expiry(client: redis.Redis) -> None:
    class Slow(MemoryTransport):
        async def send(self, *args: Any, **kwargs: Any) -> Answer:
            await asyncio.sleep(0.03)
            return await super().send(*args, **kwargs)

    async def crawl(state: RedisState | None) -> Report:
        config = replace(CONFIG, max_concurrency=2)
        transport = Slow(_replies, down=frozenset({"down.test"}))
        return await Crawler(config, transport=transport, state=state, clock=lambda: 0.0).run(
            collect_inputs([f"{SITE}/"])
        )

    started = time.monotonic()
    expected = await crawl(None)
    assert time.monotonic() - started > 2  # longer than the keys' expiry below
    _same(await crawl(RedisState(client, "t:ttl", ttl=1, flush_every=1)), expected)


async def test_the_queue_window_bounds_what_is_held_after_a_huge_page(client: redis.Redis) -> None:
    locs = "".join(f"<url><loc>{SITE}/s{i}</loc></url>" for i in range(500))
    sitemap = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode()

    def replies(url: str) -> Reply | None:
        if url == f"{SITE}/sitemap.xml":
            return Reply(200, sitemap, (("content-type", "application/xml"),))
        return Reply(200, b"<p>x</p>")

    state = RedisState(client, "t:window", flush_every=1000, queue_window=8)
    peak = 0
    popleft = state._queue.popleft

    def watched() -> str:
        nonlocal peak
        url = popleft()
        peak = max(peak, len(state._queue._local), len(state._pinned))
        return url

    state._queue.popleft = watched  # type: ignore[method-assign]
    config = CheckConfig(retries=0, max_concurrency=2)
    crawler = Crawler(config, transport=MemoryTransport(replies), state=state, clock=lambda: 0.0)
    report = await crawler.run(collect_inputs([f"{SITE}/sitemap.xml"]))
    assert len(report.results) == 501
    assert peak <= 8 + 4 * config.max_concurrency  # the window and the checks in flight


async def test_the_frontier_keeps_the_order_things_were_added_in(client: redis.Redis) -> None:
    config = replace(CONFIG, max_checks=25)

    async def turn(state: RedisState | None) -> Crawler:
        transport = MemoryTransport(_replies, down=frozenset({"down.test"}))
        crawler = Crawler(config, transport=transport, state=state, clock=lambda: 0.0)
        await crawler.run(collect_inputs([f"{SITE}/"]))
        return crawler

    ours = (await turn(RedisState(client, "t:order", flush_every=1, queue_window=2))).frontier()
    theirs = (await turn(None)).frontier()
    assert ours.resources == theirs.resources  # what is pending, in the order a resumed turn checks it
    assert sorted(ours.links, key=lambda link: link.url) == sorted(theirs.links, key=lambda link: link.url)
    assert (ours.scope_prefixes, ours.pages_started) == (theirs.scope_prefixes, theirs.pages_started)


async def test_a_url_of_any_code_point_is_kept_and_sorted_as_in_memory(client: redis.Redis) -> None:
    listed = ["http://x.test:99999/\udcff", "http://x.test:99999/\ue000", "http://x.test:99999/é"]

    async def crawl(state: RedisState | None) -> Report:
        inputs = collect_inputs([f"{SITE}/"], url_lists=[("<stdin>", listed)])
        return await Crawler(
            CheckConfig(retries=0), transport=MemoryTransport(_replies), state=state, clock=lambda: 0.0
        ).run(inputs)

    _same(await crawl(RedisState(client, "t:surrogate")), await crawl(None))


def test_a_client_that_cannot_send_every_url_is_refused(redis_server: RedisServer) -> None:
    with pytest.raises(ValueError, match="surrogatepass"):
        RedisState(redis.Redis.from_url(redis_server.url), "t:strict")


async def test_a_state_lost_after_the_last_write_is_not_an_empty_report(client: redis.Redis) -> None:
    state = RedisState(client, "t:late")
    listed = state.emitted_links

    def lost_first() -> Sequence[LinkEntry]:
        state.flush(force=True)
        client.flushall()  # between the crawl's last write and the report
        return listed()

    state.emitted_links = lost_first  # type: ignore[method-assign]
    with pytest.raises(FetchInterrupted, match="state in Redis is gone"):
        await _crawl(state)


async def test_a_redis_that_refuses_writes_stops_the_run_resumably(client: redis.Redis) -> None:
    client.config_set("maxmemory", 1)  # full, and it evicts nothing: every write is refused (OOM)
    try:
        with pytest.raises(FetchInterrupted, match="refused its state"):
            await _crawl(RedisState(client, "t:full"))
    finally:
        client.config_set("maxmemory", 0)
