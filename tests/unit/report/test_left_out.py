"""What a run left out on purpose (``Summary.left_out``: traps, caps, budgets, pages cut at --max-body) is
shown by every format that has a summary, as one counted line per reason with its code, never silently."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from tests.unit.report.report_checks import validate_json_report, validate_junit, validate_sarif
from tests.unit.report.report_sample import sample_context, sample_report

from linkdoctor.models import LeftOut, Report
from linkdoctor.report.formats import FORMAT_NAMES, FORMATS

LEFT_OUT = (
    LeftOut(
        "crawl.time-budget",
        1234,
        "URLs not checked: --max-time ended the run (--max-time 60s)",
        ("https://docs.example.org/late",),
    ),
    LeftOut(
        "crawl.query-cap",
        56789,
        "links left out: one path came with more distinct query strings than --max-queries allows",
        ("https://docs.example.org/search?q=1",),
    ),
)
# jsonl streams results and has no summary; every other format shows the lines.
WITH_SUMMARY = tuple(name for name in FORMAT_NAMES if name != "jsonl")


def report_with_left_out() -> Report:
    report = sample_report()
    return replace(report, summary=replace(report.summary, left_out=LEFT_OUT))


def render(name: str, report: Report) -> str:
    out = io.StringIO()
    FORMATS[name].write(report, out, sample_context())
    return out.getvalue()


@pytest.mark.parametrize("name", WITH_SUMMARY)
def test_every_format_shows_each_left_out_group_with_its_code_and_count(name: str) -> None:
    text = render(name, report_with_left_out())
    for item in LEFT_OUT:
        assert item.code in text, name
        assert f"{item.count:,}" in text or str(item.count) in text, name
    assert "--max-time ended the run" in text, name


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_run_that_left_nothing_out_shows_no_left_out_line(name: str) -> None:
    assert "crawl." not in render(name, sample_report())


def test_the_json_summary_lists_the_groups_in_order() -> None:
    document = validate_json_report(render("json", report_with_left_out()))
    assert [(g["code"], g["count"]) for g in document["summary"]["left_out"]] == [
        ("crawl.time-budget", 1234),
        ("crawl.query-cap", 56789),
    ]


def test_the_sarif_log_has_a_warning_per_group_and_a_rule_for_each_code() -> None:
    (run,) = validate_sarif(render("sarif", report_with_left_out()))["runs"]
    warnings = [r for r in run["results"] if r["level"] == "warning" and r["ruleId"].startswith("crawl.")]
    assert [w["ruleId"] for w in warnings] == ["crawl.time-budget", "crawl.query-cap"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    for warning in warnings:
        assert rules[warning["ruleId"]]["defaultConfiguration"]["level"] == "warning"
        assert run["tool"]["driver"]["rules"][warning["ruleIndex"]]["id"] == warning["ruleId"]


def test_the_junit_report_counts_each_group_as_a_skipped_case() -> None:
    text = render("junit", report_with_left_out())
    validate_junit(text)
    assert '<testsuite name="(left out)" tests="2" failures="0" errors="0" skipped="2"' in text
