"""The files ``fix`` reads: stamping sources as the check saw them (SHA-256 and modification time), loading a
source for editing, listing the input tree by file name, and recovering a moved file's former content from
git (``git show HEAD:path``) when the tree is a repository, so a moved file is matched by name *and* content.

    stamps = stamp_tree([Path("docs")])          # before the check
    tree = TreeIndex([Path("docs")])
    tree.named("install.md")                     # every file of that name under the roots
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from linkdoctor.fix.model import FileStamp

SOURCE_SUFFIXES: Final = frozenset({".md", ".markdown", ".html", ".htm", ".xhtml"})
_SKIPPED_DIRS: Final = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"})
_GIT_TIMEOUT: Final = 10.0


def source_kind(path: Path) -> str | None:
    """``markdown`` or ``html`` for a file ``fix`` can edit, by its suffix; None for others."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return "markdown"
    if suffix in (".html", ".htm", ".xhtml"):
        return "html"
    return None


def stamp(path: Path, raw: bytes | None = None) -> FileStamp:
    """The stamp of ``path`` now (``raw``: its bytes, when already read)."""
    if raw is None:
        raw = path.read_bytes()
    return FileStamp(path, hashlib.sha256(raw).hexdigest(), path.stat().st_mtime_ns)


def _walk(roots: Iterable[Path]) -> Iterable[Path]:
    for root in roots:
        if root.is_file():
            yield root.resolve()
            continue
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
            for name in sorted(files):
                yield (Path(directory) / name).resolve()


def stamp_tree(roots: Iterable[Path]) -> dict[Path, FileStamp]:
    """Stamps of every Markdown and HTML file under ``roots`` (files or folders)."""
    stamps = {}
    for path in _walk(roots):
        if source_kind(path) is not None:
            try:
                stamps[path] = stamp(path)
            except OSError:
                continue
    return stamps


class TreeIndex:
    """The files under the input roots by name, listed once."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self._by_name: dict[str, list[Path]] = {}
        for path in _walk(roots):
            self._by_name.setdefault(path.name, []).append(path)

    def named(self, name: str) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(self._by_name.get(name, ())))


def former_content(path: Path) -> bytes | None:
    """What ``path`` held before it moved, from the git repository around it: the last commit's version, or
    when the move is committed already, the version before the commit that removed it (None: no repository,
    no git, or the path was never committed)."""
    directory = path.parent
    while not directory.is_dir() and directory != directory.parent:
        directory = directory.parent
    root = _git(directory, "rev-parse", "--show-toplevel")
    if root is None:
        return None
    top = Path(root.decode().strip()).resolve()
    try:
        relative = path.resolve().relative_to(top).as_posix()
    except ValueError:
        return None
    current = _git(top, "show", f"HEAD:{relative}")
    if current is not None:
        return current
    removed = _git(top, "log", "-n", "1", "--format=%H", "--", relative)
    if not removed or not removed.strip():
        return None
    return _git(top, "show", f"{removed.decode().strip()}^:{relative}")


def _git(directory: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, timeout=_GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None
