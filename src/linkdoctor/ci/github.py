"""The GitHub Action's entry point (``python -m linkdoctor.ci.github``), run by ``action.yml``.

It reads the action's inputs from the environment, runs ``linkdoctor check`` once with the outputs a
workflow needs — the console report and ``::error`` annotations (at file:line for local inputs) on
stdout, the Markdown report appended to ``$GITHUB_STEP_SUMMARY``, any extra report files the
``format`` input asks for — and writes ``exit-code``, ``broken``, ``total`` and ``reports`` to
``$GITHUB_OUTPUT``. With ``fail: false`` broken links do not fail the step; usage errors always do.

Environment (set by ``action.yml`` from its inputs):

* ``LINKDOCTOR_ARGS`` — arguments for ``linkdoctor check``, split like a shell would (default ``.``).
* ``LINKDOCTOR_FORMAT`` — extra reports, space- or comma-separated: ``NAME`` writes
  ``linkdoctor-report.EXT`` in the working directory, ``NAME:FILE`` writes FILE.
* ``LINKDOCTOR_FAIL`` — ``true`` (default) or ``false``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from linkdoctor.config import ExitCode
from linkdoctor.errors import ConfigError
from linkdoctor.report.formats import format_named
from linkdoctor.report.github import escape_data

DEFAULT_REPORT_STEM = "linkdoctor-report"
# GitHub refuses a step summary over 1 MiB; stay below it with room for the truncation note.
SUMMARY_LIMIT = 1024 * 1024 - 4096
TRUE_VALUES = frozenset({"true", "yes", "1", "on"})
FALSE_VALUES = frozenset({"false", "no", "0", "off", ""})

Runner = Callable[[Sequence[str]], int]


@dataclass(frozen=True, slots=True)
class ActionInputs:
    """The action's inputs, parsed."""

    args: tuple[str, ...]
    reports: tuple[tuple[str, Path], ...]
    fail: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionInputs:
        """Parse the ``LINKDOCTOR_*`` variables; a :class:`ConfigError` names a bad one.

        >>> ActionInputs.from_env({"LINKDOCTOR_ARGS": "docs --depth 2", "LINKDOCTOR_FORMAT": "sarif"})
        ActionInputs(args=('docs', '--depth', '2'), reports=(('sarif', PosixPath('linkdoctor-report.sarif')),), fail=True)
        """
        try:
            args = tuple(shlex.split(env.get("LINKDOCTOR_ARGS", "") or "."))
        except ValueError as exc:
            raise ConfigError(f"the args input cannot be split like a shell command line: {exc}") from exc
        fail_text = env.get("LINKDOCTOR_FAIL", "true").strip().lower()
        if fail_text not in TRUE_VALUES | FALSE_VALUES:
            raise ConfigError(f"the fail input must be true or false, not {fail_text!r}")
        return cls(args, _reports(env.get("LINKDOCTOR_FORMAT", "")), fail_text in TRUE_VALUES)


def _reports(value: str) -> tuple[tuple[str, Path], ...]:
    reports = []
    for item in re.split(r"[\s,]+", value.strip()):
        if not item:
            continue
        name, sep, file = item.partition(":")
        fmt = format_named(name)
        if sep:
            reports.append((fmt.name, Path(file)))
        elif fmt.extensions:
            reports.append((fmt.name, Path(DEFAULT_REPORT_STEM + fmt.extensions[0])))
        else:
            raise ConfigError(f"the {fmt.name} format has no file extension; give a file: {fmt.name}:FILE")
    return tuple(reports)


def check_command(inputs: ActionInputs, workdir: Path) -> list[str]:
    """The ``linkdoctor check`` command line: the user's args plus the outputs the action needs."""
    command = [sys.executable, "-m", "linkdoctor", "check", "--no-progress", *inputs.args]
    command += ["--format", "console", "--format", "github"]
    command += [
        "--format",
        f"markdown:{workdir / 'summary.md'}",
        "--format",
        f"json:{workdir / 'report.json'}",
    ]
    for name, path in inputs.reports:
        command += ["--format", f"{name}:{path}"]
    return command


def _run(command: Sequence[str]) -> int:
    return subprocess.run(command, check=False).returncode


def append_summary(summary_file: Path, markdown: str) -> None:
    """Append the Markdown report to the job summary, cut at a line below GitHub's size limit."""
    data = markdown.encode("utf-8")
    if len(data) > SUMMARY_LIMIT:
        cut = data[:SUMMARY_LIMIT].rsplit(b"\n", 1)[0].decode("utf-8", errors="ignore")
        markdown = cut + "\n\n> The report was cut to fit the job summary; see the full report file.\n"
    with summary_file.open("a", encoding="utf-8") as fh:
        fh.write(markdown)


def write_outputs(output_file: Path, values: Mapping[str, str]) -> None:
    """Append ``name=value`` lines to ``$GITHUB_OUTPUT`` (values are single-line)."""
    with output_file.open("a", encoding="utf-8") as fh:
        for name, value in values.items():
            fh.write(f"{name}={value}\n")


def run_action(env: Mapping[str, str], *, stdout: TextIO, run: Runner = _run) -> int:
    """Run the action; return the step's exit code."""
    try:
        inputs = ActionInputs.from_env(env)
    except ConfigError as exc:
        stdout.write(f"::error title=linkdoctor::{escape_data(str(exc))}\n")
        return int(ExitCode.CONFIG)
    with tempfile.TemporaryDirectory(prefix="linkdoctor-action-") as tmp:
        workdir = Path(tmp)
        stdout.flush()
        code = run(check_command(inputs, workdir))
        summary_md = workdir / "summary.md"
        report_json = workdir / "report.json"
        counts = {"broken": "", "total": ""}
        if report_json.exists():
            summary = json.loads(report_json.read_text(encoding="utf-8"))["summary"]
            counts = {"broken": str(summary["broken"]), "total": str(summary["total"])}
        if env.get("GITHUB_STEP_SUMMARY") and summary_md.exists():
            append_summary(Path(env["GITHUB_STEP_SUMMARY"]), summary_md.read_text(encoding="utf-8"))
    if env.get("GITHUB_OUTPUT"):
        reports = " ".join(str(path) for _, path in inputs.reports)
        write_outputs(Path(env["GITHUB_OUTPUT"]), {"exit-code": str(code), **counts, "reports": reports})
    if code not in (ExitCode.OK, ExitCode.BROKEN):
        stdout.write(f"::error title=linkdoctor::linkdoctor check exited with {code}; see the log above\n")
    if code == ExitCode.BROKEN and not inputs.fail:
        stdout.write("linkdoctor: broken links found; not failing the step (fail: false)\n")
        return int(ExitCode.OK)
    return code


def main() -> None:
    sys.exit(run_action(os.environ, stdout=sys.stdout))


if __name__ == "__main__":
    main()
