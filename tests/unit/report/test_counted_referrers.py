"""An ok link whose referrers were only counted (``referrer_count``) is shown with its count, never as a
start URL (0 in the HTML's data, shown as "start URL"), in the formats that list ok links (HTML) and in
JSON; JUnit lists problems only."""

from __future__ import annotations

import io
import json

from linkdoctor.models import Category, CheckResult, Referrer, Report, Summary
from linkdoctor.report.context import NO_REFERRER, RenderContext
from linkdoctor.report.html import render_html
from linkdoctor.report.json import write_json
from linkdoctor.report.junit import build_junit

COUNTED = CheckResult("https://e.org/a", Category.OK, 200, referrer_count=3)
START = CheckResult("https://e.org/", Category.OK, 200)
BROKEN = CheckResult("https://e.org/b", Category.BROKEN, 404, referrers=(Referrer("https://e.org/", 2, "B"),))
REPORT = Report(Summary.from_results((START, COUNTED, BROKEN)), (START, COUNTED, BROKEN))
LABEL = "(found 3 times, not listed for ok links: see --all-referrers)"


def test_html_shows_the_count_of_an_ok_links_referrers() -> None:
    html = render_html(REPORT, RenderContext(tool_version="test"))
    data = json.loads(html.split('id="results-data">')[1].split("</script>")[0])
    assert {row[0]: row[6] for row in data} == {
        "https://e.org/": 0,
        "https://e.org/a": 3,
        "https://e.org/b": 1,
    }


def test_junit_lists_problems_only_so_counted_ok_links_appear_nowhere() -> None:
    root = build_junit(REPORT, RenderContext(tool_version="test"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"broken link: https://e.org/b"}
    assert LABEL not in suites and NO_REFERRER not in suites


def test_json_gives_the_count_only_where_referrers_are_not_all_listed() -> None:
    out = io.StringIO()
    write_json(REPORT, out)
    results = {r["url"]: r for r in json.loads(out.getvalue())["results"]}
    assert results["https://e.org/a"]["referrer_count"] == 3 and results["https://e.org/a"]["referrers"] == []
    assert (
        "referrer_count" not in results["https://e.org/b"]
        and "referrer_count" not in results["https://e.org/"]
    )
