"""How a plan is shown: a unified diff per file (the dry run's output, and the GitHub job summary's), the
JSON listing of the edits (file, line, old, new, reason, kind), the skipped links and warnings as text.

    sys.stdout.write(unified_diff(plan, root=Path.cwd()))
    json.dump(plan_to_dict(plan, root=Path.cwd()), sys.stdout)
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from linkdoctor.fix.apply import edited_bytes
from linkdoctor.fix.model import FixPlan

JSON_VERSION = 1


def _name(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def unified_diff(plan: FixPlan, *, root: Path) -> str:
    """The plan as ``git diff``-style unified diffs (``a/`` and ``b/`` paths relative to ``root``)."""
    chunks: list[str] = []
    for path in plan.files():
        edits = [e for e in plan.edits if e.path == path]
        encoding = edits[0].encoding
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        before = raw.decode(encoding, "surrogateescape").splitlines(keepends=True)
        after = edited_bytes(raw, edits).decode(encoding, "surrogateescape").splitlines(keepends=True)
        name = _name(path, root)
        for line in difflib.unified_diff(before, after, f"a/{name}", f"b/{name}", n=1):
            chunks.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(chunks)


def plan_to_dict(plan: FixPlan, *, root: Path) -> dict[str, Any]:
    """The plan as JSON-ready data: ``edits``, ``skipped``, ``warnings``, and the ``diff`` (``git apply`` takes
    it)."""
    return {
        "version": JSON_VERSION,
        "edits": [
            {
                "file": _name(e.path, root),
                "line": e.line,
                "old": e.old,
                "new": e.new,
                "kind": e.kind.value,
                "reason": e.reason,
                **({"note": True} if e.is_note else {}),
            }
            for e in plan.edits
        ],
        "skipped": [
            {
                "url": s.url,
                "kind": s.kind.value if s.kind else None,
                "reason": s.reason,
                **({"suggestion": s.suggestion} if s.suggestion else {}),
            }
            for s in plan.skipped
        ],
        "warnings": list(plan.warnings),
        "diff": unified_diff(plan, root=root),
    }


def summary_lines(plan: FixPlan, *, root: Path) -> list[str]:
    """One line per edit, skipped link and warning, for the terminal (stderr) after the diff."""
    lines = [f"{_name(e.path, root)}:{e.line}: {e.kind.value}: {e.reason}" for e in plan.edits]
    for skip in plan.skipped:
        hint = f" (suggestion: {skip.suggestion})" if skip.suggestion else ""
        lines.append(f"skipped {skip.url}: {skip.reason}{hint}")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return lines
