"""The GitHub Action's entry point, run locally against a fixture site the way ``action.yml`` runs it:
``python -m linkdoctor.ci.github`` with the inputs in ``LINKDOCTOR_*`` and ``GITHUB_STEP_SUMMARY`` /
``GITHUB_OUTPUT`` pointed at temporary files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.report.report_checks import validate_junit, validate_sarif

from linkdoctor.ci.github import SUMMARY_LIMIT, append_summary


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project with docs: two broken local links (index.md lines 3 and 5, guide.html line 4)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(
        "# Docs\n\n[missing page](missing.md)\n\n[guide](guide.html)\n", encoding="utf-8"
    )
    (docs / "guide.html").write_text(
        "<!DOCTYPE html>\n<html><body>\n<p><a href='index.md'>back</a></p>\n"
        "<p><a href='images/none.png'>picture</a></p>\n</body></html>\n",
        encoding="utf-8",
    )
    (tmp_path / "summary.md").write_text("output of an earlier step\n", encoding="utf-8")
    (tmp_path / "reports").mkdir()
    return tmp_path


def run_action(site: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "LINKDOCTOR_"))}
    env |= {
        "GITHUB_STEP_SUMMARY": str(site / "summary.md"),
        "GITHUB_OUTPUT": str(site / "outputs.txt"),
        **{f"LINKDOCTOR_{name.upper()}": value for name, value in inputs.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "linkdoctor.ci.github"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outputs(site: Path) -> dict[str, str]:
    lines = (site / "outputs.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_broken_links_fail_the_step_by_default(site: Path) -> None:
    assert run_action(site, args="docs").returncode == 2


def test_annotations_point_at_file_and_line(site: Path) -> None:
    out = run_action(site, args="docs").stdout
    annotations = sorted(line for line in out.splitlines() if line.startswith("::error"))
    assert annotations[0].startswith(
        "::error file=docs/guide.html,line=4,title=Missing page (file.not-found)::"
    )
    assert annotations[1].startswith(
        "::error file=docs/index.md,line=3,title=Missing page (file.not-found)::"
    )
    assert len(annotations) == 2


def test_console_report_is_printed_to_the_log(site: Path) -> None:
    out = run_action(site, args="docs").stdout
    assert "2 broken" in out


def test_markdown_report_is_appended_to_the_job_summary(site: Path) -> None:
    run_action(site, args="docs")
    summary = (site / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith(
        "output of an earlier step\n## linkdoctor: ❌ 2 problems: 2 missing pages (linked 2 times from 2 pages)\n"
    )
    assert "| `docs/index.md` | 3 | `" in summary
    assert "file.not-found" in summary


def test_step_outputs_give_exit_code_and_counts(site: Path) -> None:
    run_action(site, args="docs", format="sarif junit:reports/links.xml")
    assert outputs(site) == {
        "exit-code": "2",
        "broken": "2",
        "total": "4",
        "reports": "linkdoctor-report.sarif reports/links.xml",
    }


def test_format_input_writes_the_extra_reports(site: Path) -> None:
    run_action(site, args="docs", format="sarif, junit:reports/links.xml")
    sarif = validate_sarif((site / "linkdoctor-report.sarif").read_text(encoding="utf-8"))
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    )
    assert uris == ["docs/guide.html", "docs/index.md"]
    validate_junit((site / "reports" / "links.xml").read_text(encoding="utf-8"))


def test_fail_false_passes_the_step_but_still_annotates(site: Path) -> None:
    run = run_action(site, args="docs", fail="false")
    assert run.returncode == 0
    assert run.stdout.count("::error file=") == 2
    assert outputs(site)["exit-code"] == "2"


def test_nothing_broken_passes_and_says_so(site: Path) -> None:
    (site / "docs" / "missing.md").write_text("here\n", encoding="utf-8")
    (site / "docs" / "images").mkdir()
    (site / "docs" / "images" / "none.png").write_bytes(b"\x89PNG")
    run = run_action(site, args="docs")
    assert run.returncode == 0
    assert "::error" not in run.stdout
    assert "## linkdoctor: ✅ no problems" in (site / "summary.md").read_text(encoding="utf-8")


def test_usage_error_fails_even_with_fail_false(site: Path) -> None:
    run = run_action(site, args="no-such-folder", fail="false")
    assert run.returncode == 3
    assert "::error title=linkdoctor::linkdoctor check exited with 3" in run.stdout
    assert outputs(site)["exit-code"] == "3"


def test_bad_fail_input_is_a_usage_error(site: Path) -> None:
    run = run_action(site, args="docs", fail="maybe")
    assert run.returncode == 3
    assert "::error title=linkdoctor::the fail input must be true or false" in run.stdout


def test_unknown_format_input_is_a_usage_error(site: Path) -> None:
    run = run_action(site, args="docs", format="pdf")
    assert run.returncode == 3
    assert "unknown format 'pdf'" in run.stdout


def test_oversized_summary_is_cut_at_a_line_below_the_limit(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    line = "| 1 | `https://example.org/` | x | 404 | Not found |\n"
    append_summary(summary, line * (SUMMARY_LIMIT // len(line) + 100))
    text = summary.read_text(encoding="utf-8")
    assert len(text.encode("utf-8")) < 1024 * 1024
    assert text.endswith("see the full report file.\n")
    assert text.split("\n\n> ")[0].endswith("| Not found |")
