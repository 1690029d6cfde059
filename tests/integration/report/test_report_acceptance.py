"""Reports that read like a diagnosis, end to end: one run of ``linkdoctor check`` over a generated
documentation site, every format written, and each must tell the same three problems with the same
counts; the console stays short whatever the number of referrers; the reports stay small.

The site (``harness/docsite.py``): one missing page (``changelog.html``) linked through 50 different fragments
from 12 pages (100 places), and 2 anchors missing on a page that is fine (``guide.html#install`` from 2
pages, ``#setup`` from 1), under a shared navigation and shared assets. It is checked over HTTP (nginx)
and as local files (SARIF and annotations then name repository-relative files).
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from harness.docsite import GUIDE, MISSING_PAGE, DocSite, write_docsite
from harness.nginx import NginxFactory
from harness.ports import free_port
from selectolax.lexbor import LexborHTMLParser
from tests.unit.report.report_checks import validate_json_report, validate_junit, validate_sarif

from linkdoctor.cli import cli

pytestmark = pytest.mark.nginx

OUTPUTS = ("r.json", "r.csv", "r.xml", "r.md", "r.sarif", "r.html", "r.txt")
# (problem URL ending, places, pages), most pages affected first
EXPECTED = [(MISSING_PAGE, 100, 12), (f"{GUIDE}#install", 2, 2), (f"{GUIDE}#setup", 1, 1)]
HEADLINE = "3 problems: 1 missing page (linked 100 times from 12 pages), 2 missing anchors (linked 3 times from 3 pages)"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", "--no-progress", "--retries", "0", *args])
    return result.exit_code, result.stdout, result.stderr


def serve(nginx_factory: NginxFactory, root: Path) -> str:
    server = nginx_factory(f"server {{ listen 127.0.0.1:{free_port()}; root {root}; }}", "docs")
    return server.url("/")


@pytest.fixture(params=["http", "files"])
def run(
    request: pytest.FixtureRequest,
    nginx_factory: NginxFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Every format of one run; ``github`` is the annotations printed on stdout."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    site = write_docsite(DocSite(), repo / "docs" / "site")
    work = repo / "docs"
    monkeypatch.chdir(work)  # SARIF and annotations name files relative to the repository, not here
    target = serve(nginx_factory, site) if request.param == "http" else "site"
    args = [arg for name in OUTPUTS for arg in ("-o", name)]
    code, out, err = invoke(target, *args, "--format", "github")
    assert code == 2, err
    return {name: (work / name).read_text(encoding="utf-8") for name in OUTPUTS} | {
        "github": out,
        "mode": str(request.param),
    }


def by_problem(counts: dict[str, tuple[int, int]]) -> list[tuple[str, int, int]]:
    """(URL ending as in EXPECTED, places, pages), most pages first."""
    found = []
    for url, (places, pages) in counts.items():
        ending = next(e for e, *_ in EXPECTED if url.endswith(e))
        found.append((ending, places, pages))
    return sorted(found, key=lambda item: (-item[2], -item[1]))


def test_the_console_tells_three_problems(run: dict[str, str]) -> None:
    text = run["r.txt"]
    assert text.count("\n✗ ") == 3
    heads = [line for line in text.splitlines() if line.startswith("✗ ")]
    assert heads[0].split("  ")[1].endswith(MISSING_PAGE)
    assert [h.split("  ")[1].rpartition("/")[2] for h in heads[1:]] == [f"{GUIDE}#install", f"{GUIDE}#setup"]
    assert "  linked 100 times from 12 pages through 50 #fragments:" in text
    assert "  linked 2 times from 2 pages:" in text
    assert "  linked once from 1 page:" in text
    assert HEADLINE in text


def test_json_v2_has_three_problems_and_the_fragments_inside_their_page(run: dict[str, str]) -> None:
    document = validate_json_report(run["r.json"])
    problems = document["problems"]
    assert by_problem({p["target"] + (f"#{p['anchor']}" if "anchor" in p else ""): (p["links"], p["pages"])
                       for p in problems}) == EXPECTED  # fmt: skip
    assert document["problem_counts"]["headline"] == HEADLINE
    changelog = document["results"][problems[0]["result"]]
    assert changelog["url"].endswith(MISSING_PAGE)
    assert len({link["fragment"] for link in changelog["links"]}) == 50
    assert sum(len(link["referrers"]) for link in changelog["links"]) == 100


def test_csv_has_a_row_per_problem_and_place(run: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run["r.csv"])))
    places = Counter(row["problem"] for row in rows)
    pages: dict[str, set[str]] = {}
    targets: dict[str, str] = {}
    for row in rows:
        pages.setdefault(row["problem"], set()).add(row["page"])
        targets[row["problem"]] = row["target"] + (
            "#" + row["url"].partition("#")[2] if row["code"].endswith("anchor-missing") or
            row["code"].endswith("fragment-missing") else ""
        )  # fmt: skip
    assert by_problem({targets[p]: (places[p], len(pages[p])) for p in places}) == EXPECTED


def test_junit_has_a_suite_per_problem_with_a_case_per_place(run: dict[str, str]) -> None:
    validate_junit(run["r.xml"])
    suites = ET.fromstring(run["r.xml"].encode()).findall("testsuite")
    counts = {
        suite.get("name", "").partition(": ")[2]: (
            int(suite.get("tests", "0")),
            len({case.get("classname") for case in suite.iter("testcase")}),
        )
        for suite in suites
    }
    assert by_problem(counts) == EXPECTED
    assert all(suite.get("failures") == suite.get("tests") for suite in suites)


def test_markdown_has_a_section_per_problem(run: dict[str, str]) -> None:
    text = run["r.md"]
    assert text.startswith(f"## linkdoctor: ❌ {HEADLINE}\n")
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert len(headings) == 3
    sections = text.split("#### ")[1:]
    rows = [len(re.findall(r"^\| `", section, re.MULTILINE)) for section in sections]
    assert rows == [100, 2, 1]
    assert "<details><summary>90 more places</summary>" in sections[0]


def _sarif_results(run: dict[str, str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = validate_sarif(run["r.sarif"])["runs"][0]["results"]
    return results


def test_sarif_has_a_result_per_problem_and_place(run: dict[str, str]) -> None:
    results = _sarif_results(run)
    places: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        places.setdefault(result["properties"]["problem"], []).append(result)
    counts = {}
    for entries in places.values():
        url = entries[0]["properties"]["target"]
        if entries[0]["ruleId"].endswith(("anchor-missing", "fragment-missing")):
            url = entries[0]["properties"]["url"]
        uris = {e["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for e in entries}
        counts[url] = (len(entries), len(uris))
    assert by_problem(counts) == EXPECTED


def test_sarif_and_annotations_name_repository_files_and_the_link_as_written(run: dict[str, str]) -> None:
    results = _sarif_results(run)
    first = next(r for r in results if r["properties"]["url"].endswith(f"{MISSING_PAGE}#v0"))
    assert first["properties"]["link"] == f"{MISSING_PAGE}#v0"
    assert f"{MISSING_PAGE}#v0" in first["message"]["text"]
    annotations = [line for line in run["github"].splitlines() if line.startswith("::error")]
    assert len(annotations) == 103
    if run["mode"] == "files":
        location = first["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "docs/site/p0.html", "uriBaseId": "%SRCROOT%"}
        assert any(line.startswith("::error file=docs/site/p0.html,line=") for line in annotations)
    titles = Counter(line.partition("title=")[2].partition("::")[0] for line in annotations)
    assert sorted(titles.values()) == [3, 100]


def test_html_shows_three_problems_with_the_counts_of_json_v2(run: dict[str, str]) -> None:
    tree = LexborHTMLParser(run["r.html"])
    cards = tree.css("#problems li.problem")
    counts = {
        " ".join(url.text() for url in card.css(".url")): (
            int(card.attributes["data-links"] or 0),
            int(card.attributes["data-pages"] or 0),
        )
        for card in cards
    }
    assert by_problem(counts) == EXPECTED
    headline = tree.css_first("#headline")
    assert headline is not None and headline.text() == HEADLINE
    document = json.loads(run["r.json"])
    for key in ("problems", "links", "pages"):
        assert headline.attributes[f"data-{key}"] == str(document["problem_counts"][key])
    assert headline.attributes["data-results"] == str(len(document["results"]))


def console_lines(root: Path, pages: int) -> list[str]:
    spec = DocSite(pages=pages, nav_pages=10, extra_broken=("old/a.html", "old/b.html", "old/c.html"))
    write_docsite(spec, root)
    code, out, _ = invoke(str(root), "--format", "console")
    assert code == 2
    return out.splitlines()


def test_a_handful_of_problems_fits_the_console_in_about_150_lines(tmp_path: Path) -> None:
    """Six problems, three of them linked from every page's sidebar: the default console report is as
    long for 400 pages (1,300 places) as for 20."""
    small = console_lines(tmp_path / "small", 20)
    large = console_lines(tmp_path / "large", 400)
    assert len(large) <= 150
    assert len(large) == len(small)
    assert len([line for line in large if line.startswith("✗ ")]) == 6
    assert large[-1].startswith("6 problems: 4 missing pages (linked 1,309 times from 403 pages), ")
    assert "    +398 more pages (--verbose lists all)" in large
