"""The live progress counters count links as the summary does: at the end of a crawl they are the
summary's totals, and broken links never outnumber the links with a verdict (fragment links into a
missing page used to count as broken while only the page counted as checked)."""

from __future__ import annotations

from collections.abc import Mapping

from tests.support.memory_site import MemoryTransport, Reply

from linkdoctor.config import CheckConfig
from linkdoctor.engine.crawl import Crawler
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.problems import count_problems, group_problems

SITE = "http://site.test"
FRAGMENTS = "".join(f'<a href="/gone.html#s{i}">s{i}</a>' for i in range(30))
PAGES: Mapping[str, Reply] = {
    f"{SITE}/": Reply(200, f'<html><body>{FRAGMENTS}<a href="/a.html">A</a></body></html>'.encode()),
    f"{SITE}/a.html": Reply(200, b'<html><body><a href="/">home</a><a href="/#x">x</a></body></html>'),
}


async def test_progress_ends_on_the_summary_totals_with_broken_never_above_done() -> None:
    crawler = Crawler(CheckConfig(retries=0), transport=MemoryTransport(PAGES))
    report = await crawler.run(collect_inputs([f"{SITE}/"]))
    progress = crawler.progress
    assert report.summary.broken == 31  # the 30 fragment links and the anchor #x missing on the home page
    assert (progress.done, progress.links) == (report.summary.total, report.summary.total)
    assert progress.broken == report.summary.broken
    assert progress.broken <= progress.done
    # 2 problems, as the summary says: the missing page (its 30 fragment links folded in) and the anchor
    assert progress.problems == count_problems(group_problems(report.results)).problems == 2
