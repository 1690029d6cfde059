"""The GitHub Action's opt-in fix mode (``fix: true``; ``python -m linkdoctor.ci.fix_summary``, run by
``action.yml``): run ``linkdoctor fix`` as a dry run once, append the proposed diff and the reasons for what it
left alone to ``$GITHUB_STEP_SUMMARY``, and write ``fixes`` (the number of edits) to ``$GITHUB_OUTPUT``. The
step fails only on a usage error: proposing fixes is information, the check step decides.

Environment: ``LINKDOCTOR_FIX`` (``true`` turns the mode on; otherwise the step does nothing),
``LINKDOCTOR_FIX_ARGS`` (arguments for ``linkdoctor fix``, split like a shell would; when empty
``LINKDOCTOR_ARGS``, the check's, then ``.``), ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from linkdoctor.ci.github import FALSE_VALUES, TRUE_VALUES, append_summary, write_outputs
from linkdoctor.config import ExitCode
from linkdoctor.report.github import escape_data

MAX_SKIPPED_LISTED = 50
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True)


def summary_markdown(plan: Mapping[str, Any], args: Sequence[str]) -> str:
    """The job summary section for a ``fix --format json`` document."""
    edits = plan.get("edits", [])
    files = len({e["file"] for e in edits})
    command = shlex.join(["linkdoctor", "fix", *args, "--apply"])
    lines = ["## linkdoctor fix", ""]
    if edits:
        lines += [
            f"**{len(edits)} link{'s' if len(edits) != 1 else ''} can be repaired in {files} "
            f"file{'s' if files != 1 else ''}.** Run `{command}`, or apply this patch with `git apply`.",
            "",
            "<details open><summary>Proposed changes</summary>",
            "",
            "```diff",
            str(plan.get("diff", "")).rstrip("\n"),
            "```",
            "",
            "</details>",
        ]
    else:
        lines.append("Nothing to repair.")
    skipped = plan.get("skipped", [])
    if skipped:
        lines += ["", f"<details><summary>{len(skipped)} left alone, and why</summary>", ""]
        for item in skipped[:MAX_SKIPPED_LISTED]:
            suggestion = f" (archived copy: {item['suggestion']})" if item.get("suggestion") else ""
            lines.append(f"- `{item['url']}`: {item['reason']}{suggestion}")
        if len(skipped) > MAX_SKIPPED_LISTED:
            lines.append(f"- … and {len(skipped) - MAX_SKIPPED_LISTED} more")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def run_fix_summary(env: Mapping[str, str], *, stdout: TextIO, run: Runner = _run) -> int:
    """Run the dry run, write the summary and the output; return the step's exit code."""
    mode = env.get("LINKDOCTOR_FIX", "false").strip().lower()
    if mode not in TRUE_VALUES | FALSE_VALUES:
        stdout.write(f"::error title=linkdoctor fix::the fix input must be true or false, not {mode!r}\n")
        return int(ExitCode.CONFIG)
    if mode in FALSE_VALUES:
        return int(ExitCode.OK)
    try:
        args = shlex.split(env.get("LINKDOCTOR_FIX_ARGS", "") or env.get("LINKDOCTOR_ARGS", "") or ".")
    except ValueError as exc:
        stdout.write(
            f"::error title=linkdoctor fix::{escape_data(f'the fix-args input cannot be split: {exc}')}\n"
        )
        return int(ExitCode.CONFIG)
    done = run([sys.executable, "-m", "linkdoctor", "fix", *args, "--format", "json"])
    stdout.write(done.stderr)
    if done.returncode not in (ExitCode.OK, ExitCode.BROKEN):
        stdout.write(f"::error title=linkdoctor fix::linkdoctor fix exited with {done.returncode}\n")
        return done.returncode or int(ExitCode.UNEXPECTED)
    plan = json.loads(done.stdout)
    if env.get("GITHUB_STEP_SUMMARY"):
        append_summary(Path(env["GITHUB_STEP_SUMMARY"]), summary_markdown(plan, args))
    if env.get("GITHUB_OUTPUT"):
        write_outputs(Path(env["GITHUB_OUTPUT"]), {"fixes": str(len(plan.get("edits", [])))})
    return int(ExitCode.OK)


def main() -> None:
    sys.exit(run_fix_summary(os.environ, stdout=sys.stdout))


if __name__ == "__main__":
    main()
