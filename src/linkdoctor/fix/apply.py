"""Writing a plan's edits: each file is read again, compared with its stamp (a file changed since it was
planned is skipped with a warning, never overwritten), spliced at the edits' byte offsets so every other byte
stays as it was, and replaced atomically (a temporary file beside it, flushed, given the file's mode, then
renamed over it).

    outcome = apply_plan(plan)
    outcome.written      # the files changed
    outcome.warnings     # the files skipped, and why
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from linkdoctor.fix.model import Edit, FixPlan


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """The files written, and warnings for the ones skipped."""

    written: tuple[Path, ...] = ()
    warnings: tuple[str, ...] = ()


def edited_bytes(raw: bytes, edits: Sequence[Edit]) -> bytes:
    """``raw`` with ``edits`` (of this file, in any order, none overlapping) spliced in.

    >>> from linkdoctor.fix.model import FixKind
    >>> e = Edit(Path("a.md"), 1, 4, 7, "old", "new!", FixKind.REDIRECT, "")
    >>> edited_bytes(b"[a](old)\\r\\n", [e])
    b'[a](new!)\\r\\n'
    """
    out = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < position:
            raise ValueError(f"overlapping edits at byte {edit.start}")
        out.append(raw[position : edit.start])
        out.append(edit.new.encode(edit.encoding, "surrogateescape"))
        position = edit.end
    out.append(raw[position:])
    return b"".join(out)


def apply_plan(plan: FixPlan) -> ApplyOutcome:
    """Write every file of ``plan`` whose content is still what was planned."""
    written: list[Path] = []
    warnings: list[str] = []
    for path in plan.files():
        edits = [e for e in plan.edits if e.path == path]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            warnings.append(f"{path}: cannot read: {exc.strerror}; skipped")
            continue
        expected = plan.stamp(path)
        if expected is not None and hashlib.sha256(raw).hexdigest() != expected.sha256:
            warnings.append(f"{path}: changed since the check; skipped (run fix again)")
            continue
        try:
            write_atomically(path, edited_bytes(raw, edits))
        except (OSError, ValueError) as exc:
            warnings.append(f"{path}: not written: {exc}")
            continue
        written.append(path)
    return ApplyOutcome(tuple(written), tuple(warnings))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temporary file in the same folder, then a rename; the owner, the group
    and the mode stay. A read-only file, one with other hard links (a new file would split them) and one
    whose owner or group this user cannot give the new file are refused (``ValueError``), not replaced."""
    info = path.stat()
    if not info.st_mode & stat.S_IWUSR:
        raise ValueError("the file is read-only")
    if info.st_nlink > 1:
        raise ValueError(f"the file has {info.st_nlink} hard links; replacing it would split them")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".fix", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        mine = os.stat(temporary)
        if (mine.st_uid, mine.st_gid) != (info.st_uid, info.st_gid):
            try:
                os.chown(temporary, info.st_uid, info.st_gid)  # before chmod: chown clears set-id bits
            except PermissionError:
                raise ValueError("the file belongs to another user or group") from None
        os.chmod(temporary, info.st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
