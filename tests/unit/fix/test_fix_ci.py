"""The CI faces of ``fix``: the pre-commit hook ``linkdoctor-fix`` runs ``fix --check`` on the changed Markdown
and HTML files, and the GitHub Action's opt-in fix mode writes the proposed diff to the job summary (and never
fails the step for fixes)."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from linkdoctor.ci.fix_summary import run_fix_summary, summary_markdown

REPO = Path(__file__).resolve().parents[3]


def load(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def test_the_fix_hook_runs_fix_check_on_markdown_and_html() -> None:
    hook = next(h for h in load(".pre-commit-hooks.yaml") if h["id"] == "linkdoctor-fix")
    assert hook["entry"] == "linkdoctor fix --check"
    assert hook["language"] == "python"
    assert all(re.search(hook["files"], n) for n in ("README.md", "docs/a.markdown", "site/index.html"))
    assert not any(re.search(hook["files"], n) for n in ("a.txt", "style.css"))


def test_the_action_fix_step_passes_its_inputs_through_the_environment_only() -> None:
    action = load("action.yml")
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "fix")
    assert step["run"] == "python -m linkdoctor.ci.fix_summary"
    assert step["env"] == {
        "LINKDOCTOR_FIX": "${{ inputs.fix }}",
        "LINKDOCTOR_FIX_ARGS": "${{ inputs.fix-args }}",
        "LINKDOCTOR_ARGS": "${{ inputs.args }}",
    }
    assert step["if"] == "${{ always() }}"  # after a check step that failed on broken links too
    assert action["inputs"]["fix"]["default"] == "false"
    assert action["outputs"]["fixes"]["value"] == "${{ steps.fix.outputs.fixes }}"


PLAN = {
    "version": 1,
    "edits": [{"file": "docs/a.md", "line": 3, "old": "http://a/", "new": "https://a/", "kind": "https",
               "reason": "r"}],
    "skipped": [{"url": "http://t/", "kind": "redirect", "reason": "a temporary redirect (302) is not a move; kept"},
                {"url": "http://d/", "kind": "archive", "reason": "dead (404)", "suggestion": "http://w/x"}],
    "warnings": [],
    "diff": "--- a/docs/a.md\n+++ b/docs/a.md\n@@ -3 +3 @@\n-[a](http://a/)\n+[a](https://a/)\n",
}  # fmt: skip


class FakeRun:
    def __init__(self, code: int = 0, out: str = json.dumps(PLAN)) -> None:
        self.code, self.out = code, out
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        return subprocess.CompletedProcess(command, self.code, self.out, "linkdoctor: note\n")


def test_the_fix_mode_writes_the_diff_to_the_job_summary_and_the_count_to_the_outputs(tmp_path: Path) -> None:
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {"LINKDOCTOR_FIX": "true", "LINKDOCTOR_ARGS": "docs --exclude x", "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(outputs)}  # fmt: skip
    run = FakeRun()
    assert run_fix_summary(env, stdout=io.StringIO(), run=run) == 0
    assert run.commands[0][1:] == ["-m", "linkdoctor", "fix", "docs", "--exclude", "x", "--format", "json"]
    text = summary.read_text()
    assert "**1 link can be repaired in 1 file.** Run `linkdoctor fix docs --exclude x --apply`" in text
    assert "```diff\n--- a/docs/a.md\n" in text and "+[a](https://a/)\n```" in text
    assert "- `http://t/`: a temporary redirect (302) is not a move; kept" in text
    assert "(archived copy: http://w/x)" in text
    assert outputs.read_text() == "fixes=1\n"


def test_fix_args_win_over_the_check_args() -> None:
    run = FakeRun()
    run_fix_summary({"LINKDOCTOR_FIX": "true", "LINKDOCTOR_FIX_ARGS": "README.md", "LINKDOCTOR_ARGS": "docs"},
                    stdout=io.StringIO(), run=run)  # fmt: skip
    assert run.commands[0][3:5] == ["fix", "README.md"]


def test_the_fix_mode_is_off_by_default_and_a_bad_value_is_a_usage_error() -> None:
    run = FakeRun()
    assert run_fix_summary({}, stdout=io.StringIO(), run=run) == 0
    assert run.commands == []
    out = io.StringIO()
    assert run_fix_summary({"LINKDOCTOR_FIX": "maybe"}, stdout=out, run=run) == 3
    assert "the fix input must be true or false" in out.getvalue()


@pytest.mark.parametrize("code", [3, 1])
def test_a_failed_fix_run_fails_the_step(code: int) -> None:
    out = io.StringIO()
    assert run_fix_summary({"LINKDOCTOR_FIX": "true"}, stdout=out, run=FakeRun(code, "")) == code
    assert f"linkdoctor fix exited with {code}" in out.getvalue()


def test_nothing_to_repair_says_so() -> None:
    assert "Nothing to repair." in summary_markdown({"edits": [], "skipped": []}, ["."])
