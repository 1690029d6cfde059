"""Reports stay small: a generated 500-page documentation site with shared navigation and assets (a
sidebar of 160 links on every page, 81,000 places in all), one missing page linked through 50 fragments
from 17 pages and two missing anchors, checked over HTTP (the places are on 17 pages: pages 0 to 2, with the anchors, are among them). The HTML report stays under 5 MB and works in
headless Chromium (problem and document filters) with the counts of the JSON report version 2, which is
at most a third of version 1. How fast the page opens is measured by ``benchmarks/report_size.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from harness.chromium import Page, chromium_page
from harness.docsite import DocSite, write_docsite
from harness.nginx import NginxFactory
from harness.ports import free_port
from tests.unit.report.report_checks import validate_json_report, validate_json_v1_report

from linkdoctor.cli import cli
from linkdoctor.report.json_v2 import link_verdicts

pytestmark = pytest.mark.nginx

SITE = DocSite(pages=500, changelog_pages=17, nav_pages=40)
HTML_LIMIT = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def reports(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_docsite(SITE, tmp_path_factory.mktemp("docsite") / "site")
    server = nginx_factory(f"server {{ listen 127.0.0.1:{free_port()}; root {root}; }}", "docsite")
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(
        cli,
        [
            "check", "--no-progress", "--retries", "0", server.url("/"),
            "-o", str(out / "r.html"), "-o", str(out / "r.json"), "--format", f"json-v1:{out / 'r1.json'}",
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    return out


def test_the_run_finds_the_three_problems_among_many_places(reports: Path) -> None:
    document = validate_json_report((reports / "r.json").read_text(encoding="utf-8"))
    counts = document["problem_counts"]
    assert (counts["problems"], counts["links"], counts["pages"]) == (3, 103, 17)
    assert document["summary"]["pages_crawled"] == 504  # 500 pages, / and index.html, the guide, the CSS


def test_the_html_report_stays_under_5_mb(reports: Path) -> None:
    assert (reports / "r.html").stat().st_size <= HTML_LIMIT


def test_json_version_2_is_at_most_a_third_of_version_1(reports: Path) -> None:
    version_1 = reports / "r1.json"
    version_2 = reports / "r.json"
    validate_json_v1_report(version_1.read_text(encoding="utf-8"))
    assert version_2.stat().st_size * 3 <= version_1.stat().st_size


@pytest.fixture
async def page(chromium: str, reports: Path) -> AsyncIterator[Page]:
    async with chromium_page(chromium) as tab:
        await tab.open((reports / "r.html").as_uri())
        yield tab


async def test_the_html_report_opens_with_the_counts_of_json_v2(page: Page, reports: Path) -> None:
    document = json.loads((reports / "r.json").read_text(encoding="utf-8"))
    shown = await page.evaluate(
        "(() => { const h = document.getElementById('headline');"
        " return [h.textContent, +h.dataset.problems, +h.dataset.links, +h.dataset.pages, +h.dataset.results]; })()"
    )
    counts = document["problem_counts"]
    assert shown == [
        counts["headline"],
        counts["problems"],
        counts["links"],
        counts["pages"],
        len(document["results"]),
    ]
    assert await page.evaluate("document.querySelectorAll('#problems li.problem').length") == 3
    assert page.problems() == []


async def test_the_filters_work_on_the_big_report(page: Page, reports: Path) -> None:
    document = json.loads((reports / "r.json").read_text(encoding="utf-8"))
    await page.evaluate(
        "(() => { const s = document.getElementById('problem-filter'); s.value = 'label:missing anchor';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    visible = "Array.from(document.querySelectorAll('#problems li.problem')).filter(p => !p.hidden).length"
    assert await page.evaluate(visible) == 2
    with_problems = sum(1 for r in document["results"] if any(c == "broken" for _, c in link_verdicts(r)))
    assert await page.evaluate("document.querySelectorAll('#results tbody tr').length") == with_problems
    await page.evaluate(
        "(() => { const s = document.getElementById('category-filter'); s.value = 'all';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    rows = await page.evaluate("document.querySelectorAll('#results tbody tr').length")
    assert rows == min(500, len(document["results"]))  # the first page of rows; "Show more" adds the rest
    await page.evaluate("document.getElementById('show-more').click()")
    assert await page.evaluate("document.querySelectorAll('#results tbody tr').length") == len(
        document["results"]
    )
    await page.evaluate(
        "(() => { const s = document.getElementById('text-filter'); s.value = 'changelog';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    assert await page.evaluate(
        "Array.from(document.querySelectorAll('#results tbody tr')).map(r => r.dataset.category)"
    ) == ["broken"]
