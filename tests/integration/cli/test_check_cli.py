"""``linkdoctor check`` end to end: formats, schema, exit codes, inputs (Markdown, lists, sitemaps, robots)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from harness.nginx import NginxFactory
from harness.sites import GeneratedSite

from linkdoctor.cli import cli
from linkdoctor.report.json import schema
from linkdoctor.report.json_v2 import schema as schema_v2

pytestmark = pytest.mark.nginx


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["check", "--no-progress", "--retries", "0", *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_json_output_validates_against_the_shipped_schema(generated_site: GeneratedSite) -> None:
    code, out, _ = run(generated_site.base_url, "--format", "json")
    document = json.loads(out)
    jsonschema.validate(document, schema_v2())
    assert code == 2
    assert document["summary"]["broken"] == len(generated_site.truth.broken)
    code, out, _ = run(generated_site.base_url, "--format", "json-v1")
    version_1 = json.loads(out)
    jsonschema.validate(version_1, schema())
    assert version_1["summary"]["broken"] == document["summary"]["broken"]


def test_schema_rejects_a_document_missing_results() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "summary": {}}, schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 2, "summary": {}}, schema_v2())


@pytest.mark.slow
def test_jsonl_streams_one_valid_result_per_line(generated_site: GeneratedSite) -> None:
    _, out, _ = run(generated_site.base_url, "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    result_schema = {**schema()["$defs"]["result"], "$defs": schema()["$defs"]}
    for line in lines:
        jsonschema.validate(line, result_schema)
    assert {
        line["url"] for line in lines if line["category"] == "broken"
    } == generated_site.truth.broken_urls(generated_site.base_url)


def test_output_file_is_written(generated_site: GeneratedSite, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run(generated_site.base_url, "--format", "json", "-o", str(target))
    assert code == 2
    assert out == ""
    assert json.loads(target.read_text())["version"] == 2
    assert list(tmp_path.iterdir()) == [target]  # no temp file left behind


def test_console_report_groups_broken_links_by_problem_with_referring_lines(
    generated_site: GeneratedSite,
) -> None:
    _, out, _ = run(generated_site.base_url)
    assert "http.not-found" in out
    assert re.search(r"^    \S+:\d+", out, re.MULTILINE)  # a referring page with its line
    assert "broken" in out


def test_console_report_grouped_by_page_lists_lines(generated_site: GeneratedSite) -> None:
    _, out, _ = run(generated_site.base_url, "--group-by", "page")
    assert "http.not-found" in out
    assert "line " in out
    assert "broken" in out


def test_exit_code_0_when_nothing_is_broken(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<a href="b.html">b</a>')
    (tmp_path / "b.html").write_text("<p>hi</p>")
    code, _, _ = run(str(tmp_path))
    assert code == 0


@pytest.mark.parametrize(
    "args",
    [
        ["/no/such/path"],
        ["--accept", "abc", "http://127.0.0.1:9/"],
        ["--exclude", "(", "http://127.0.0.1:9/"],
        ["--base-url", "ftp://x/", "."],
        [],
        ["--header", "no-colon", "http://127.0.0.1:9/"],
    ],
)
def test_usage_errors_exit_3_without_traceback(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "linkdoctor", "check", "--no-progress", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error" in proc.stderr.lower()


def test_markdown_files_links_images_references_and_autolinks(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\nSee [setup](setup.md) and [missing](nope.md).\n\n![logo](logo.png)\n\n"
        "[ref]: other.md\nA [reference][ref] and <file:///definitely/not/here>.\n\n[top](#guide) [bad](#nowhere)\n"
    )
    (tmp_path / "docs" / "setup.md").write_text("# Setup\n")
    (tmp_path / "docs" / "logo.png").write_bytes(b"\x89PNG")
    code, out, _ = run(str(tmp_path / "docs" / "guide.md"), "--format", "json-v1")
    results = {r["url"].rsplit("/", 1)[-1]: r for r in json.loads(out)["results"]}
    assert code == 2
    assert results["setup.md"]["category"] == "ok"
    assert results["logo.png"]["category"] == "ok"
    assert results["nope.md"]["category"] == "broken"
    assert results["other.md"]["category"] == "broken"
    assert results["other.md"]["referrers"][0]["line"] == 8
    assert results["here"]["diagnosis"]["code"] == "file.not-found"
    assert results["guide.md#guide"]["category"] == "ok"
    assert results["guide.md#nowhere"]["diagnosis"]["code"] == "file.anchor-missing"


def test_urls_from_a_file_and_stdin(generated_site: GeneratedSite, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# comment\n{generated_site.url('/missing-0.html')}\n\n{generated_site.url('/')}\n")
    code, out, _ = run("--urls-from", str(listing), "--format", "json-v1")
    document = json.loads(out)
    assert code == 2
    assert {r["category"] for r in document["results"]} == {"ok", "broken"}
    assert document["summary"]["pages_crawled"] == 0  # listed URLs are checked, not crawled
    code, out, _ = run("--urls-from", "-", "--format", "json-v1", input=generated_site.url("/") + "\n")
    assert code == 0
    assert json.loads(out)["results"][0]["referrer_count"] == 1  # an ok link keeps only its count
    args = ("--urls-from", "-", "--format", "json-v1", "--all-referrers")
    code, out, _ = run(*args, input=generated_site.url("/") + "\n")
    assert code == 0
    assert json.loads(out)["results"][0]["referrers"][0]["url"] == "<stdin>"


def _serve(nginx_factory: NginxFactory, root: Path) -> str:
    from harness.ports import free_port

    port = free_port()
    server = nginx_factory(f"server {{ listen 127.0.0.1:{port}; root {root}; }}", "plain")
    return server.url("/")


def test_sitemap_and_gzip_sitemap_index_as_seeds(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<a href="gone.html">x</a>')
    (tmp_path / "b.html").write_text("<p>b</p>")
    base = _serve(nginx_factory, tmp_path)
    urlset = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}a.html</loc></url><url><loc>{base}b.html</loc></url></urlset>'
    (tmp_path / "pages.xml.gz").write_bytes(gzip.compress(urlset.encode()))
    (tmp_path / "sitemap.xml").write_text(
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>{base}pages.xml.gz</loc></sitemap></sitemapindex>'
    )
    code, out, _ = run(base + "sitemap.xml", "--format", "json-v1")
    results = {r["url"]: r for r in json.loads(out)["results"]}
    assert code == 2
    assert results[base + "gone.html"]["category"] == "broken"
    assert results[base + "gone.html"]["referrers"][0]["url"] == base + "a.html"
    assert results[base + "b.html"]["category"] == "ok"


def test_robots_disallowed_pages_are_excluded_and_its_sitemaps_used(
    nginx_factory: NginxFactory, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text('<a href="private/x.html">p</a> <a href="ok.html">o</a>')
    (tmp_path / "ok.html").write_text("ok")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "x.html").write_text('<a href="/never-seen.html">n</a>')
    (tmp_path / "extra.html").write_text('<a href="extra-missing.html">e</a>')
    base = _serve(nginx_factory, tmp_path)
    (tmp_path / "robots.txt").write_text(f"User-agent: *\nDisallow: /private/\nSitemap: {base}sitemap.xml\n")
    (tmp_path / "sitemap.xml").write_text(
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}extra.html</loc></url></urlset>'
    )
    _, out, _ = run(base, "--format", "json-v1")
    results = {r["url"]: r for r in json.loads(out)["results"]}
    assert results[base + "private/x.html"]["category"] == "excluded"
    assert results[base + "private/x.html"]["diagnosis"]["code"] == "robots.disallowed"
    assert base + "never-seen.html" not in results
    assert results[base + "extra-missing.html"]["category"] == "broken"
    _, out, _ = run(base, "--format", "json-v1", "--ignore-robots")
    results = {r["url"]: r for r in json.loads(out)["results"]}
    assert results[base + "private/x.html"]["category"] == "ok"


def test_scope_depth_and_no_recursive(nginx_factory: NginxFactory, tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text('<a href="a.html">a</a> <a href="/outside.html">o</a>')
    (tmp_path / "docs" / "a.html").write_text('<a href="b.html">b</a>')
    (tmp_path / "docs" / "b.html").write_text('<a href="c-missing.html">c</a>')
    (tmp_path / "outside.html").write_text('<a href="/outside-missing.html">x</a>')
    base = _serve(nginx_factory, tmp_path)

    def categories(*extra: str) -> dict[str, str]:
        _, out, _ = run(base + "docs/", "--format", "json-v1", *extra)
        return {r["url"].removeprefix(base): r["category"] for r in json.loads(out)["results"]}

    def urls(*extra: str) -> set[str]:
        return set(categories(*extra))

    everything = urls()
    assert "docs/c-missing.html" in everything
    assert "outside.html" in everything  # checked...
    assert "outside-missing.html" not in everything  # ...but not crawled: out of scope
    assert "docs/c-missing.html" not in urls("--depth", "1")
    assert urls("--no-recursive") == {"docs/", "docs/a.html", "outside.html"}
    assert "outside-missing.html" in urls("--scope", "outside")
    assert categories("--exclude", "outside")["outside.html"] == "excluded"
    assert categories("--include", "docs/a")["docs/b.html"] == "excluded"
