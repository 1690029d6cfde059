"""Results kept outside memory (a distributed crawl's) are reported from indexes on disk: their problems
grouped there, their pages numbered and their runs of links kept there. What comes out is what the same
results give in memory, to the byte."""

from __future__ import annotations

import gc
import io
import pickle
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from tests.unit.report.report_sample import sample_results

from linkdoctor import problems_on_disk, scratch
from linkdoctor.classify.codes import make
from linkdoctor.engine.results import ResultView
from linkdoctor.models import Category, CheckResult, Diagnosis, ErrorKind, Redirect, Referrer, Report, Summary
from linkdoctor.problems import by_page, count_problems, group_problems, problem_counts
from linkdoctor.problems_on_disk import StoredProblems
from linkdoctor.report import json as json_report
from linkdoctor.report.context import RenderContext
from linkdoctor.report.formats import FORMATS
from linkdoctor.report.json_v2 import write_json_v2
from linkdoctor.scratch import StoredRows

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


def _navigation_link(pages: int) -> list[CheckResult]:
    """A broken link on every page (a navigation link of a huge site), through two fragments, and an anchor
    missing on a few of them: problems with more places than are held at once."""
    return [
        CheckResult(E + "nav.html#a", Category.BROKEN, 404, diagnosis=gone, referrers=tuple(
            Referrer(f"{E}p{n:03}.html", None if n % 7 == 0 else n % 5, "nav") for n in range(pages)
        )),
        CheckResult(E + "nav.html#b", Category.BROKEN, 404, diagnosis=gone, referrers=tuple(
            Referrer(f"{E}p{n:03}.html", n % 5, "nav b") for n in range(0, pages, 3)
        )),
        CheckResult(E + "ok.html#gone", Category.BROKEN, 200, diagnosis=make("http.fragment-missing", "#gone"),
                    referrers=(Referrer(P1, 1, "x"), Referrer(P2, 2, "y"))),
    ]  # fmt: skip


@pytest.mark.parametrize("piece", [1, 2, 7])
def test_a_problem_with_more_places_than_held_at_once_is_read_a_piece_at_a_time(
    monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """Its places are listed from the scratch database, never held whole, and every format writes what
    memory would, to the byte."""
    monkeypatch.setattr(problems_on_disk, "PIECE", piece)
    monkeypatch.setattr(scratch, "PIECE", piece + 1)
    for results in (_navigation_link(40), _hard_cases(), list(sample_results())):
        in_memory, on_disk = _views(results)
        stored, expected = group_problems(on_disk), group_problems(in_memory)
        assert stored == expected and tuple(stored) == expected
        lazy = [p.locations for p in stored if len(p.locations) > piece]
        assert all(isinstance(locations, StoredRows) for locations in lazy)
        assert lazy or results[0].url != E + "nav.html#a"  # its two fragments are one problem
        assert count_problems(stored) == count_problems(expected)
        for name, (fmt, context) in _FORMATS.items():
            written = []
            for view in (in_memory, on_disk):
                out = io.StringIO()
                report = Report(Summary.from_results(view, pages_crawled=2, elapsed_s=1.0), view)
                fmt.write(report, out, context)
                written.append(out.getvalue())
            assert written[0] == written[1], name


def test_stored_rows_read_a_piece_at_a_time_and_behave_as_a_tuple(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scratch, "PIECE", 3)
    db = scratch.open_scratch()
    db.execute("CREATE TABLE t (pos INTEGER PRIMARY KEY, v INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", ((i, i * 10) for i in range(20)))
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    rows = StoredRows(db, "t", "v", 5, 10, lambda v: v)
    expected = tuple(range(50, 150, 10))
    assert tuple(rows) == expected
    assert len(statements) == 4  # 10 rows, 3 at a time
    assert rows == expected and expected == rows
    assert len(rows) == 10 and bool(rows) and rows[0] == 50 and rows[-1] == 140
    assert rows[2:5] == expected[2:5] and rows[8:50] == expected[8:50] and rows[::3] == expected[::3]
    assert rows[7:2] == () and not rows[7:2] and isinstance(rows[1:], StoredRows)
    assert hash(rows) == hash(expected) and pickle.loads(pickle.dumps(rows)) == expected
    with pytest.raises(IndexError):
        rows[10]


class _Writes(io.StringIO):
    """Output that keeps only the length of its longest write, and the text when asked to."""

    def __init__(self, keep: bool = False) -> None:
        super().__init__()
        self.longest = 0
        self.text: list[str] | None = [] if keep else None

    def write(self, text: str) -> int:
        self.longest = max(self.longest, len(text))
        if self.text is not None:
            self.text.append(text)
        return len(text)


def _huge_site(pages: int) -> list[CheckResult]:
    """A broken navigation link on every page, and as many documents that are fine: referrers and places
    kept outside memory (as a distributed crawl's are), and a table of documents as long as the site."""
    fine = [CheckResult(f"{E}z/t{n:05}.html", Category.OK, 200, referrer_count=1) for n in range(pages)]
    return [replace(r, referrers=_NotHeld(r.referrers)) for r in _navigation_link(pages)] + fine


def _write(name: str, pages: int, keep: bool = False) -> tuple[_Writes, int]:
    fmt, context = _FORMATS[name]
    """``name``'s report of :func:`_huge_site`, and the most memory (traced) it took to write it."""
    view = _views(_huge_site(pages))[1]
    report = Report(Summary.from_results(view, pages_crawled=pages, elapsed_s=1.0), view)
    out = _Writes(keep)
    gc.collect()
    tracemalloc.start()
    try:
        fmt.write(report, out, context)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Every format, and the console's view by page.
_FORMATS = {name: (fmt, RenderContext()) for name, fmt in FORMATS.items()}
_FORMATS["console by page"] = (FORMATS["console"], RenderContext(group_by="page"))


@pytest.mark.parametrize("name", list(_FORMATS))
def test_every_format_writes_a_huge_site_in_memory_that_does_not_grow_with_it(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A problem on every page, and a document per page, outside memory: each format reads them as it
    writes, so neither the memory it takes nor its longest write grows with the site (the caches that
    share repeated strings are capped low, as they are bounded), and it writes what memory would."""
    monkeypatch.setattr(problems_on_disk, "PIECE", 2)
    monkeypatch.setattr(scratch, "PIECE", 3)
    monkeypatch.setattr(problems_on_disk, "_SHARED", 16)
    monkeypatch.setattr(scratch, "_MEMO", 16)
    monkeypatch.setattr(json_report, "_ENCODED_LIMIT", 16)
    _write(name, 40)  # imports, compiled templates: what any run pays once
    small, small_peak = _write(name, 400)
    big, big_peak = _write(name, 1600)
    assert big.longest <= small.longest + 64
    assert big_peak < small_peak * 1.3 + 32_000, (small_peak, big_peak)
    # What is written is what the same results give in memory.
    written = "".join(_write(name, 400, keep=True)[0].text or ())
    in_memory = _views([replace(r, referrers=tuple(r.referrers)) for r in _huge_site(400)])[0]
    out = io.StringIO()
    fmt, context = _FORMATS[name]
    fmt.write(
        Report(Summary.from_results(in_memory, pages_crawled=400, elapsed_s=1.0), in_memory), out, context
    )
    assert written == out.getvalue()


class _NotHeld(Sequence[Referrer]):
    """Referrers as a store outside memory lists them (not a tuple)."""

    def __init__(self, referrers: Sequence[Referrer]) -> None:
        self._referrers = referrers

    def __len__(self) -> int:
        return len(self._referrers)

    def __getitem__(self, index: Any) -> Any:
        return self._referrers[index]


def test_the_view_by_page_names_each_problem_once_without_reading_its_places() -> None:
    """300 problems on each of 40 pages, more than a chunk of problems: each problem is read once (a row),
    its places never, where each entry read its problem and all its places again once they alternated."""
    results = [
        CheckResult(f"{E}gone{k:03}.html", Category.BROKEN, 404, diagnosis=gone,
                    referrers=tuple(Referrer(f"{E}p{i:03}.html", 10 + k % 7, "nav") for i in range(40)))
        for k in range(300)
    ]  # fmt: skip
    in_memory, on_disk = _views(results)
    stored = group_problems(on_disk)
    assert isinstance(stored, StoredProblems)
    statements: list[str] = []
    stored._db.set_trace_callback(statements.append)
    pages = list(stored.by_page())
    stored._db.set_trace_callback(None)
    assert not [s for s in statements if "FROM place WHERE problem" in s]
    assert len(statements) <= 300 + 1
    assert tuple(pages) == by_page(group_problems(in_memory))
