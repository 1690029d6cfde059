"""A crawl's results are built as they are read: readers that need only some of them (the problems, the URLs
and referring pages) must not build the rest, and one report's problems are grouped once."""

from __future__ import annotations

from linkdoctor.engine.results import ResultView
from linkdoctor.models import Category, CheckResult, Referrer, results_in, urls_and_referrers
from linkdoctor.problems import PROBLEM_CATEGORIES, group_problems

PAGE = Referrer("https://e.org/", 3, "a link")


def _category(url: str) -> Category:
    return Category.BROKEN if "gone" in url else Category.OK


def _view(built: list[str]) -> ResultView:
    def build(url: str) -> CheckResult:
        built.append(url)
        return CheckResult(url, _category(url), 404 if "gone" in url else 200, referrers=(PAGE,))

    urls = ["https://e.org/a", "https://e.org/gone", "https://e.org/gone#x", "https://e.org/b"]
    return ResultView(urls, build, _category, lambda url: (url, (PAGE,)))


def test_problem_results_are_picked_without_building_the_ok_ones() -> None:
    built: list[str] = []
    picked = [r.url for r in results_in(_view(built), PROBLEM_CATEGORIES)]
    assert picked == ["https://e.org/gone", "https://e.org/gone#x"]
    assert built == picked


def test_urls_and_referrers_build_nothing() -> None:
    built: list[str] = []
    view = _view(built)
    assert list(urls_and_referrers(view)) == [(r.url, r.referrers) for r in _view([])]
    assert built == []


def test_one_reports_problems_are_grouped_once() -> None:
    built: list[str] = []
    view = _view(built)
    first = group_problems(view)
    assert group_problems(view) is first
    assert [p.target for p in first] == ["https://e.org/gone"]
    assert built == ["https://e.org/gone", "https://e.org/gone#x"]


def test_plain_sequences_give_the_same_answers() -> None:
    results = tuple(_view([]))
    assert [r.url for r in results_in(results, PROBLEM_CATEGORIES)] == [
        "https://e.org/gone",
        "https://e.org/gone#x",
    ]
    assert list(urls_and_referrers(results)) == [(r.url, r.referrers) for r in results]
    assert group_problems(results) == group_problems(_view([]))


def test_each_verdict_is_read_once_for_the_summary_and_the_problems() -> None:
    asked: list[str] = []

    def category(url: str) -> Category:
        asked.append(url)
        return _category(url)

    urls = ["https://e.org/a", "https://e.org/gone", "https://e.org/b"]
    view = ResultView(urls, lambda url: CheckResult(url, _category(url)), category)
    assert list(view.categories()) == [Category.OK, Category.BROKEN, Category.OK]
    assert [r.url for r in results_in(view, PROBLEM_CATEGORIES)] == ["https://e.org/gone"]
    assert list(view.categories()) == [Category.OK, Category.BROKEN, Category.OK]
    assert asked == urls
