"""``linkdoctor check`` with several outputs: every format from one real run, each passing its schema
and agreeing with the others; and output errors reported (exit 3) before anything is requested."""

from __future__ import annotations

import csv
import io
import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from harness.sites import GeneratedSite
from selectolax.lexbor import LexborHTMLParser
from tests.unit.report.report_checks import (
    validate_json_report,
    validate_jsonl_report,
    validate_junit,
    validate_sarif,
)

from linkdoctor.cli import cli
from linkdoctor.report.json_v2 import link_verdicts

pytestmark = pytest.mark.nginx

ALL_OUTPUTS = ("r.json", "r.jsonl", "r.csv", "r.xml", "r.md", "r.sarif", "r.html", "r.txt")
Pair = tuple[str, str, int]  # (broken URL, referring file, line)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", "--no-progress", "--retries", "0", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def docs(generated_site: GeneratedSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docs folder whose pages link to local files and into the generated site (ok, broken, redirected)."""
    truth = generated_site.truth
    broken = sorted(path for path in truth.broken if "#" not in path)[:3]
    redirected = sorted(truth.redirected)[0]
    folder = tmp_path / "docs"
    folder.mkdir()
    lines = [
        "# Links",
        "",
        "[here](other.md)",
        "[missing](missing.md)",
        f"[home]({generated_site.url('/')})",
        *(f"[broken {n}]({generated_site.url(path)})" for n, path in enumerate(broken)),
        f"[moved]({generated_site.url(redirected)})",
    ]
    (folder / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "other.md").write_text("# Other\n", encoding="utf-8")
    (folder / "page.html").write_text(
        f"<!DOCTYPE html>\n<p><a href='{generated_site.url(broken[0])}'>again</a></p>\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
def one_run(docs: Path) -> dict[str, str]:
    code, out, err = invoke(
        "docs", *(arg for name in ALL_OUTPUTS for arg in ("-o", name)), "--format", "github"
    )
    assert code == 2, err
    written = {name: Path(name).read_text(encoding="utf-8") for name in ALL_OUTPUTS}
    return {**written, "github": out}


def broken_pairs_from_json(document: dict[str, Any]) -> set[Pair]:
    """(link, referring file, line) of every broken link in a version 2 report."""
    pages = document["pages"]
    return {
        (
            url,
            Path(pages[page].removeprefix("file://")).relative_to(Path.cwd()).as_posix(),
            line,
        )
        for result in document["results"]
        for link, (url, category) in zip(result["links"], link_verdicts(result), strict=True)
        if category == "broken"
        for page, line, _ in link.get("referrers", ())
    }


def test_every_format_comes_from_one_run(one_run: dict[str, str]) -> None:
    assert set(one_run) == {*ALL_OUTPUTS, "github"}
    assert sorted(p.name for p in Path.cwd().iterdir()) == sorted(["docs", *ALL_OUTPUTS])  # no temp files


def test_one_run_passes_every_schema(one_run: dict[str, str]) -> None:
    document = validate_json_report(one_run["r.json"])
    lines = validate_jsonl_report(one_run["r.jsonl"])
    validate_junit(one_run["r.xml"])
    validate_sarif(one_run["r.sarif"])
    assert sorted(line["url"] for line in lines) == sorted(
        url for r in document["results"] for url, _ in link_verdicts(r)
    )


def test_one_run_finds_local_and_http_problems(one_run: dict[str, str]) -> None:
    document = json.loads(one_run["r.json"])
    categories = {
        url.rsplit("/", 1)[-1]: category for r in document["results"] for url, category in link_verdicts(r)
    }
    assert categories["missing.md"] == "broken"
    assert "redirected" in categories.values()
    assert document["summary"]["broken"] == 4  # missing.md and three site links


def test_all_formats_agree_on_the_broken_links(one_run: dict[str, str]) -> None:
    expected = broken_pairs_from_json(json.loads(one_run["r.json"]))
    assert len(expected) == 5  # the first site link is on two pages
    rows = list(csv.DictReader(io.StringIO(one_run["r.csv"])))
    assert {(r["url"], r["file"], int(r["line"])) for r in rows} == expected
    sarif = json.loads(one_run["r.sarif"])["runs"][0]["results"]
    assert {
        (
            r["properties"]["url"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in sarif
    } == expected
    junit = ET.fromstring(one_run["r.xml"].encode())
    failures = {
        (
            case.get("name", "").rsplit(" (line ", 1)[0],
            case.get("classname"),
            int(case.get("name", "")[:-1].rsplit(" ", 1)[1]),
        )
        for case in junit.iter("testcase")
        if case.find("failure") is not None
    }
    assert failures == expected
    annotations = [line for line in one_run["github"].splitlines() if line.startswith("::error")]
    assert len(annotations) == len(expected)
    for url, file, line in expected:
        assert f"file={file},line={line}," in "\n".join(annotations)
        assert url in one_run["r.md"]


def test_html_of_the_run_lists_every_result_and_problem(one_run: dict[str, str]) -> None:
    document = json.loads(one_run["r.json"])
    tree = LexborHTMLParser(one_run["r.html"])
    data = tree.css_first("#results-data")
    assert data is not None
    assert [row[0] for row in json.loads(data.text())] == [r["url"] for r in document["results"]]
    assert [node.attributes["data-code"] for node in tree.css("#problems li.problem")] == [
        p["code"] for p in document["problems"]
    ]


def test_console_report_of_the_run_has_the_summary(one_run: dict[str, str]) -> None:
    assert "4 broken" in one_run["r.txt"]
    assert "\x1b[" not in one_run["r.txt"]  # plain text in a file


class _Counter(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = b"<a href='/x'>x</a>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def counting_server() -> Iterator[tuple[str, type[_Counter]]]:
    handler = type("Counter", (_Counter,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_counting_server_sees_a_normal_run(counting_server: tuple[str, type[_Counter]]) -> None:
    url, handler = counting_server
    code, _, _ = invoke(url, "--format", "json")
    assert code == 0
    assert handler.hits > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf"], "unknown format 'pdf'"),
        (["-o", "report.pdf"], "cannot tell the format from the extension '.pdf'"),
        (["-o", "no/such/folder/r.json"], "the folder no/such/folder does not exist"),
        (["--format", "jsonl", "--format", "console"], "cannot share stdout"),
        (["-o", "r.json", "--format", "json:r.json"], "given twice"),
    ],
)
def test_output_errors_exit_3_before_any_request(
    counting_server: tuple[str, type[_Counter]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    url, handler = counting_server
    code, out, err = invoke(url, *args)
    assert code == 3
    assert message in err
    assert handler.hits == 0
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_format_name_file_and_bare_format_together(docs: Path) -> None:
    code, out, _ = invoke("docs", "--format", "markdown", "--format", "csv:links.csv")
    assert code == 2
    assert out.startswith("## linkdoctor: ❌ 4 problems: ")
    assert Path("links.csv").read_text(encoding="utf-8").startswith("page,file,line,")


def test_a_run_writing_only_files_prints_the_summary_line_on_the_terminal(docs: Path) -> None:
    code, out, err = invoke("docs", "-o", "r.html")
    assert code == 2
    assert out == ""
    (line,) = [line for line in err.splitlines() if " links: " in line]
    assert line.startswith("4 problems: ")
    assert "4 broken" in line
