"""Specs for each report format's behaviour beyond its golden file: what rows, suites, results and
annotations are made of, and that text from crawled pages cannot break out of any format."""

from __future__ import annotations

import base64
import csv
import doctest
import hashlib
import importlib
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode
from tests.unit.report.report_checks import (
    validate_json_report,
    validate_json_v1_report,
    validate_jsonl_report,
    validate_junit,
    validate_sarif,
)
from tests.unit.report.report_sample import GUIDE, SITE, sample_context, sample_report

from linkdoctor.classify import codes
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.models import Category, CheckResult, ErrorKind, Referrer, Report, Summary
from linkdoctor.report.context import RenderContext, status_class
from linkdoctor.report.formats import EXTENSIONS, FORMAT_NAMES, FORMATS, format_for_path, format_named
from linkdoctor.report.github import annotation_lines
from linkdoctor.report.html import render_html
from linkdoctor.report.junit import build_junit
from linkdoctor.report.markdown import render_markdown
from linkdoctor.report.sarif import report_to_sarif

DOCTEST_MODULES = ["context", "formats", "github", "json_pieces", "markdown", "outputs", "sarif_log"]


def first(node: LexborHTMLParser | LexborNode, selector: str) -> LexborNode:
    found = node.css_first(selector)
    assert found is not None, f"no {selector}"
    return found


def render(name: str, report: Report | None = None, context: RenderContext | None = None) -> str:
    out = io.StringIO()
    FORMATS[name].write(report or sample_report(), out, context or sample_context())
    return out.getvalue()


def one_broken(referrer_url: str, line: int | None = 3, text: str = "link") -> Report:
    result = CheckResult(
        "https://example.org/gone",
        Category.BROKEN,
        status=404,
        diagnosis=codes.make("http.not-found"),
        referrers=(Referrer(referrer_url, line, text),),
    )
    return Report(Summary.from_results([result]), (result,))


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(f"linkdoctor.report.{name}"))
    assert result.attempted > 0
    assert result.failed == 0


# Registry


@pytest.mark.parametrize(
    ("extension", "name"),
    [
        (".json", "json"),
        (".jsonl", "jsonl"),
        (".csv", "csv"),
        (".xml", "junit"),
        (".md", "markdown"),
        (".sarif", "sarif"),
        (".html", "html"),
        (".txt", "console"),
    ],
)
def test_extension_names_its_format(extension: str, name: str) -> None:
    assert EXTENSIONS[extension] == name
    assert format_for_path(Path("out/report" + extension.upper())).name == name


def test_format_names_are_case_insensitive() -> None:
    assert format_named("SARIF").name == "sarif"


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_renders_an_empty_report(name: str) -> None:
    empty = Report(Summary(), ())
    text = render(name, empty, RenderContext())
    validators = {
        "json": validate_json_report,
        "json-v1": validate_json_v1_report,
        "jsonl": validate_jsonl_report,
        "junit": validate_junit,
        "sarif": validate_sarif,
    }
    if name in validators:
        validators[name](text)
    if name not in ("jsonl", "github"):
        assert text


# Context: where referrers live on disk


def test_base_url_referrer_maps_to_its_file_relative_to_root() -> None:
    assert sample_context().source_path(GUIDE) == "docs/guide.md"


def test_folder_url_maps_to_its_index_file() -> None:
    assert sample_context().source_path("https://docs.example.org/") == "index.html"


def test_file_url_referrer_maps_to_its_path(tmp_path: Path) -> None:
    page = tmp_path / "docs" / "a b.md"
    context = RenderContext(root=tmp_path)
    assert context.source_path(page.as_uri()) == "docs/a b.md"


def test_file_outside_root_keeps_its_absolute_path(tmp_path: Path) -> None:
    context = RenderContext(root=tmp_path / "project")
    assert context.source_path((tmp_path / "elsewhere.md").as_uri()) == f"{tmp_path}/elsewhere.md"


def test_remote_referrer_has_no_file() -> None:
    assert sample_context().source_path("https://partner.example.net/links.html") is None


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CheckResult("u", Category.OK, status=204), "2xx"),
        (CheckResult("u", Category.BROKEN, status=400, precise_status=496), "4xx"),
        (CheckResult("u", Category.OK), "local file"),
        (CheckResult("u", Category.BROKEN, error=ErrorKind.FILE_MISSING), "missing file"),
        (CheckResult("u", Category.BROKEN, error=ErrorKind.DNS), "no answer"),
        (CheckResult("u", Category.EXCLUDED, error=ErrorKind.FILTERED), "not checked"),
    ],
)
def test_status_class(result: CheckResult, expected: str) -> None:
    assert status_class(result) == expected


# CSV


def test_csv_has_one_row_per_problem_and_referring_place() -> None:
    rows = list(csv.DictReader(io.StringIO(render("csv"))))
    pairs = [(row["url"], row["file"] or row["page"], row["line"]) for row in rows]
    assert len(rows) == 7  # the six broken places and the unverified one
    assert [row["link"] for row in rows[:2]] == ["docs/guide.md#install", "../docs/guide.md#install"]
    assert len({row["problem"] for row in rows}) == 6
    assert ("https://docs.example.org/docs/guide.md#install", "index.html", "7") in pairs
    assert ("https://docs.example.org/docs/guide.md#install", "blog/post.html", "3") in pairs
    assert {row["code"] for row in rows} >= {"tls.client-cert-required", "http.fragment-missing"}


def test_csv_neutralises_cells_a_spreadsheet_would_run() -> None:
    report = one_broken("https://example.org/page", text='=HYPERLINK("http://evil")')
    row = next(csv.DictReader(io.StringIO(render("csv", report, RenderContext()))))
    assert row["text"] == '\'=HYPERLINK("http://evil")'


# JUnit


def test_junit_has_a_suite_per_problem_and_a_case_per_referring_place() -> None:
    root = build_junit(sample_report(), sample_context())
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    fragment = "https://docs.example.org/docs/guide.md#install"
    assert len(suites) == 6
    cases = list(suites[f"missing anchor: {fragment}"].iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("index.html", f"{fragment} (line 7)"),
        ("blog/post.html", f"{fragment} (line 3)"),
    ]


def test_junit_failures_are_typed_by_diagnosis_and_others_skipped() -> None:
    root = build_junit(sample_report(), sample_context())
    failures = [f.get("type", "") for f in root.iter("failure")]
    assert sorted(failures) == sorted(
        [
            "tls.client-cert-required",
            "http.fragment-missing",
            "http.fragment-missing",
            "http.not-found",
            "http.unavailable",
            "broken",
        ]
    )
    assert len(list(root.iter("skipped"))) == 1  # the unverified link; links that work are only counted
    assert root.get("tests") == "7"
    assert root.get("failures") == "6"


def test_junit_replaces_characters_xml_cannot_carry() -> None:
    text = render("junit", one_broken("https://example.org/p", text="bell\x07 and \x00nul"))
    validate_junit(text)
    assert "bell\ufffd and \ufffdnul" in ET.fromstring(text.encode()).find(".//failure").text  # type: ignore[union-attr, operator]


# Markdown


def test_markdown_has_a_section_per_problem_most_pages_first() -> None:
    text = render_markdown(sample_report(), sample_context())
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert len(headings) == 6
    assert headings[0] == (
        "#### ❌ Missing anchor: `https://docs.example.org/docs/guide.md#install` (`http.fragment-missing`)"
    )
    assert "| `blog/post.html` | 3 | `../docs/guide.md#install` | the install guide |" in text


def test_markdown_folds_places_past_the_first_ten() -> None:
    refs = tuple(Referrer(f"https://e.org/p{i:02}.html", i + 1, "x") for i in range(25))
    result = CheckResult("https://e.org/gone", Category.BROKEN, 404, diagnosis=codes.make("http.not-found"),
                         referrers=refs)  # fmt: skip
    text = render_markdown(Report(Summary.from_results([result]), (result,)), RenderContext())
    assert "<details><summary>15 more places</summary>" in text
    assert text.count("| `https://e.org/p") == 25


def test_markdown_escapes_link_text_from_pages() -> None:
    text = render_markdown(one_broken("https://e.org/p", text="<img src=x> | *bold* [x](y)"), RenderContext())
    row = next(line for line in text.splitlines() if "example.org/gone" in line and line.startswith("| "))
    assert "&lt;img src=x&gt; \\| \\*bold\\* \\[x\\](y)" in row
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # still exactly four cells


def test_markdown_without_broken_links_says_so() -> None:
    assert render_markdown(Report(Summary(total=3, ok=3), ()), RenderContext()).startswith(
        "## linkdoctor: ✅ no problems\n"
    )


# SARIF


def test_sarif_locates_local_referrers_at_file_and_line() -> None:
    sarif = report_to_sarif(sample_report(), sample_context())
    first = sarif["runs"][0]["results"][2]
    assert first["ruleId"] == "tls.client-cert-required"
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "docs/guide.md", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12},
            }
        }
    ]


def test_sarif_gives_the_link_as_written_and_paths_relative_to_the_repository(tmp_path: Path) -> None:
    site = LocalSite(SITE.resolve(), "https://docs.example.org/")
    context = RenderContext(sites=(site,), root=SITE / "docs", repo_root=SITE.parents[3])
    results = report_to_sarif(sample_report(), context)["runs"][0]["results"]
    located = results[1]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert located == {"uri": "tests/fixtures/report/site/blog/post.html", "uriBaseId": "%SRCROOT%"}
    assert results[1]["properties"]["link"] == "../docs/guide.md#install"
    assert "../docs/guide.md#install" in results[1]["message"]["text"]


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_writes_a_local_referrer_whose_name_holds_a_nul(name: str) -> None:
    # A report built by a library caller can name any page: the system cannot resolve a path holding a
    # NUL, and the file is shown escaped instead of the whole report failing.
    site = LocalSite(SITE.resolve(), "https://docs.example.org/")
    context = RenderContext(sites=(site,), root=SITE, repo_root=SITE.parents[3])
    text = render(name, one_broken("https://docs.example.org/a%00b.md"), context)
    assert "\x00" not in text  # never the raw byte
    where = {"sarif": '"uri": "tests/fixtures/report/site/a%00b.md"', "github": "site/a\\x00b.md,line=3"}
    assert where.get(name, "") in text


@pytest.mark.parametrize("name", FORMAT_NAMES)
@pytest.mark.parametrize(
    ("target", "page"), [("http://[x]/", "https://e.org/p"), ("https://e.org/", "http://[x]/")]
)
def test_every_format_writes_a_link_or_page_urlsplit_refuses(name: str, target: str, page: str) -> None:
    # A page's link "http://[x]/" is reported as url.invalid under the URL as written, which urlsplit refuses
    # (brackets around no IP address): the report is written, not lost to a ValueError.
    result = CheckResult(
        target,
        Category.BROKEN,
        error=ErrorKind.INVALID_URL,
        diagnosis=codes.make("url.invalid", "malformed URL"),
        referrers=(Referrer(page, 3, "x"),),
    )
    text = render(name, Report(Summary.from_results([result]), (result,)), RenderContext())
    assert "[x]" in text


HOSTILE = "\x1b[2J\x1b]0;owned\x07\u202e\u2028"


@pytest.mark.parametrize("name", ["console", "csv", "markdown", "github"])
def test_text_formats_show_what_a_site_sends_without_a_control_or_bidi_character(name: str) -> None:
    # A terminal, a CI log or an editor runs or reorders these: each is shown as \xNN or \uNNNN instead.
    result = CheckResult(
        "https://e.org/a",
        Category.BROKEN,
        status=404,
        reason="Gone" + HOSTILE,
        error=ErrorKind.OTHER,
        error_message="failed" + HOSTILE,
        referrers=(Referrer("https://e.org/p", 3, "text" + HOSTILE),),
    )
    report = Report(Summary.from_results([result], warnings=("careful" + HOSTILE,)), (result,))
    text = render(name, report, RenderContext(verbose=True))
    assert not set(text) & {"\x1b", "\x07", "\u202e", "\u2028"}
    assert "x1b" in text  # shown, escaped as the format escapes a backslash


def test_the_console_prints_a_reason_phrase_as_sent_not_as_an_emoji() -> None:
    result = CheckResult("https://e.org/a", Category.BROKEN, status=404, reason=":skull:", referrers=())
    assert ":skull:" in render("console", Report(Summary.from_results([result]), (result,)))


@pytest.mark.parametrize("group_by", ["problem", "page"])
def test_the_console_prints_backslashes_and_brackets_from_outside_as_they_are(group_by: str) -> None:
    # Markup would halve backslashes before a tag, or read "[/]" as one: outside text is never markup.
    result = CheckResult(
        "https://e.org/a\\\\",
        Category.BROKEN,
        status=404,
        reason="x[/]\\",
        referrers=(Referrer("https://e.org/p\\\\", 3, "t"),),
    )
    text = render(
        "console", Report(Summary.from_results([result]), (result,)), RenderContext(group_by=group_by)
    )
    assert "https://e.org/p\\\\" in text
    assert "x[/]\\\n" in text
    assert ("https://e.org/a\\\\  " if group_by == "problem" else "a\\\\  ") in text


def test_a_jsonl_record_stays_one_line_for_every_reader() -> None:
    result = CheckResult(
        "https://e.org/a", Category.BROKEN, status=404, reason="a\u2028b\x85c\u2029", referrers=()
    )
    text = render("jsonl", Report(Summary.from_results([result]), (result,)))
    assert len(text.splitlines()) == 1
    assert json.loads(text)["reason"] == "a\u2028b\x85c\u2029"


def test_sarif_locates_a_file_url_outside_the_root_absolutely(tmp_path: Path) -> None:
    page = tmp_path / "other dir" / "page.md"
    sarif = report_to_sarif(one_broken(page.as_uri()), RenderContext(root=tmp_path / "project"))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": page.as_uri()}
    assert location["region"] == {"startLine": 3}


def test_sarif_locates_a_remote_page_by_its_url() -> None:
    sarif = report_to_sarif(one_broken("https://partner.example/links", line=None), RenderContext())
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "https://partner.example/links"}}


def test_sarif_rules_are_diagnosis_codes_with_catalogue_help() -> None:
    run = report_to_sarif(sample_report(), sample_context())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    rule = next(r for r in rules if r["id"] == "http.unavailable")
    entry = codes.info("http.unavailable")
    assert rule["shortDescription"]["text"] == entry.title
    assert entry.explanation in rule["help"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_fingerprints_tell_pages_apart() -> None:
    results = report_to_sarif(sample_report(), sample_context())["runs"][0]["results"]
    prints = [r["partialFingerprints"]["linkdoctorLink/v1"] for r in results]
    assert len(set(prints)) == len(prints)


def test_sarif_of_a_real_file_site_validates(tmp_path: Path) -> None:
    site = LocalSite(SITE.resolve(), "https://docs.example.org/")
    text = render("sarif", sample_report(), RenderContext(sites=(site,), root=Path("/")))
    results = validate_sarif(text)["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "tests/fixtures/report/site/index.html"
    )


# GitHub annotations


def test_annotations_escape_messages_and_properties(tmp_path: Path) -> None:
    page = tmp_path / "a,b:c.md"
    result = CheckResult(
        "https://example.org/100%\nx",
        Category.BROKEN,
        status=404,
        diagnosis=codes.make("http.not-found"),
        referrers=(Referrer(page.as_uri(), 2, ""),),
    )
    (line,) = annotation_lines(
        Report(Summary.from_results([result]), (result,)), RenderContext(root=tmp_path)
    )
    assert line.startswith("::error file=a%2Cb%3Ac.md,line=2,title=Missing page (http.not-found)::")
    assert "100%25%0Ax" in line
    assert "\n" not in line


# HTML


def test_html_pins_its_inline_style_and_script_by_hash() -> None:
    tree = LexborHTMLParser(render_html(sample_report(), sample_context()))
    csp = first(tree, "meta[http-equiv=Content-Security-Policy]").attributes["content"] or ""
    for tag, directive in (("style", "style-src"), ("script:not([type])", "script-src")):
        nodes = tree.css(tag)
        assert len(nodes) == 1
        body = nodes[0].text(deep=True)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


def test_html_loads_nothing_from_elsewhere() -> None:
    tree = LexborHTMLParser(render_html(sample_report(), sample_context()))
    assert not tree.css("[src], link, img, iframe, object, embed")
    assert not any((node.attributes.get("href") or "").startswith("javascript:") for node in tree.css("a"))


def test_html_escapes_everything_from_pages() -> None:
    html = render_html(sample_report(), sample_context())
    assert html.count("<script") == 2  # the page's script and its data block
    assert html.count('<script type="application/json"') == 1
    assert "&lt;b&gt;evil&lt;/b&gt;" in html  # a link's text, in its place's tooltip
    data = html.split('<script type="application/json" id="results-data">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data  # nothing from a page can close the data block
    assert json.loads(data)[5][0] == "https://example.com/a|b<script>`x`"


def test_html_has_a_card_per_problem_with_its_cause_fix_and_referring_places() -> None:
    tree = LexborHTMLParser(render_html(sample_report(), sample_context()))
    cards = tree.css("#problems li.problem")
    assert len(cards) == 6
    private = next(c for c in cards if c.attributes["data-code"] == "tls.client-cert-required")
    assert "none was sent" in first(private, ".cause").text()
    link = first(private, "p.fix a").attributes["href"]
    assert link == "#fix-tls.client-cert-required"
    steps = tree.css("#fixes dt[id='fix-tls.client-cert-required'] + dd li")
    assert [li.text() for li in steps] == list(codes.info("tls.client-cert-required").fix)
    anchor = cards[0]
    assert anchor.attributes["data-pages"] == "2" and anchor.attributes["data-links"] == "2"
    places = [li.text(deep=True) for li in anchor.css("details.places li")]
    assert places == ["index.html :7", "blog/post.html :3"]


def test_html_lists_a_problems_first_hundred_pages_and_counts_the_rest() -> None:
    refs = tuple(Referrer(f"https://e.org/p{i:03}.html", 1, "x") for i in range(130))
    result = CheckResult("https://e.org/gone", Category.BROKEN, 404, diagnosis=codes.make("http.not-found"),
                         referrers=refs)  # fmt: skip
    tree = LexborHTMLParser(render_html(Report(Summary.from_results([result]), (result,)), RenderContext()))
    items = tree.css("#problems details.places li")
    assert len(items) == 101
    assert items[-1].text() == "+30 more pages (the JSON report lists all)"
    assert first(tree, "#problems li.problem").attributes["data-pages"] == "130"


def test_html_lists_each_target_document_once_in_its_data_block() -> None:
    html = render_html(sample_report(), sample_context())
    data = json.loads(html.split('id="results-data">')[1].split("</script>")[0])
    assert [row[0] for row in data] == [r["url"] for r in json.loads(render("json"))["results"]]
    guide = next(row for row in data if row[0] == "https://docs.example.org/docs/guide.md")
    assert guide[1:3] == ["broken", "200"] and guide[5] == "http.fragment-missing"


def test_html_summary_counts_categories_and_diagnoses() -> None:
    tree = LexborHTMLParser(render_html(sample_report(), sample_context()))
    categories = {
        first(row, "th").text(strip=True): first(row, "td").text() for row in tree.css("#category-counts tr")
    }
    assert categories == {"broken": "5", "unverified": "1", "redirected": "1", "ok": "2", "excluded": "1"}
    kinds = [first(row, "th").text() for row in tree.css("#problem-counts tbody tr")]
    assert kinds[0] == "missing anchor" and len(kinds) == 6


def test_json_and_html_agree_on_the_counts() -> None:
    document = json.loads(render("json"))
    tree = LexborHTMLParser(render("html"))
    counts = first(tree, "#headline").attributes
    assert counts["data-problems"] == str(document["problem_counts"]["problems"])
    assert counts["data-links"] == str(document["problem_counts"]["links"])
    assert counts["data-pages"] == str(document["problem_counts"]["pages"])
    assert counts["data-results"] == str(len(document["results"]))
    assert first(tree, "#headline").text() == document["problem_counts"]["headline"]
    assert re.search(r"6 problems, 5 broken of 10 links", first(tree, "title").text())
