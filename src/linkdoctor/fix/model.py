"""The values of ``linkdoctor fix``: which kinds of repair are switched on (:class:`FixSettings`), what a repair
of one link is (:class:`Proposal`), why a link was left alone (:class:`Skipped`), one change to a source file
(:class:`Edit`), a source file as the check saw it (:class:`FileStamp`), and the whole plan (:class:`FixPlan`).

Everything here is a frozen value; planning (:mod:`linkdoctor.fix.plan`) makes them, rendering
(:mod:`linkdoctor.fix.render`) and applying (:mod:`linkdoctor.fix.apply`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from linkdoctor.options import DEFAULT_ARCHIVE_ENDPOINT


class FixKind(StrEnum):
    """A kind of repair; each can be switched off (``--no-redirects`` …, ``[fix]`` in the config file)."""

    REDIRECT = "redirect"  # a permanent redirect (301, 308) to an ok target, chains collapsed
    HTTPS = "https"  # http:// → https:// when the https URL answers the same
    ANCHOR = "anchor"  # a missing #fragment → the unique id of the same heading
    FILE = "file"  # a relative link to a local file that moved elsewhere in the tree
    ARCHIVE = "archive"  # a dead external link → its closest archived copy (only with --archive)


class ArchiveMode(StrEnum):
    """How an archived copy is written: replacing the dead URL, or as a note after the link."""

    REWRITE = "rewrite"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class FixSettings:
    """What ``fix`` may repair. ``allow_hosts`` (empty: every host) and ``deny_hosts`` are host patterns
    (``example.org``, ``*.example.org``) matched against the host of the link as written and of its
    replacement. ``archive`` writes archived copies (otherwise they are only suggested).

    >>> FixSettings().enabled(FixKind.REDIRECT), FixSettings().archive
    (True, False)
    """

    redirects: bool = True
    https_upgrades: bool = True
    moved_anchors: bool = True
    moved_files: bool = True
    allow_hosts: tuple[str, ...] = ()
    deny_hosts: tuple[str, ...] = ()
    archive: bool = False
    archive_endpoint: str = DEFAULT_ARCHIVE_ENDPOINT
    archive_mode: ArchiveMode = ArchiveMode.REWRITE

    def enabled(self, kind: FixKind) -> bool:
        return {
            FixKind.REDIRECT: self.redirects,
            FixKind.HTTPS: self.https_upgrades,
            FixKind.ANCHOR: self.moved_anchors,
            FixKind.FILE: self.moved_files,
            FixKind.ARCHIVE: self.archive,
        }[kind]


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proven repair of one checked URL: ``url`` (absolute, as the check reported it) becomes ``new_url``
    (absolute too; each source keeps the form its author wrote, relative or not)."""

    url: str
    new_url: str
    kind: FixKind
    reason: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A link ``fix`` looked at and left alone, and why (a temporary redirect, a login page, an ambiguous
    anchor …). ``suggestion`` is a replacement worth a look that is not proven (an archived copy)."""

    url: str
    reason: str
    kind: FixKind | None = None
    suggestion: str = ""


@dataclass(frozen=True, slots=True)
class Edit:
    """One change in one source file: the bytes ``start:end`` (``old``, the URL as written on ``line``)
    become ``new`` in the file's ``encoding``. A note added after a link replaces nothing: ``start == end``,
    and ``old`` is the URL it follows."""

    path: Path
    line: int
    start: int
    end: int
    old: str
    new: str
    kind: FixKind
    reason: str
    encoding: str = "utf-8"

    @property
    def is_note(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True, slots=True)
class FileStamp:
    """A source file as the check read it: its SHA-256 and modification time, so a file changed since is
    skipped instead of overwritten."""

    path: Path
    sha256: str
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class FixPlan:
    """Everything ``fix`` found: the edits (in file and offset order), the links it left alone and why,
    warnings (a URL not found in its source, a file changed since the check), and the files' stamps."""

    edits: tuple[Edit, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    warnings: tuple[str, ...] = ()
    stamps: tuple[FileStamp, ...] = field(default=())

    def files(self) -> tuple[Path, ...]:
        """The files the edits change, in order."""
        return tuple(dict.fromkeys(edit.path for edit in self.edits))

    def stamp(self, path: Path) -> FileStamp | None:
        return next((s for s in self.stamps if s.path == path), None)
