"""Grouping results into problems: one per target document and cause, fragments folded in, missing anchors
per target page, and the headline counts every output uses."""

from __future__ import annotations

from linkdoctor.classify.codes import make
from linkdoctor.models import Category, CheckResult, Referrer
from linkdoctor.problems import (
    START_URL,
    ProblemKind,
    by_page,
    count_problems,
    group_problems,
    headline,
    problem_key,
)

SITE = "https://docs.example.org/"
MISSING = SITE + "changelog.html"
GUIDE = SITE + "guide.html"


def _missing(fragment: str, *pages: tuple[str, int]) -> CheckResult:
    url = f"{MISSING}#{fragment}" if fragment else MISSING
    return CheckResult(
        url,
        Category.BROKEN,
        404,
        "Not Found",
        final_url=url,
        diagnosis=make("http.not-found"),
        referrers=tuple(Referrer(page, line, "changes") for page, line in pages),
    )


def _anchor(fragment: str, *pages: tuple[str, int]) -> CheckResult:
    return CheckResult(
        f"{GUIDE}#{fragment}",
        Category.BROKEN,
        200,
        "OK",
        diagnosis=make("http.fragment-missing", f"no id or name {fragment!r} on the page"),
        referrers=tuple(Referrer(page, line, "see") for page, line in pages),
    )


def _site_results() -> list[CheckResult]:
    results = [_missing(f"v{i}", (SITE + f"p{i % 12}.html", 10 + i)) for i in range(50)]
    results.append(_missing("", (SITE + "p0.html", 3), (SITE + "p1.html", 3)))
    results.append(_anchor("install", (SITE + "index.html", 7), (SITE + "p3.html", 8)))
    results.append(_anchor("setup", (SITE + "index.html", 9)))
    results.append(CheckResult(SITE + "ok.html", Category.OK, 200, referrer_count=400))
    return results


def test_fragment_links_into_a_missing_page_fold_into_one_problem_keeping_each_fragment() -> None:
    problems = group_problems(_site_results())
    page = problems[0]
    assert (page.kind, page.target, page.anchor) == (ProblemKind.DOCUMENT, MISSING, "")
    assert page.links == 52 and page.pages == 12
    assert page.result.url == MISSING and page.result.referrers == ()
    assert len(page.fragments) == 50
    assert {loc.link(page.target) for loc in page.locations} >= {MISSING, MISSING + "#v7"}


def test_missing_anchors_on_a_healthy_page_are_one_problem_each_grouped_by_target_page() -> None:
    problems = group_problems(_site_results())
    anchors = [p for p in problems if p.kind is ProblemKind.ANCHOR]
    assert [(p.target, p.anchor, p.links, p.pages) for p in anchors] == [
        (GUIDE, "install", 2, 2),
        (GUIDE, "setup", 1, 1),
    ]
    assert len(problems) == 3


def test_problems_sort_by_pages_affected() -> None:
    assert [p.pages for p in group_problems(_site_results())] == [12, 2, 1]


def test_the_same_document_with_two_causes_is_two_problems() -> None:
    timeout = CheckResult(
        MISSING + "#x", Category.UNVERIFIED, error=None, diagnosis=make("net.timeout"),
        referrers=(Referrer(SITE, 1),),
    )  # fmt: skip
    problems = group_problems([_missing("", (SITE, 2)), timeout])
    assert sorted(p.code for p in problems) == ["http.not-found", "net.timeout"]


def test_counts_and_headline_name_unique_problems_links_and_pages() -> None:
    counts = count_problems(group_problems(_site_results()))
    assert (counts.problems, counts.broken, counts.unverified) == (3, 3, 0)
    assert counts.links == 55
    assert counts.pages == 13  # p0…p11 and index.html
    assert headline(counts) == (
        "3 problems: 1 missing page (linked 52 times from 12 pages), "
        "2 missing anchors (linked 3 times from 2 pages)"
    )


def test_a_start_url_without_referrers_is_one_location() -> None:
    (problem,) = group_problems([_missing("")])
    assert [loc.page for loc in problem.locations] == [START_URL]
    assert problem.links == 1


def test_the_per_page_view_lists_each_page_once_by_line() -> None:
    pages = by_page(group_problems(_site_results()))
    index = next(p for p in pages if p.page == SITE + "index.html")
    assert [(loc.line, problem.anchor) for loc, problem in index.entries] == [(7, "install"), (9, "setup")]
    assert len(pages) == 13


def test_problem_keys_are_stable_and_distinct() -> None:
    first = group_problems(_site_results())
    again = group_problems(reversed(_site_results()))
    assert {p.key for p in first} == {p.key for p in again}
    assert len({p.id for p in first}) == 3


def test_a_results_problem_key_is_read_from_its_url_category_and_code_alone() -> None:
    """What the monitor compares a stored scan by, without its referrers, is the key of the problem the
    whole result is grouped into."""
    timeout = CheckResult(MISSING + "#x", Category.UNVERIFIED, diagnosis=make("net.timeout"))
    bare = CheckResult(SITE + "gone#top", Category.BROKEN, 410)  # no diagnosis: the category is the code
    results = [*_site_results(), timeout, bare, _anchor("", (SITE, 1))]
    problems = [r for r in results if r.category in (Category.BROKEN, Category.UNVERIFIED)]
    keys = [problem_key(r.url, r.category, r.diagnosis.code if r.diagnosis else None) for r in problems]
    assert keys == [group_problems([r])[0].key for r in problems]
    assert set(keys) == {p.key for p in group_problems(results)}


def test_the_module_examples_hold() -> None:
    import doctest

    import linkdoctor.problems

    assert doctest.testmod(linkdoctor.problems).failed == 0
