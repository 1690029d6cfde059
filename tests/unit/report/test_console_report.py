"""The console report: one entry per problem with its cause, fix and first few referring places, sized for
a person whatever the number of referrers; ``--verbose`` lists every place, ``--group-by page`` gives the
per-page view; the summary line carries the problem counts."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from rich.console import Console

from linkdoctor.classify.codes import make
from linkdoctor.models import Category, CheckResult, Referrer, Report, Summary
from linkdoctor.problems import Location, group_problems
from linkdoctor.report.console import PAGES_SHOWN, _render_problem, render_report
from linkdoctor.report.context import RenderContext

SITE = "https://docs.example.org/"


def _report(referrers: int) -> Report:
    """Five problems (a missing page linked through fragments, two anchors, a 503, a timeout), each
    linked from ``referrers`` pages, among 200 ok links."""

    def refs(n: int) -> tuple[Referrer, ...]:
        return tuple(Referrer(f"{SITE}p{i}.html", 10 + i % 7, "x") for i in range(n))

    gone = make("http.not-found")
    results = [
        CheckResult(f"{SITE}changelog.html#v{i}", Category.BROKEN, 404, "Not Found", diagnosis=gone,
                    referrers=refs(referrers))
        for i in range(3)
    ]  # fmt: skip
    results += [
        CheckResult(f"{SITE}guide.html#{a}", Category.BROKEN, 200, "OK",
                    diagnosis=make("http.fragment-missing", f"no id {a!r}"), referrers=refs(referrers))
        for a in ("install", "setup")
    ]  # fmt: skip
    results.append(
        CheckResult("https://status.example.com/", Category.BROKEN, 503, diagnosis=make("http.unavailable"),
                    referrers=refs(referrers))
    )  # fmt: skip
    results.append(
        CheckResult("https://slow.example.net/", Category.UNVERIFIED, diagnosis=make("net.timeout"),
                    referrers=refs(referrers))
    )  # fmt: skip
    results += [CheckResult(f"{SITE}ok{i}.html", Category.OK, 200, referrer_count=500) for i in range(200)]
    return Report(Summary.from_results(results, pages_crawled=referrers), tuple(results))


def render(report: Report, **context: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, force_terminal=False, soft_wrap=True)
    render_report(report, console, RenderContext(**context))  # type: ignore[arg-type]
    return out.getvalue()


def test_a_handful_of_problems_fits_in_about_150_lines_whatever_the_referrers() -> None:
    small = render(_report(PAGES_SHOWN)).splitlines()
    huge = render(_report(2000)).splitlines()
    assert len(huge) <= 150
    assert len(huge) - len(small) == 5  # a "+N more pages" line per problem
    assert "    +1,995 more pages (5,985 times; --verbose lists all)" in huge  # 3 fragments × 2,000 pages


def test_each_problem_shows_cause_fix_lines_and_fragments() -> None:
    text = render(_report(12))
    block = text.strip().split("\n\n")[0]
    assert block.splitlines()[0] == f"✗ 404  {SITE}changelog.html  http.not-found"
    assert "The server has no resource at this URL (404)" in block
    assert "fix: Fix or remove the link" in block
    assert "linked 36 times from 12 pages through 3 #fragments:" in block
    assert "    https://docs.example.org/p0.html:10 #v0, :10 #v1, :10 #v2" in block.splitlines()
    assert len([line for line in block.splitlines() if line.startswith("    https://")]) == PAGES_SHOWN
    assert block.splitlines()[-1] == "    +7 more pages (21 times; --verbose lists all)"


def test_problems_are_sorted_by_pages_affected_and_the_summary_counts_them() -> None:
    lines = render(_report(12)).splitlines()
    heads = [line.split("  ")[1] for line in lines if line.startswith("✗")]
    assert heads[0] == f"{SITE}changelog.html"
    assert len(heads) == 5
    assert lines[-1].startswith(
        "5 problems: 1 missing page (linked 36 times from 12 pages), "
        "2 missing anchors (linked 24 times from 12 pages), "
    )
    assert (
        " · 207 links: 200 ok · 0 redirected · 6 broken · 1 unverified · 0 excluded (12 pages in" in lines[-1]
    )


def test_verbose_lists_every_referring_place() -> None:
    text = render(_report(40), verbose=True)
    assert "more (--verbose" not in text
    assert text.count("#v") == 120
    assert text.count("https://docs.example.org/p39.html") == 5


def test_group_by_page_lists_each_referring_page_with_its_problems_by_line() -> None:
    text = render(_report(2), group_by="page")
    pages = text.strip().split("\n\n")[:2]
    assert [block.splitlines()[0] for block in pages] == [f"{SITE}p0.html", f"{SITE}p1.html"]
    assert pages[0].count("line 10") == 7  # three fragments, two anchors, the 503 and the timeout


class _Counted(Sequence[Location]):
    """A problem's places that count how many were read (as a store outside memory lists them)."""

    def __init__(self, locations: Sequence[Location]) -> None:
        self._locations = locations
        self.read = 0

    def __len__(self) -> int:
        return len(self._locations)

    def __getitem__(self, index: Any) -> Any:
        return self._locations[index]

    def __iter__(self) -> Iterator[Location]:
        for location in self._locations:
            self.read += 1
            yield location


def test_a_problem_on_every_page_is_shown_from_the_places_of_the_pages_it_shows() -> None:
    """A link on each of 2,000 pages (listed from disk in a distributed check's report): the console lists
    the places of the pages it shows and the one after, not all 6,000 (its count of #fragments reads each
    once, keeping the distinct ones), and prints what it printed."""
    problem = group_problems(_report(2000).results)[0]
    counted = _Counted(problem.locations)
    written = []
    for shown in (problem, replace(problem, locations=counted)):
        out = io.StringIO()
        console = Console(file=out, width=100, color_system=None, force_terminal=False, soft_wrap=True)
        _render_problem(shown, console, RenderContext(), verbose=False)
        written.append(out.getvalue())
    assert written[0] == written[1]
    assert "+1,995 more pages (5,985 times; --verbose lists all)" in written[1]
    assert counted.read - len(problem.locations) <= (PAGES_SHOWN + 1) * 3  # three fragments a page
