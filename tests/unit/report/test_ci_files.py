"""``action.yml`` is a valid composite GitHub Action wired to the entry point, and
``.pre-commit-hooks.yaml`` offers a hook for changed Markdown and HTML files."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from linkdoctor.ci.github import ActionInputs
from linkdoctor.report.outputs import plan_outputs

REPO = Path(__file__).resolve().parents[3]
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}")
ENTRYPOINT_VARIABLES = {"LINKDOCTOR_ARGS", "LINKDOCTOR_FORMAT", "LINKDOCTOR_FAIL"}


def load(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    loaded: dict[str, Any] = load("action.yml")
    return loaded


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return [m.strip() for m in EXPRESSION.findall(node)] if isinstance(node, str) else []


def test_action_has_the_required_keys(action: dict[str, Any]) -> None:
    assert {"name", "description", "inputs", "runs"} <= action.keys()
    assert action["runs"]["using"] == "composite"
    assert action["runs"]["steps"]


def test_action_offers_args_format_fail_and_python_version(action: dict[str, Any]) -> None:
    assert set(action["inputs"]) == {"args", "format", "fail", "fix", "fix-args", "python-version"}
    assert action["inputs"]["fail"]["default"] == "true"
    for name, spec in action["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"


def test_every_referenced_input_exists(action: dict[str, Any]) -> None:
    referenced = {
        match.group(1)
        for expression in expressions(action)
        if (match := re.fullmatch(r"inputs\.([A-Za-z0-9_-]+)", expression))
    }
    assert referenced == set(action["inputs"])


def test_every_output_comes_from_an_existing_step(action: dict[str, Any]) -> None:
    step_ids = {step.get("id") for step in action["runs"]["steps"]}
    for name, spec in action["outputs"].items():
        match = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", spec["value"])
        assert match, f"output {name} has an unexpected value {spec['value']!r}"
        assert match.group(1) in step_ids
        assert match.group(2) == name


def test_run_steps_declare_a_shell_and_never_inline_inputs(action: dict[str, Any]) -> None:
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash"
            # Inputs reach scripts through env only: ${{ }} inside run would allow script injection.
            assert not EXPRESSION.search(step["run"])


def test_check_step_runs_the_entry_point_with_every_input(action: dict[str, Any]) -> None:
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    module = shlex.split(step["run"])[-1]
    assert shlex.split(step["run"])[:2] == ["python", "-m"]
    assert importlib.util.find_spec(module) is not None
    assert set(step["env"]) == ENTRYPOINT_VARIABLES


def test_install_step_installs_from_the_action_path(action: dict[str, Any]) -> None:
    step = next(s for s in action["runs"]["steps"] if s.get("name") == "Install linkdoctor")
    assert "${{ github.action_path }}" in step["env"].values()
    assert "pip install" in step["run"]


@pytest.fixture(scope="module")
def hook() -> dict[str, Any]:
    hooks = load(".pre-commit-hooks.yaml")
    assert isinstance(hooks, list)
    assert [h["id"] for h in hooks] == ["linkdoctor", "linkdoctor-fix"]  # the fix hook: tests/unit/fix
    found: dict[str, Any] = hooks[0]
    return found


def test_pre_commit_hook_runs_check_without_progress(hook: dict[str, Any]) -> None:
    assert {"id", "name", "entry", "language", "files"} <= hook.keys()
    assert hook["entry"] == "linkdoctor check --no-progress"
    assert hook["language"] == "python"


@pytest.mark.parametrize("name", ["README.md", "docs/a.markdown", "site/index.html", "old/page.htm"])
def test_pre_commit_hook_takes_markdown_and_html(hook: dict[str, Any], name: str) -> None:
    assert re.search(hook["files"], name)


@pytest.mark.parametrize("name", ["notes.txt", "page.mdx", "style.css", "md/readme"])
def test_pre_commit_hook_skips_other_files(hook: dict[str, Any], name: str) -> None:
    assert not re.search(hook["files"], name)


def test_pre_commit_entry_checks_the_files_it_is_given(hook: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("[b](b.md)\n[gone](gone.md)\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("b\n", encoding="utf-8")
    program, *args = shlex.split(hook["entry"])
    executable = Path(sys.executable).parent / program
    run = subprocess.run(
        [str(executable), *args, "a.md", "b.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "gone.md" in run.stdout


def readme_ci_blocks() -> list[Any]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use in CI", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.S)]


def test_readme_github_example_uses_the_actions_inputs(action: dict[str, Any]) -> None:
    workflow = next(b for b in readme_ci_blocks() if isinstance(b, dict) and "jobs" in b)
    step = next(s for s in workflow["jobs"]["links"]["steps"] if s.get("uses", "").startswith("linkdoctor/"))
    assert set(step["with"]) <= set(action["inputs"])
    inputs = ActionInputs.from_env(
        {f"LINKDOCTOR_{k.upper()}": str(v).lower() for k, v in step["with"].items()}
    )
    uploaded = next(s for s in workflow["jobs"]["links"]["steps"] if "sarif_file" in s.get("with", {}))
    assert uploaded["with"]["sarif_file"] in {str(path) for _, path in inputs.reports}


def test_readme_gitlab_example_writes_the_junit_file_it_reports(tmp_path: Path) -> None:
    job = next(
        b for b in readme_ci_blocks() if isinstance(b, dict) and "links" in b and "script" in b["links"]
    )
    command = shlex.split(job["links"]["script"][-1])
    assert command[:2] == ["linkdoctor", "check"]
    files = [Path(command[i + 1]) for i, arg in enumerate(command) if arg == "-o"]
    formats = [command[i + 1] for i, arg in enumerate(command) if arg == "--format"]
    names = {str(t.path): t.format.name for t in plan_outputs(formats, files)}
    assert names[job["links"]["artifacts"]["reports"]["junit"]] == "junit"
