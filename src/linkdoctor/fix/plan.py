"""Planning ``fix``: from a check's results to the edits that repair what can be proven, and the reasons for
the rest. For each result the rules (:mod:`linkdoctor.fix.rules`), the probes (:mod:`linkdoctor.fix.probe`),
the anchor matcher (:mod:`linkdoctor.fix.anchors`) or the tree index (:mod:`linkdoctor.fix.sources`) decide a
:class:`~linkdoctor.fix.model.Proposal` or a :class:`~linkdoctor.fix.model.Skipped`; then each place the
report lists for the link (a source file and a line) is found in the source as written
(:mod:`linkdoctor.fix.locate`) and becomes an :class:`~linkdoctor.fix.model.Edit` that keeps the author's
form (relative stays relative). Nothing is written here: :mod:`linkdoctor.fix.apply` writes.

What a server, an archive or a saved report says is not trusted. A new URL is written only when it is
http(s) (``file:`` for a moved local file) with a plain host, and every character that could end a
Markdown link or an HTML attribute (quotes, brackets, parentheses, ``<>``, spaces, controls, non-ASCII) is
percent-encoded (:func:`safe_url`). A file is edited only when it is a regular file inside the folders and
files the run was given (the working directory for a saved report), symlinks resolved.

    async with Prober(config, sites=sites) as prober:
        plan = await Planner(settings, prober, sites=sites, roots=roots, stamps=stamps).plan(report.results)
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlunsplit

from linkdoctor.engine.documents import extract_document, links_base
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.engine.local import path_of
from linkdoctor.extract.model import LinkRow
from linkdoctor.fix.anchors import headings, match_anchor
from linkdoctor.fix.locate import (
    Source,
    Undecodable,
    escape_like,
    find_definitions,
    find_link,
    link_end,
    parse_source,
)
from linkdoctor.fix.model import (
    ArchiveMode,
    Edit,
    FileStamp,
    FixKind,
    FixPlan,
    FixSettings,
    Proposal,
    Skipped,
)
from linkdoctor.fix.probe import Prober
from linkdoctor.fix.rules import (
    host_blocked,
    https_candidate,
    is_dead_external,
    is_missing_anchor,
    is_missing_file,
    judge_redirect,
)
from linkdoctor.fix.sources import TreeIndex, former_content, source_kind, stamp
from linkdoctor.models import CheckResult
from linkdoctor.urls import origin, resolve, scheme_of, split_fragment, split_url

PROBE_CONCURRENCY: Final = 16
_FRAGMENT_SAFE: Final = "!$&'*+,;=:@/?-._~"
MAX_SOURCE_BYTES: Final = 32 * 1024 * 1024  # a source file larger than this is not read for editing
# Characters a new URL keeps as they are in its path, query and fragment (RFC 3986's unreserved and those
# delimiters that cannot end a Markdown link or an HTML attribute); all else is percent-encoded.
_URL_UNSAFE: Final = re.compile(r"[^A-Za-z0-9\-._~:/?#@!$&*+,;=%]")
_PLAIN_HOST: Final = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def safe_url(url: str, *, local: bool = False) -> str | None:
    """``url`` as ``fix`` may write it into a source, or None: an http(s) URL (``file:`` when ``local``) with a
    plain host (and port), whose other characters that could end a link or an attribute are
    percent-encoded (UTF-8; a lone surrogate is refused).

    >>> safe_url('https://e.org/new"><script>x(1)</script>')
    'https://e.org/new%22%3E%3Cscript%3Ex%281%29%3C/script%3E'
    >>> safe_url("javascript:alert(1)") is None, safe_url("https://e.org'x/") is None
    (True, True)
    """
    parts = split_url(url)
    if parts.scheme not in ("http", "https") and not (local and parts.scheme == "file"):
        return None
    if (parts.netloc or parts.scheme != "file") and _PLAIN_HOST.fullmatch(parts.netloc) is None:
        return None
    try:
        rest = _URL_UNSAFE.sub(
            lambda m: quote(m[0], safe=""), url[len(parts.scheme) + 3 + len(parts.netloc) :]
        )
    except UnicodeEncodeError:
        return None
    return f"{parts.scheme}://{parts.netloc}{rest}"


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A source file read for editing: its stamp now, its text, its link rows and their base URL."""

    path: Path
    stamp: FileStamp
    source: Source
    rows: tuple[LinkRow, ...]
    base: str


class Planner:
    """Plans the edits for one run. ``sites`` map site URLs to folders (``--base-url``); ``roots`` are the
    input folders and files, searched for moved files; ``editable`` the folders and files whose sources may
    be edited (the working directory when empty); ``stamps`` are the sources as the check read them, and
    ``since_ns`` (a saved report's time) marks files changed after it: either skips a changed file."""

    def __init__(
        self,
        settings: FixSettings,
        prober: Prober,
        *,
        sites: tuple[LocalSite, ...] = (),
        roots: tuple[Path, ...] = (),
        stamps: Mapping[Path, FileStamp] | None = None,
        since_ns: int | None = None,
        cwd: Path | None = None,
        editable: tuple[Path, ...] = (),
    ) -> None:
        self._settings = settings
        self._prober = prober
        self._sites = sites
        self._roots = roots
        self._stamps = stamps
        self._since_ns = since_ns
        self._cwd = cwd or Path.cwd()
        self._editable_roots = tuple(root.resolve() for root in editable or (self._cwd,))
        self._tree: TreeIndex | None = None
        self._files: dict[Path, _Loaded | None] = {}
        self._warnings: list[str] = []
        self._remote: dict[str, None] = {}  # pages on servers where a repairable link was found

    async def plan(self, results: Iterable[CheckResult]) -> FixPlan:
        """Every edit and every skip for ``results``."""
        results = list(results)
        chosen = [r for r in results if r.referrers]
        counted = sum(1 for r in results if not r.referrers and r.referrer_count and r.redirects)
        if counted:
            self._warn(
                f"{counted} redirected links were saved without the places they were found (only counted); "
                "save the report with check --all-referrers to repair them"
            )
        limit = asyncio.Semaphore(PROBE_CONCURRENCY)

        async def judge(result: CheckResult) -> Proposal | Skipped | None:
            async with limit:
                return await self.judge(result)

        verdicts = await asyncio.gather(*(judge(r) for r in chosen))
        edits: dict[tuple[Path, int, int], Edit] = {}
        conflicts: set[tuple[Path, int, int]] = set()
        skipped: list[Skipped] = []
        for result, verdict in zip(chosen, verdicts, strict=True):
            if isinstance(verdict, Skipped):
                skipped.append(verdict)
            elif isinstance(verdict, Proposal):
                for edit in self._edits(result, verdict):
                    key = (edit.path, edit.start, edit.end)
                    if key in edits and edits[key].new != edit.new:
                        conflicts.add(key)
                        self._warn(f"{self._show(edit.path)}:{edit.line}: two repairs disagree; left alone")
                    edits.setdefault(key, edit)
        if self._remote:
            example = next(iter(self._remote))
            self._warn(
                f"{len(self._remote)} pages with repairable links are not local sources (e.g. {example}); "
                "fix edits Markdown and HTML files: give their folder (with --base-url for a built site)"
            )
        kept = sorted(
            (e for k, e in edits.items() if k not in conflicts), key=lambda e: (str(e.path), e.start)
        )
        stamps = tuple(
            loaded.stamp for path in dict.fromkeys(e.path for e in kept) if (loaded := self._files.get(path))
        )
        return FixPlan(tuple(kept), tuple(skipped), tuple(dict.fromkeys(self._warnings)), stamps)

    # --- deciding --------------------------------------------------------------------------------------------
    async def judge(self, result: CheckResult) -> Proposal | Skipped | None:
        """The repair of one result, the reason there is none, or None (nothing to repair). A new URL that
        :func:`safe_url` refuses is skipped, and the one written is its percent-encoded form."""
        verdict = await self._judge(result)
        if not isinstance(verdict, Proposal):
            return verdict
        new = safe_url(verdict.new_url, local=result.url.startswith("file:"))
        if new is None:
            return Skipped(
                result.url,
                f"the new URL {verdict.new_url[:200]!r} is not a plain http(s) URL; not written",
                verdict.kind,
            )
        return Proposal(verdict.url, new, verdict.kind, verdict.reason.replace(verdict.new_url, new))

    async def _judge(self, result: CheckResult) -> Proposal | Skipped | None:
        settings = self._settings
        if (https := https_candidate(result)) is not None:
            if not settings.https_upgrades:
                return Skipped(result.url, "http → https upgrades are switched off", FixKind.HTTPS)
            if (blocked := host_blocked(result.url, settings)) is not None:
                return Skipped(result.url, blocked, FixKind.HTTPS)
            return await self._prober.https_upgrade(result, https)
        if (verdict := judge_redirect(result, settings)) is not None:
            return verdict
        if is_missing_anchor(result):
            return await self._anchor(result)
        if is_missing_file(result):
            return self._moved(result)
        if is_dead_external(result):
            return await self._archive(result)
        return None

    async def _anchor(self, result: CheckResult) -> Proposal | Skipped:
        page_url, fragment = split_fragment(result.url)
        if not self._settings.moved_anchors:
            return Skipped(result.url, "moved anchors are switched off", FixKind.ANCHOR)
        if (blocked := host_blocked(page_url, self._settings)) is not None:
            return Skipped(result.url, blocked, FixKind.ANCHOR)
        page = await self._prober.page(result.final_url or page_url)
        if page is None:
            return Skipped(result.url, "the target page could not be read again", FixKind.ANCHOR)
        places = headings(page.kind, page.text)
        match = match_anchor(fragment, places)
        if match.target is None:
            if match.candidates:
                tied = ", ".join(f"#{c}" for c in match.candidates)
                return Skipped(
                    result.url, f"#{fragment} is ambiguous: {tied} all match; not guessed", FixKind.ANCHOR
                )
            return Skipped(result.url, f"no heading or id on the page matches #{fragment}", FixKind.ANCHOR)
        text = next((p.text for p in places if p.id == match.target and p.text), "")
        what = f"the heading {text!r}" if text else f"the id {match.target!r}"
        new = f"{page_url}#{quote(match.target, safe=_FRAGMENT_SAFE)}"
        return Proposal(result.url, new, FixKind.ANCHOR, f"#{fragment} moved: {what} is now #{match.target}")

    def _moved(self, result: CheckResult) -> Proposal | Skipped:
        url, fragment = split_fragment(result.url)
        if not self._settings.moved_files:
            return Skipped(result.url, "moved files are switched off", FixKind.FILE)
        site = self._site_for(url)
        old = path_of(url, site)
        if old is None:
            return Skipped(result.url, "not a local file", FixKind.FILE)
        if self._tree is None:
            self._tree = TreeIndex(self._roots)
        candidates = [p for p in self._tree.named(old.name) if p != old.resolve()]
        former = former_content(old)
        if former is not None:
            candidates = [p for p in candidates if _content(p) == former]
        same = "name and content" if former is not None else "name"
        if len(candidates) != 1:
            found = ", ".join(self._show(p) for p in candidates[:5])
            why = (
                f"{len(candidates)} files with the same {same} ({found})"
                if candidates
                else f"no file with that {same}"
            )
            return Skipped(result.url, f"{old.name} moved? {why} in the tree; not guessed", FixKind.FILE)
        new_path = candidates[0]
        new_url = site.url_for(new_path) if site is not None else new_path.as_uri()
        if fragment:
            new_url = f"{new_url}#{fragment}"
        return Proposal(
            result.url, new_url, FixKind.FILE,
            f"{self._show(old)} is missing; the only file with the same {same} is {self._show(new_path)}",
        )  # fmt: skip

    async def _archive(self, result: CheckResult) -> Proposal | Skipped:
        url = split_fragment(result.url)[0]
        if (blocked := host_blocked(url, self._settings)) is not None:
            return Skipped(result.url, blocked, FixKind.ARCHIVE)
        dead = f"dead ({result.status or result.error})"
        copy = await self._prober.archived_copy(url, self._settings.archive_endpoint)
        if copy is None:
            return Skipped(result.url, f"{dead}; no archived copy found", FixKind.ARCHIVE)
        if not self._settings.archive:
            return Skipped(
                result.url,
                f"{dead}; an archived copy exists (--apply --archive writes it)",
                FixKind.ARCHIVE,
                copy,
            )
        return Proposal(result.url, copy, FixKind.ARCHIVE, f"{dead}; the closest archived copy")

    # --- finding it in the sources -----------------------------------------------------------------------------
    def _edits(self, result: CheckResult, proposal: Proposal) -> list[Edit]:
        edits: list[Edit] = []
        for referrer in result.referrers:
            path = path_of(referrer.url, self._site_for(referrer.url))
            if path is None or source_kind(path) is None:
                self._remote[referrer.url] = None  # a page on a server, not a source this run can edit
                continue
            if not self._editable(path):
                continue
            loaded = self._load(path, referrer.url)
            if loaded is None:
                continue
            where = f"{self._show(path)}:{referrer.line or '?'}"
            found = self._edits_at(loaded, referrer.line, result.url, proposal) if referrer.line else []
            if not found:
                self._warn(f"{where}: {result.url} is not written there as a link outside code; left alone")
            edits.extend(found)
        return edits

    def _edits_at(self, loaded: _Loaded, line: int, url: str, proposal: Proposal) -> list[Edit]:
        source = loaded.source
        edits = []
        site = self._site_for(loaded.base)
        local_root = site.base if site is not None and site.base.startswith("file:") else None
        for written in self._written(loaded, line, url):
            new = written_form(written, proposal, loaded.base, local_root=local_root)
            spans = find_link(source, line, written) or find_definitions(source, written)
            for start, end in spans:
                spelled = source.text[start:end]
                replacement = new if spelled == written else escape_like(spelled, new)
                edits.append(self._edit(loaded, start, end, spelled, replacement, proposal))
        return edits

    def _edit(self, loaded: _Loaded, start: int, end: int, old: str, new: str, proposal: Proposal) -> Edit:
        source = loaded.source
        if proposal.kind is FixKind.ARCHIVE and self._settings.archive_mode is ArchiveMode.NOTE:
            stop = link_end(source, end)
            if stop is not None:
                note = (
                    f" ([archived copy]({new}))"
                    if source.kind == "markdown"
                    else f' (<a href="{new}">archived copy</a>)'
                )
                at = source.byte_offset(stop)
                return Edit(loaded.path, source.line_of(start), at, at, old, note, proposal.kind,
                            proposal.reason, source.encoding)  # fmt: skip
        return Edit(
            loaded.path, source.line_of(start), source.byte_offset(start), source.byte_offset(end), old, new,
            proposal.kind, proposal.reason, source.encoding,
        )  # fmt: skip

    def _written(self, loaded: _Loaded, line: int, url: str) -> list[str]:
        """The links on ``line`` as written that resolve to ``url`` (without a fragment, to it or its page)."""
        found: dict[str, None] = {}
        site = self._site_for(loaded.base)
        local_root = site.base if site is not None and site.base.startswith("file:") else None
        for raw, row_line, _, _ in loaded.rows:
            if row_line != line:
                continue
            rooted = local_root is not None and raw.startswith("/") and not raw.startswith("//")
            resolved = resolve(loaded.base, f"{local_root}{raw.lstrip('/')}" if rooted else raw)
            if isinstance(resolved, str) and (
                resolved == url or ("#" not in url and split_fragment(resolved)[0] == url)
            ):
                found[raw.strip()] = None
        return list(found)

    def _editable(self, path: Path) -> bool:
        """Whether ``path`` is a regular file inside what the run was given (its roots, else the working
        directory), symlinks resolved; else a warning says why it is left alone."""
        resolved = path.resolve()
        if not any(resolved == root or root in resolved.parents for root in self._editable_roots):
            how = "leads" if resolved != path.absolute() else "is"
            self._warn(f"{self._show(path)}: {how} outside the folders and files given; not edited")
            return False
        try:
            info = resolved.stat()
        except OSError:
            return True  # _load says why it cannot be read
        if not stat.S_ISREG(info.st_mode):
            self._warn(f"{self._show(path)}: not a regular file; not edited")
            return False
        if info.st_size > MAX_SOURCE_BYTES:
            self._warn(f"{self._show(path)}: larger than {MAX_SOURCE_BYTES // 2**20} MiB; not edited")
            return False
        return True

    def _load(self, path: Path, url: str) -> _Loaded | None:
        path = path.resolve()
        if path in self._files:
            return self._files[path]
        loaded: _Loaded | None = None
        kind = source_kind(path) or "html"
        try:
            raw = path.read_bytes()
            now = stamp(path, raw)
            before = self._stamps.get(path) if self._stamps is not None else None
            if before is not None and before.sha256 != now.sha256:
                self._warn(f"{self._show(path)}: changed since the check; skipped (run fix again)")
            elif self._since_ns is not None and now.mtime_ns > self._since_ns:
                self._warn(f"{self._show(path)}: changed since the report was written; skipped")
            else:
                source = parse_source(kind, raw)
                extraction = extract_document(kind, source.text)
                loaded = _Loaded(path, now, source, extraction.rows, links_base(url, extraction.base_href))
        except OSError as exc:
            self._warn(f"{self._show(path)}: cannot read: {exc.strerror}")
        except Undecodable as exc:
            self._warn(f"{self._show(path)}: {exc}; skipped")
        self._files[path] = loaded
        return loaded

    def _site_for(self, url: str) -> LocalSite | None:
        return next((s for s in self._sites if url.startswith(s.base)), None)

    def _show(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self._cwd.resolve()).as_posix()
        except ValueError:
            return str(path)

    def _warn(self, message: str) -> None:
        self._warnings.append(message)


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def written_form(written: str, proposal: Proposal, base: str, *, local_root: str | None = None) -> str:
    """The replacement for ``written`` in the author's form: an absolute URL stays absolute, a relative one
    (to the same origin) stays relative, a changed fragment changes only the fragment. ``local_root``: the
    ``file:`` URL of a local folder, where a path from the root (``/guide.md``) starts.

    >>> p = Proposal("file:///d/a.md", "file:///d/new/a.md#x", FixKind.FILE, "")
    >>> written_form("a.md#x", p, "file:///d/index.md")
    'new/a.md#x'
    """
    new = proposal.new_url
    if "#" in written and "#" not in new:
        new = f"{new}#{written.partition('#')[2]}"
    if proposal.kind is FixKind.ANCHOR:
        return f"{written.partition('#')[0]}#{new.partition('#')[2]}"
    if scheme_of(written) or origin(new) != origin(base):
        return new
    parts = split_url(new)
    if written.startswith("//"):
        return new.partition(":")[2]
    if written.startswith("/"):
        if local_root is not None:
            if not new.startswith(local_root):
                return new
            parts = split_url("/" + new[len(local_root) :])
        return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    directory = posixpath.dirname(split_url(base).path) or "/"
    relative = posixpath.relpath(parts.path, directory)
    if parts.path.endswith("/") and not relative.endswith("/"):
        relative += "/"
    return urlunsplit(("", "", relative, parts.query, parts.fragment))
