"""The HTML report in a real headless Chromium: it loads without console errors or requests of its
own; the problems come first, with collapsible referrer lists and filters that work; the documents'
filter shows only the chosen category, search narrows the rows, and sorting reorders them.

Fails (never skips) when Chromium is missing: ``apt-get install chromium``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness.chromium import Page, chromium_page
from tests.unit.report.report_sample import sample_context, sample_report

from linkdoctor.report.html import render_html

VISIBLE_ROWS = "Array.from(document.querySelectorAll('#results tbody tr')).filter(r => !r.hidden)"
VISIBLE_PROBLEMS = "Array.from(document.querySelectorAll('#problems li.problem')).filter(p => !p.hidden)"
ALL_ROWS = "Array.from(document.querySelectorAll('#results tbody tr'))"


@pytest.fixture
def report_file(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(sample_report(), sample_context()), encoding="utf-8")
    return path


@pytest.fixture
async def page(chromium: str, report_file: Path) -> AsyncIterator[Page]:
    async with chromium_page(chromium) as tab:
        await tab.open(report_file.as_uri())
        yield tab


async def visible_categories(page: Page) -> list[str]:
    categories: list[str] = await page.evaluate(f"{VISIBLE_ROWS}.map(r => r.dataset.category)")
    return categories


async def choose(page: Page, value: str) -> None:
    await pick(page, "category-filter", value)


async def column(page: Page, key: str) -> list[str]:
    values: list[str] = await page.evaluate(f"{ALL_ROWS}.map(r => r.dataset.{key})")
    return values


async def click_header(page: Page, key: str) -> None:
    await page.evaluate(f"document.querySelector('th button[data-sort={key}]').click()")


async def test_report_loads_without_console_errors(page: Page) -> None:
    assert await page.evaluate("document.title") == "linkdoctor report: 6 problems, 5 broken of 10 links"
    assert page.problems() == []


async def test_report_makes_no_request_besides_itself(page: Page, report_file: Path) -> None:
    await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert {url.split("#")[0] for url in page.requested_urls()} == {report_file.as_uri()}
    assert await page.evaluate("performance.getEntriesByType('resource').length") == 0


async def visible_problems(page: Page) -> list[str]:
    urls: list[str] = await page.evaluate(f"{VISIBLE_PROBLEMS}.map(p => p.querySelector('.url').textContent)")
    return urls


async def pick(page: Page, select: str, value: str) -> None:
    await page.evaluate(
        f"(() => {{ const s = document.getElementById({select!r});"
        f" s.value = {value!r}; s.dispatchEvent(new Event('change')); }})()"
    )


async def type_in(page: Page, field: str, text: str) -> None:
    await page.evaluate(
        f"(() => {{ const s = document.getElementById({field!r});"
        f" s.value = {text!r}; s.dispatchEvent(new Event('input')); }})()"
    )


async def test_problems_come_first_most_pages_affected_first(page: Page) -> None:
    problems = await visible_problems(page)
    assert len(problems) == 6
    assert problems[0] == "https://docs.example.org/docs/guide.md#install"
    assert await page.evaluate("document.getElementById('problem-count').textContent") == (
        "6 of 6 problems shown"
    )


async def test_a_problems_referrer_list_is_collapsed_until_opened(page: Page) -> None:
    places = "document.querySelector('#problems li.problem details.places')"
    assert await page.evaluate(f"{places}.open") is False
    assert await page.evaluate(f"{places}.querySelector('ul').checkVisibility()") is False
    await page.evaluate(f"{places}.querySelector('summary').click()")
    assert await page.evaluate(f"{places}.querySelector('ul').checkVisibility()") is True
    assert await page.evaluate(f"{places}.querySelectorAll('li').length") == 2


async def test_the_problem_filters_narrow_by_category_kind_and_search(page: Page) -> None:
    await pick(page, "problem-filter", "unverified")
    assert await visible_problems(page) == ["https://slow.example.net/"]
    await pick(page, "problem-filter", "label:missing anchor")
    assert await visible_problems(page) == ["https://docs.example.org/docs/guide.md#install"]
    await pick(page, "problem-filter", "all")
    await type_in(page, "problem-search", "STATUS.example")
    assert await visible_problems(page) == ["https://status.example.com/"]


async def test_documents_with_problems_are_shown_first_by_default(page: Page) -> None:
    assert sorted(await visible_categories(page)) == ["broken"] * 5 + ["unverified"]
    assert await page.evaluate("document.getElementById('shown-count').textContent") == (
        "6 of 6 documents shown (10 in all)"
    )


async def test_choosing_broken_shows_only_broken_rows(page: Page) -> None:
    await choose(page, "broken")
    assert await visible_categories(page) == ["broken"] * 5


async def test_choosing_redirected_shows_the_redirected_row(page: Page) -> None:
    await choose(page, "redirected")
    assert await page.evaluate(f"{VISIBLE_ROWS}.map(r => r.dataset.url)") == [
        "https://docs.example.org/old-page"
    ]


async def test_choosing_all_shows_every_row(page: Page) -> None:
    await choose(page, "all")
    assert len(await visible_categories(page)) == 10


async def test_search_narrows_the_rows(page: Page) -> None:
    await choose(page, "all")
    await type_in(page, "text-filter", "FRAGMENT")
    urls = await page.evaluate(f"{VISIBLE_ROWS}.map(r => r.dataset.url)")
    assert urls == ["https://docs.example.org/docs/guide.md"]


async def test_sorting_by_status_orders_rows_and_a_second_click_reverses(page: Page) -> None:
    await choose(page, "all")
    before = await column(page, "url")
    await click_header(page, "status")
    ascending = [int(s) for s in await column(page, "status")]
    assert ascending == sorted(ascending)
    assert await column(page, "url") != before
    await click_header(page, "status")
    descending = [int(s) for s in await column(page, "status")]
    assert descending == sorted(descending, reverse=True)
    assert await page.evaluate("document.querySelector('th[aria-sort=descending] button').dataset.sort") == (
        "status"
    )


async def test_sorting_by_category_puts_broken_first(page: Page) -> None:
    await choose(page, "all")
    await click_header(page, "rank")
    categories = await column(page, "category")
    assert categories[:5] == ["broken"] * 5
    assert categories[-1] == "excluded"


async def test_sorting_keeps_the_filter(page: Page) -> None:
    await choose(page, "broken")
    await click_header(page, "url")
    assert await visible_categories(page) == ["broken"] * 5
    assert page.problems() == []


async def test_chart_has_one_bar_per_status_class_present(page: Page) -> None:
    bars = await page.evaluate(
        "Array.from(document.querySelectorAll('svg.chart g')).map(g => [g.dataset.class, +g.dataset.count])"
    )
    assert bars == [["2xx", 3], ["3xx", 1], ["4xx", 2], ["5xx", 1], ["no answer", 2], ["not checked", 1]]


@pytest.fixture
def real_run_report(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.md").write_text("[ok](other.md)\n[missing](missing.md)\n", encoding="utf-8")
    (site / "other.md").write_text("# Other\n", encoding="utf-8")
    report = tmp_path / "out.html"
    run = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", str(site), "-o", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    return report


async def test_report_of_a_real_run_loads_cleanly(chromium: str, real_run_report: Path) -> None:
    async with chromium_page(chromium) as tab:
        await tab.open(real_run_report.as_uri())
        assert await tab.evaluate(f"{VISIBLE_ROWS}.length") == 1
        assert tab.problems() == []
