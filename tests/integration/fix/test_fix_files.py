"""Moved local files: a relative (or root-relative) link to a missing file is rewritten to the one file with
the same name elsewhere in the input tree, and in a git repository only to one with the content the file had
(before an uncommitted move, or before the commit that moved it); otherwise it is reported, not guessed."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from linkdoctor.ci.fix_summary import run_fix_summary
from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async, run_sync
from linkdoctor.fix.apply import apply_plan
from linkdoctor.fix.model import FileStamp, FixPlan, FixSettings
from linkdoctor.fix.plan import Planner
from linkdoctor.fix.probe import Prober
from linkdoctor.fix.render import plan_to_dict
from linkdoctor.fix.run import plan_fixes

NOTES = "# Notes\n\nThe original notes.\n"


def git(tree: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args],
        cwd=tree, check=True, capture_output=True, timeout=30,
    )  # fmt: skip


def make_tree(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "old").mkdir(parents=True)
    (docs / "index.md").write_text("# Index\n\n- [notes](old/notes.md#notes)\n- [rooted](/old/notes.md)\n")
    (docs / "old" / "notes.md").write_text(NOTES)
    return docs


def move(docs: Path) -> None:
    (docs / "new").mkdir()
    (docs / "old" / "notes.md").rename(docs / "new" / "notes.md")


def plan(docs: Path) -> FixPlan:
    return run_sync(plan_fixes(CheckConfig(), collect_inputs([str(docs)]), FixSettings(), cwd=docs.parent))


def test_a_file_moved_to_the_one_place_with_its_name_is_followed(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    move(docs)
    result = plan(docs)
    assert [(e.line, e.old, e.new) for e in result.edits] == [
        (3, "old/notes.md#notes", "new/notes.md#notes"),
        (4, "/old/notes.md", "/new/notes.md"),
    ]
    assert "the only file with the same name is docs/new/notes.md" in result.edits[0].reason
    apply_plan(result)
    assert (
        docs / "index.md"
    ).read_text() == "# Index\n\n- [notes](new/notes.md#notes)\n- [rooted](/new/notes.md)\n"
    assert plan(docs).edits == ()


def test_two_files_with_the_name_and_no_history_are_ambiguous(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    move(docs)
    (docs / "other").mkdir()
    (docs / "other" / "notes.md").write_text("# Other notes\n")
    result = plan(docs)
    assert result.edits == ()
    (skip,) = {s.reason for s in result.skipped}
    assert (
        "2 files with the same name (docs/new/notes.md, docs/other/notes.md)" in skip
        and "not guessed" in skip
    )


@pytest.mark.parametrize("committed", [False, True], ids=["uncommitted move", "committed move"])
def test_in_git_the_file_with_the_former_content_wins(tmp_path: Path, committed: bool) -> None:
    docs = make_tree(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "docs")
    move(docs)
    (docs / "other").mkdir()
    (docs / "other" / "notes.md").write_text("# Other notes\n")  # same name, other content
    if committed:
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-q", "-m", "move the notes")
    result = plan(docs)
    assert {e.new for e in result.edits} == {"new/notes.md#notes", "/new/notes.md"}
    assert "the only file with the same name and content is docs/new/notes.md" in result.edits[0].reason


def test_in_git_a_file_whose_content_changed_too_is_not_guessed(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "docs")
    move(docs)
    (docs / "new" / "notes.md").write_text("# Notes, rewritten\n")
    result = plan(docs)
    assert result.edits == ()
    assert any("no file with that name and content" in s.reason for s in result.skipped)


def test_switched_off_moved_files_are_left_alone_and_say_so(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    move(docs)
    settings = FixSettings(moved_files=False)
    result = run_sync(plan_fixes(CheckConfig(), collect_inputs([str(docs)]), settings, cwd=tmp_path))
    assert result.edits == ()
    assert {s.reason for s in result.skipped} == {"moved files are switched off"}


def test_a_source_changed_between_the_check_and_the_plan_is_skipped_with_a_warning(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    move(docs)
    inputs = collect_inputs([str(docs)])
    report = run_sync(check_async(CheckConfig(all_referrers=True), inputs))
    index = (docs / "index.md").resolve()
    stale = {index: FileStamp(index, "0" * 64, 0)}  # the check read other bytes than the file now holds

    async def planned() -> FixPlan:
        async with Prober(CheckConfig(), sites=inputs.sites) as prober:
            planner = Planner(
                FixSettings(), prober, sites=inputs.sites, roots=(docs,), stamps=stale, cwd=tmp_path
            )
            return await planner.plan(report.results)

    result = run_sync(planned())
    assert result.edits == ()
    assert result.warnings == ("docs/index.md: changed since the check; skipped (run fix again)",)


def test_the_actions_fix_mode_writes_the_real_diff_to_the_job_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = make_tree(tmp_path)
    move(docs)
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.chdir(tmp_path)
    before = (docs / "index.md").read_bytes()
    env = {"LINKDOCTOR_FIX": "true", "LINKDOCTOR_ARGS": "docs --no-config", "GITHUB_STEP_SUMMARY": str(summary),
           "GITHUB_OUTPUT": str(outputs)}  # fmt: skip
    assert run_fix_summary(env, stdout=io.StringIO()) == 0
    text = summary.read_text()
    assert "**2 links can be repaired in 1 file.** Run `linkdoctor fix docs --no-config --apply`" in text
    assert "-- [rooted](/old/notes.md)\n+- [notes](new/notes.md#notes)\n+- [rooted](/new/notes.md)\n" in text
    assert outputs.read_text() == "fixes=2\n"
    assert (docs / "index.md").read_bytes() == before  # a dry run


def test_the_json_diff_applies_with_git_apply_to_the_same_bytes_as_apply(tmp_path: Path) -> None:
    docs = make_tree(tmp_path)
    (docs / "crlf.md").write_bytes(b"# CRLF\r\n\r\n  [notes](old/notes.md)\r\n")
    move(docs)
    result = plan(docs)
    patch = plan_to_dict(result, root=tmp_path)["diff"]
    copy = tmp_path / "copy"
    shutil.copytree(docs, copy / "docs")
    (tmp_path / "fix.patch").write_bytes(patch.encode())
    subprocess.run(["git", "apply", "--whitespace=nowarn", str(tmp_path / "fix.patch")], cwd=copy, check=True,
                   capture_output=True, timeout=30)  # fmt: skip
    apply_plan(result)
    for name in ("index.md", "crlf.md"):
        assert (copy / "docs" / name).read_bytes() == (docs / name).read_bytes(), name
    assert (docs / "crlf.md").read_bytes() == b"# CRLF\r\n\r\n  [notes](new/notes.md)\r\n"
