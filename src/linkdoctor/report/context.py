"""What every report format needs besides the :class:`~linkdoctor.models.Report` itself, and the small
helpers they share: where a referring page lives on disk, how a status reads, which class it falls in.

Local inputs map to URLs (``file://`` or the ``--base-url``); :meth:`RenderContext.source_path` maps a
referrer URL back to the file a user would open, relative to ``root`` when it lies under it::

    >>> from linkdoctor.engine.inputs import LocalSite
    >>> ctx = RenderContext(sites=(LocalSite(Path("/srv/site"), "https://example.org/"),), root=Path("/srv"))
    >>> ctx.source_path("https://example.org/docs/guide.md")
    'site/docs/guide.md'
    >>> ctx.source_path("https://elsewhere.example/") is None
    True
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from linkdoctor._version import __version__
from linkdoctor.classify import codes
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.models import Category, CheckResult, ErrorKind, Referrer, Report
from linkdoctor.printable import shown
from linkdoctor.urls import split_url

NO_REFERRER = "(start URL)"

# The order categories are listed and sorted in: what needs attention first.
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.BROKEN,
    Category.UNVERIFIED,
    Category.REDIRECTED,
    Category.OK,
    Category.EXCLUDED,
)


def shown_path(path: Path) -> str:
    r"""``path`` as POSIX text any output can hold: a byte of its name that is not UTF-8, and a control
    character, is shown as ``\xNN``, as Python shows it.

    >>> shown_path(Path("docs/caf" + chr(0xDCE9) + ".md"))
    'docs/caf\\xe9.md'
    """
    text = path.as_posix()
    if text.isascii() and text.isprintable():
        return text
    return shown(text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def _resolved(path: Path) -> Path:
    r"""``path`` made absolute with its links followed, or only made absolute when the system cannot
    follow them (a NUL in the name, as a report built by a library caller may hold, or a path too long).

    >>> _resolved(Path("/srv/a\x00b.md"))
    PosixPath('/srv/a\x00b.md')
    """
    try:
        return path.resolve()
    except (ValueError, OSError):
        return path.absolute()


def _under(path: Path, root: Path | None) -> Path:
    """``path`` relative to ``root`` when under it, else as it is."""
    if root is not None:
        try:
            return path.relative_to(root.resolve())
        except ValueError:
            pass
    return path


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Rendering settings shared by all formats.

    ``sites`` are the local folders of the run (``Inputs.sites``), so referrers can be shown as files;
    ``root`` is the folder file paths are shown relative to (the working directory in the CLI);
    ``tool_version`` is injected so golden files do not change with every release; ``verbose`` lists every
    referring place in the console report, and ``group_by`` (``problem`` or ``page``) is its grouping;
    ``repo_root`` is the repository the run is in (SARIF and GitHub annotations name files relative to it;
    ``root`` when ``None``).
    """

    sites: tuple[LocalSite, ...] = ()
    root: Path | None = None
    tool_version: str = __version__
    verbose: bool = False
    group_by: str = "problem"
    repo_root: Path | None = None

    def source_file(self, url: str) -> Path | None:
        """The local file behind a referrer URL, or ``None`` for a remote page."""
        site = next((s for s in self.sites if url.startswith(s.base)), None)
        if site is not None:
            return site.path_for(url)
        parts = split_url(url)
        if parts.scheme == "file":
            return Path(unquote(parts.path, errors="surrogateescape"))
        return None

    def source_path(self, url: str) -> str | None:
        """The referrer's file as a POSIX path, relative to ``root`` when under it, else absolute."""
        path = self.source_file(url)
        return None if path is None else shown_path(_under(path, self.root))

    def repo_file(self, url: str) -> Path | None:
        """The referrer's file relative to the repository (``repo_root``, else ``root``), as code scanning
        and GitHub annotations need it; absolute when outside; ``None`` for a remote page."""
        path = self.source_file(url)
        if path is None:
            return None
        if self.repo_root is None:
            return _under(path, self.root)
        return _under(_resolved(path), self.repo_root)

    def repo_path(self, url: str) -> str | None:
        """:meth:`repo_file` as text (:func:`shown_path`)."""
        path = self.repo_file(url)
        return None if path is None else shown_path(path)

    def page_label(self, url: str) -> str:
        """How a referring page is named to a reader: its file when local, else its URL."""
        if url == NO_REFERRER:
            return url
        return self.source_path(url) or url


def link_as_written(page: str, link: str) -> str:
    """``link`` as its page most likely wrote it: relative to the page when both are on the same site (or
    both local files), else absolute. The report keeps links resolved, so this is rebuilt, not read back.

    >>> link_as_written("https://e.org/docs/a.html", "https://e.org/changelog.html#v2")
    '../changelog.html#v2'
    >>> link_as_written("https://e.org/docs/a.html", "https://e.org/docs/a.html#top")
    '#top'
    >>> link_as_written("https://e.org/a.html", "https://other.org/")
    'https://other.org/'
    """
    source, target = split_url(page), split_url(link)
    if (source.scheme, source.netloc) != (target.scheme, target.netloc) or not target.path.startswith("/"):
        return link
    fragment = f"#{target.fragment}" if target.fragment else ""
    query = f"?{target.query}" if target.query else ""
    if target.path == source.path and not query:
        return fragment or posixpath.basename(target.path) or "./"
    base = posixpath.dirname(source.path) or "/"
    relative = posixpath.relpath(target.path, base)
    if target.path.endswith("/") and relative != ".":
        relative += "/"
    elif relative == ".":
        relative = "./"
    return f"{relative}{query}{fragment}"


def no_referrer_label(result: CheckResult) -> str:
    """What a result without listed referrers is shown under: a start URL, or an ok link whose referrers
    were only counted (``CheckResult.referrer_count``; ``--all-referrers`` lists them)."""
    if result.referrer_count is None:
        return NO_REFERRER
    return f"(found {result.referrer_count} times, not listed for ok links: see --all-referrers)"


def referrer_pairs(
    results: Iterable[CheckResult], categories: Iterable[Category] = (Category.BROKEN,)
) -> Iterator[tuple[CheckResult, Referrer | None]]:
    """Each (result, referrer) pair of the given categories; a result without referrers yields ``None``."""
    wanted = frozenset(categories)
    for result in results:
        if result.category not in wanted:
            continue
        if not result.referrers:
            yield result, None
        for referrer in result.referrers:
            yield result, referrer


def status_text(result: CheckResult) -> str:
    """``404``, ``400→496`` (wire status and the precise cause), an error kind, or ``-``."""
    if result.status is None:
        return result.error.value if result.error else "-"
    if result.precise_status and result.precise_status != result.status:
        return f"{result.status}→{result.precise_status}"
    return str(result.status)


def status_class(result: CheckResult) -> str:
    """The class of the wire status for charts: ``2xx`` … ``5xx``, or why there is none."""
    if result.status is not None:
        return f"{result.status // 100}xx" if 100 <= result.status <= 599 else "other"
    if result.category is Category.EXCLUDED:
        return "not checked"
    if result.error is ErrorKind.FILE_MISSING:
        return "missing file"
    if result.error is not None:
        return "no answer"
    return "local file"


STATUS_CLASSES: tuple[str, ...] = (
    "1xx",
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "other",
    "local file",
    "missing file",
    "no answer",
    "not checked",
)


def diagnosis_code(result: CheckResult) -> str:
    """The result's diagnosis code, or its category when it has none (``ok``, ``redirected`` …)."""
    return result.diagnosis.code if result.diagnosis else result.category.value


def diagnosis_title(code: str) -> str:
    """The catalogue title of a code, or the code itself when it is not a catalogued diagnosis."""
    entry = codes.CODES.get(code)
    if entry is not None:
        return entry.title
    if code in {c.value for c in Category}:
        return f"{code.capitalize()}, without a diagnosis"
    return code


def diagnosis_counts(report: Report) -> list[tuple[str, int]]:
    """How many results carry each diagnosis code, most frequent first (ties by code)."""
    counts: dict[str, int] = {}
    for result in report.results:
        if result.diagnosis:
            counts[result.diagnosis.code] = counts.get(result.diagnosis.code, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def category_counts(report: Report) -> list[tuple[Category, int]]:
    s = report.summary
    values = {
        Category.BROKEN: s.broken,
        Category.UNVERIFIED: s.unverified,
        Category.REDIRECTED: s.redirected,
        Category.OK: s.ok,
        Category.EXCLUDED: s.excluded,
    }
    return [(category, values[category]) for category in CATEGORY_ORDER]
