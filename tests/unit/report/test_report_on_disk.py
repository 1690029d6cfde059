"""Results kept outside memory (a distributed crawl's) are reported from indexes on disk: their problems
grouped there, their pages numbered and their runs of links kept there. What comes out is what the same
results give in memory, to the byte."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from tests.unit.report.report_sample import sample_results

from linkdoctor.classify.codes import make
from linkdoctor.engine.results import ResultView
from linkdoctor.models import Category, CheckResult, Diagnosis, ErrorKind, Redirect, Referrer, Report, Summary
from linkdoctor.problems import count_problems, group_problems, problem_counts
from linkdoctor.problems_on_disk import StoredProblems
from linkdoctor.report.json_v2 import write_json_v2

E = "https://e.org/"
P1, P2 = E + "p1.html", E + "p\udcff.html"  # a referring page with a lone surrogate in its URL
gone = make("http.not-found")
server = make("http.server-error")


def _hard_cases() -> list[CheckResult]:
    def broken(
        url: str, status: int, *referrers: Referrer, diagnosis: Diagnosis = gone, **more: Any
    ) -> CheckResult:
        return CheckResult(url, Category.BROKEN, status, diagnosis=diagnosis, referrers=referrers, **more)

    return [
        # One missing page through three fragments, a place repeated under two of them, one from a start URL.
        broken(E + "gone.html#a", 404, Referrer(P1, 3, "x"), Referrer(P2, None, "y")),
        broken(E + "gone.html#b", 404, Referrer(P1, 3, "x"), Referrer(P1, 0, "x")),
        broken(E + "gone.html#c", 404),
        CheckResult(E + "gone.html!x", Category.OK, 200, referrer_count=2),  # splits the document's run
        broken(E + "gone.html#d", 404, Referrer(P2, 9, "\ud800")),
        # Two problems equal in pages, links, URL and code: they keep the order they were met in.
        broken(E + "t.html#a", 500, Referrer(P1, 1, "t"), diagnosis=server),
        broken(E + "t.html#b", 503, Referrer(P2, 1, "t"), diagnosis=server),
        # An anchor missing on a page that is fine, found in more places than were kept.
        broken(
            E + "ok.html#nope",
            200,
            Referrer(P1, 4, "n"),
            diagnosis=make("http.fragment-missing", "#nope"),
            referrer_count=7,
        ),
        CheckResult(E + "ok.html", Category.OK, 200, referrer_count=3),
        # A redirect whose target names a fragment, and a failure without a status.
        broken(
            E + "moved.html",
            404,
            Referrer(P1, 5, "m"),
            final_url=E + "new.html#top",
            redirects=(Redirect(E + "moved.html", 301),),
        ),
        CheckResult(
            E + "\ud800.html",
            Category.UNVERIFIED,
            None,
            error=ErrorKind.TIMEOUT,
            error_message="timed out",
            referrers=(Referrer(P2, 2, "s"),),
        ),
        # A surrogate pair is two characters, not the one it would spell: two targets, and a cause kept as is.
        broken(E + "\ud800\udfff", 404, Referrer(P1, 6, "p")),
        broken(E + "\U000103ff", 404, Referrer(P2, 6, "q")),
        CheckResult(
            E + "x.html",
            Category.UNVERIFIED,
            None,
            error=ErrorKind.TIMEOUT,
            error_message="x\ud83d\ude00y",
            referrers=(Referrer(P1, 7, "\ud83d\ude00"),),
        ),
        broken(E + "y.html", 418, Referrer(P1, 8, "y"), diagnosis=Diagnosis("", "no code")),  # sorts as ""
    ]


def _views(results: Sequence[CheckResult]) -> tuple[ResultView, ResultView]:
    def view(outside_memory: bool) -> ResultView:
        return ResultView(
            list(results), lambda r: r, lambda r: r.category, lambda r: (r.url, r.referrers),
            outside_memory=outside_memory,
        )  # fmt: skip

    return view(False), view(True)


def _json(results: ResultView) -> str:
    out = io.StringIO()
    write_json_v2(Report(Summary.from_results(results, pages_crawled=2, elapsed_s=1.0), results), out)
    return out.getvalue()


def test_problems_grouped_on_disk_are_those_grouped_in_memory() -> None:
    for results in (_hard_cases(), list(sample_results()), []):
        in_memory, on_disk = _views(results)
        stored = group_problems(on_disk)
        assert isinstance(stored, StoredProblems)
        expected = group_problems(in_memory)
        assert isinstance(expected, tuple)
        assert tuple(stored) == expected
        assert stored == expected and len(stored) == len(expected)
        assert stored[1:3] == expected[1:3] and stored[::2] == expected[::2]
        if expected:
            assert stored[-1] == expected[-1]
        assert count_problems(stored) == count_problems(expected)
        assert problem_counts(on_disk) == problem_counts(in_memory)


def test_the_hard_cases_group_as_they_should() -> None:
    problems = group_problems(_views(_hard_cases())[1])
    first = problems[0]
    assert (first.url, first.links, first.pages) == (E + "gone.html", 6, 3)  # 2 pages and the start URL
    assert [loc.line for loc in first.locations if loc.page == P1] == [0, 3, 3]  # fragments b, a, b
    ties = [p for p in problems if p.target == E + "t.html"]
    assert [p.result.status for p in ties] == [500, 503]
    anchor = next(p for p in problems if p.anchor)
    assert (anchor.url, anchor.links) == (E + "ok.html#nope", 7)


def test_the_json_report_from_disk_is_the_one_from_memory() -> None:
    for results in (_hard_cases(), list(sample_results())):
        in_memory, on_disk = _views(results)
        assert _json(on_disk) == _json(in_memory)


def test_the_results_picked_outside_memory_are_read_again_not_held() -> None:
    reads: list[int] = []

    class Store(list[CheckResult]):
        def __getitem__(self, index):  # type: ignore[no-untyped-def]
            reads.append(index)
            return super().__getitem__(index)

    store = Store(_hard_cases())
    view = ResultView(store, lambda r: r, lambda r: r.category, outside_memory=True)
    picked = view.of_categories({Category.UNVERIFIED})
    assert not reads
    wanted = [i for i, r in enumerate(list.__iter__(store)) if r.category is Category.UNVERIFIED]
    assert [r.url for r in picked] == [E + "\ud800.html", E + "x.html"]
    assert reads == wanted


def test_problems_read_back_share_each_pages_url() -> None:
    """A reader that keeps every problem (the console lists them by page) keeps each page's URL once."""
    pages = [f"{E}page-{i}.html" for i in range(5)]
    results = [
        CheckResult(f"{E}gone-{n}.html", Category.BROKEN, 404, diagnosis=gone, referrers=tuple(
            Referrer(page, n, "same text") for page in pages
        ))
        for n in range(20)
    ]  # fmt: skip
    locations = [loc for problem in group_problems(_views(results)[1]) for loc in problem.locations]
    assert len(locations) == 100
    assert len({id(loc.page) for loc in locations}) == len(pages)
    assert len({id(loc.text) for loc in locations}) == 1
