"""Honest truncation: a page cut at --max-body is ok (the link works) with the ``http.body-truncated``
warning, and every report format says so, how much was read, and that links past the cut were not checked.
A gzip bomb is cut the same way, after decompression."""

from __future__ import annotations

import io
import json

from tests.support.hostile import HostileServer

from linkdoctor.config import CheckConfig
from linkdoctor.engine.http.inflate import BOMB_FLOOR
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import Category, Report
from linkdoctor.report.context import RenderContext
from linkdoctor.report.formats import FORMATS

MAX_BODY = 1024 * 1024
CONFIG = CheckConfig(retries=0, max_body=MAX_BODY, respect_robots=False)
CUT = "links past the cut were not checked"


async def cut_report(server: HostileServer, path: str) -> Report:
    return await check_async(CONFIG, collect_inputs([server.url(path)]))


def render(report: Report, name: str) -> str:
    out = io.StringIO()
    FORMATS[name].write(report, out, RenderContext())
    return out.getvalue()


async def test_a_page_cut_at_max_body_is_ok_with_a_warning_that_says_how_much_was_read(
    hostile_server: HostileServer,
) -> None:
    report = await cut_report(hostile_server, "/endless")
    result = next(r for r in report.results if r.url == hostile_server.url("/endless"))
    assert result.category is Category.OK
    assert result.diagnosis is not None and result.diagnosis.code == "http.body-truncated"
    assert f"read the first {MAX_BODY:,} bytes" in result.diagnosis.summary
    assert CUT in result.diagnosis.summary
    (line,) = report.summary.left_out
    assert (line.code, line.count, line.examples) == (
        "http.body-truncated",
        1,
        (hostile_server.url("/endless"),),
    )


async def test_a_gzip_bomb_is_cut_early_as_a_bomb(hostile_server: HostileServer) -> None:
    report = await cut_report(hostile_server, "/gzip-bomb")
    result = next(r for r in report.results if r.url == hostile_server.url("/gzip-bomb"))
    assert result.category is Category.OK
    assert result.diagnosis is not None and result.diagnosis.code == "http.body-truncated"
    assert "decompression bomb" in result.diagnosis.summary
    read = int(
        result.diagnosis.summary.partition("read the first ")[2].partition(" bytes")[0].replace(",", "")
    )
    assert read <= BOMB_FLOOR + 128 * 1024  # not the --max-body it would expand to
    assert [item.code for item in report.summary.left_out] == ["http.body-truncated"]


async def test_the_json_report_holds_the_warning_and_the_left_out_line(hostile_server: HostileServer) -> None:
    document = json.loads(render(await cut_report(hostile_server, "/endless"), "json"))
    (item,) = document["summary"]["left_out"]
    assert item["code"] == "http.body-truncated" and item["count"] == 1
    assert f"--max-body {MAX_BODY:,} bytes" in item["detail"] and CUT in item["detail"]
    page = next(r for r in document["results"] if r["url"] == hostile_server.url("/endless"))
    assert page["diagnosis"]["code"] == "http.body-truncated"


async def test_the_console_says_the_page_was_cut(hostile_server: HostileServer) -> None:
    text = render(await cut_report(hostile_server, "/endless"), "console")
    line = next(line for line in text.splitlines() if "http.body-truncated" in line)
    assert line.startswith("left out: http.body-truncated: 1 pages cut short (at --max-body")
    assert CUT in line and hostile_server.url("/endless") in line


async def test_the_html_report_lists_the_cut_page(hostile_server: HostileServer) -> None:
    html = render(await cut_report(hostile_server, "/endless"), "html")
    assert "<h2>Left out</h2>" in html
    assert "<code>http.body-truncated</code>: 1 pages cut short (at --max-body" in html
    assert CUT in html


async def test_the_sarif_log_warns_of_the_cut_page(hostile_server: HostileServer) -> None:
    log = json.loads(render(await cut_report(hostile_server, "/endless"), "sarif"))
    (run,) = log["runs"]
    (warning,) = [r for r in run["results"] if r["ruleId"] == "http.body-truncated"]
    assert warning["level"] == "warning"
    assert CUT in warning["message"]["text"]
    assert warning["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == hostile_server.url(
        "/endless"
    )
    (rule,) = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "http.body-truncated"]
    assert rule["defaultConfiguration"]["level"] == "warning"


async def test_csv_markdown_junit_and_github_name_the_cut_too(hostile_server: HostileServer) -> None:
    report = await cut_report(hostile_server, "/endless")
    for name in ("csv", "markdown", "junit", "github"):
        text = render(report, name)
        assert "http.body-truncated" in text, name
        assert "links past the cut were not checked" in text, name
