"""Writing ``fix``'s edits: spliced at their byte offsets (nothing else changes), atomically (a temporary file,
then a rename; the mode kept; nothing left behind on failure), and never over a file changed since it was
planned; and the dry run's diff."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from linkdoctor.fix.apply import apply_plan, edited_bytes, write_atomically
from linkdoctor.fix.model import Edit, FixKind, FixPlan
from linkdoctor.fix.render import plan_to_dict, unified_diff
from linkdoctor.fix.sources import stamp

OLD, NEW = "http://a.example/old", "https://a.example/new"


def plan_for(path: Path, *, line: int = 2) -> FixPlan:
    raw = path.read_bytes()
    start = raw.index(OLD.encode())
    edit = Edit(path, line, start, start + len(OLD), OLD, NEW, FixKind.REDIRECT, "permanent redirect (301)")
    return FixPlan((edit,), stamps=(stamp(path),))


def test_only_the_url_changes_crlf_and_all(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_bytes(f"# A\r\n  * [x]({OLD}) \t\r\nend".encode())
    assert apply_plan(plan_for(path)).written == (path,)
    assert path.read_bytes() == f"# A\r\n  * [x]({NEW}) \t\r\nend".encode()


def test_the_file_mode_is_kept_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(f"# A\n[x]({OLD})\n")
    path.chmod(0o640)
    apply_plan(plan_for(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_a_file_changed_since_the_plan_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(f"# A\n[x]({OLD})\n")
    plan = plan_for(path)
    path.write_text(f"# A (edited)\n[x]({OLD})\n")
    outcome = apply_plan(plan)
    assert outcome.written == ()
    assert outcome.warnings == (f"{path}: changed since the check; skipped (run fix again)",)
    assert path.read_text() == f"# A (edited)\n[x]({OLD})\n"


def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.md"
    path.write_text("before")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, b"after")
    assert path.read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_overlapping_edits_are_refused() -> None:
    a = Edit(Path("a"), 1, 0, 5, "", "x", FixKind.REDIRECT, "")
    b = Edit(Path("a"), 1, 3, 6, "", "y", FixKind.REDIRECT, "")
    with pytest.raises(ValueError, match="overlapping"):
        edited_bytes(b"0123456789", [a, b])


def test_a_note_is_inserted_after_the_link(tmp_path: Path) -> None:
    note = Edit(Path("a"), 1, 6, 6, "x", " (note)", FixKind.ARCHIVE, "")
    assert note.is_note
    assert edited_bytes(b"[a](x) rest", [note]) == b"[a](x) (note) rest"


def test_the_diff_and_the_json_name_file_line_old_new_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "a.md"
    path.parent.mkdir()
    path.write_text(f"# A\n[x]({OLD})\n")
    plan = plan_for(path)
    diff = unified_diff(plan, root=tmp_path)
    assert diff.startswith("--- a/docs/a.md\n+++ b/docs/a.md\n")
    assert f"-[x]({OLD})\n+[x]({NEW})\n" in diff
    assert plan_to_dict(plan, root=tmp_path)["diff"] == diff
    assert plan_to_dict(plan, root=tmp_path)["edits"] == [
        {"file": "docs/a.md", "line": 2, "old": OLD, "new": NEW, "kind": "redirect",
         "reason": "permanent redirect (301)"}
    ]  # fmt: skip


def test_the_owner_group_and_set_id_bits_stay_and_a_read_only_or_hard_linked_file_is_refused(
    tmp_path: Path,
) -> None:
    owned = tmp_path / "owned.md"
    owned.write_text("before")
    # Another owner and group where this user may give them (root), else this user's own: either way kept.
    nobody = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(owned, *nobody)
    owned.chmod(0o4751)
    write_atomically(owned, b"after")
    kept = owned.stat()
    assert (kept.st_uid, kept.st_gid, stat.S_IMODE(kept.st_mode), owned.read_bytes()) == (
        *nobody,
        0o4751,
        b"after",
    )

    read_only = tmp_path / "read-only.md"
    read_only.write_text("before")
    read_only.chmod(0o444)
    linked = tmp_path / "linked.md"
    linked.write_text("before")
    os.link(linked, tmp_path / "twin.md")
    for path, reason in ((read_only, "read-only"), (linked, "2 hard links")):
        with pytest.raises(ValueError, match=reason):
            write_atomically(path, b"after")
        assert path.read_text() == "before"
    assert (tmp_path / "twin.md").read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["linked.md", "owned.md", "read-only.md", "twin.md"]
