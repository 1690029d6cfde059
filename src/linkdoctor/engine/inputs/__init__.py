"""Inputs: turn command-line arguments into seeds (URLs to crawl), a link list, and local documents.

An argument is an http(s) URL, a local file, a folder (its HTML and Markdown files), or a glob.
Local files map to URLs through a :class:`LocalSite`: the ``--base-url`` when given, else ``file://``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from linkdoctor.errors import ConfigError
from linkdoctor.urls import normalize, resolve, scheme_of

DOCUMENT_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".md", ".markdown", ".css"})
SERVER_INDEX_FILES = ("index.html", "index.htm")
INDEX_FILES = (*SERVER_INDEX_FILES, "README.md", "index.md")
# The characters of a file name its URL keeps as they are: the path characters of RFC 3986 but "%" (a literal
# "%" is %25). What URL parsing would read otherwise (space, "#", "?", quotes, "<>", "{}", "`") is encoded.
_NAME_SAFE = "/!$&'()*+,;=:@[]~"


@dataclass(frozen=True, slots=True)
class LocalSite:
    """A folder on disk standing in for the site at ``base`` (a URL ending in ``/``)."""

    root: Path
    base: str

    def url_for(self, path: Path) -> str:
        """The URL a web server would give ``path``: ``dir/index.html`` is ``dir/``. A symlink in the folder
        is named by where it is, wherever it points (as a web server serves it)."""
        try:
            rel = path.absolute().relative_to(self.root).as_posix()
        except ValueError:
            rel = path.resolve().relative_to(self.root).as_posix()
        head, _, name = rel.rpartition("/")
        if name in SERVER_INDEX_FILES:
            rel = head + "/" if head else ""
        # As a link to it is written and resolved: a name's "[", "(" or "&" as it is (quote would give
        # %5B…, another URL for the same file, parsed twice), what a URL cannot hold percent-encoded, and a
        # byte that is not UTF-8 as %XX.
        return self.base + quote(rel, safe=_NAME_SAFE, errors="surrogateescape")

    def path_for(self, url: str) -> Path | None:
        """The file behind ``url`` when it lies inside this site (folders map to their index file)."""
        if not url.startswith(self.base):
            return None
        rest = unquote(urlsplit(url[len(self.base) - 1 :]).path, errors="surrogateescape").lstrip("/")
        # Inside the folder by name (no ``..`` out of it); a symlink in it is followed, as a server does.
        candidate = Path(os.path.normpath(self.root / rest))
        if candidate != self.root and self.root not in candidate.parents:
            return None
        try:
            if candidate.is_dir():
                for name in INDEX_FILES:
                    if (candidate / name).is_file():
                        return candidate / name
        except OSError:  # a name too long for the file system: whoever reads it says so
            pass
        return candidate

    def root_relative(self, href: str) -> str:
        """For ``file://`` sites, ``/x`` means the site root, not the filesystem root."""
        return self.base + href.lstrip("/")


@dataclass(frozen=True, slots=True)
class Inputs:
    """What to check: ``seeds`` are crawled, ``links`` (from ``--urls-from``) are only checked."""

    seeds: tuple[str, ...] = ()
    links: tuple[tuple[str, str, int], ...] = ()  # (url, source, line)
    documents: tuple[tuple[Path, str], ...] = ()  # (file, its URL)
    sites: tuple[LocalSite, ...] = ()

    def site_for(self, url: str) -> LocalSite | None:
        return next((s for s in self.sites if url.startswith(s.base)), None)


def _is_url(arg: str) -> bool:
    return arg.lower().startswith(("http://", "https://"))


def _documents_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file())


def _base_for(root: Path, base_url: str | None) -> str:
    if base_url is None:
        return root.as_uri().rstrip("/") + "/"
    try:
        base = normalize(base_url)
    except ValueError as exc:
        raise ConfigError(f"--base-url {base_url!r} is not a valid URL: {exc}") from exc
    if not _is_url(base):
        raise ConfigError(f"--base-url must be an http(s) URL, got {base_url!r}")
    return base if base.endswith("/") else base + "/"


def parse_url_list(lines: Iterable[str], source: str) -> list[tuple[str, str, int]]:
    """URLs from a list, one per line; blank lines and ``#`` comments are skipped. A line that is not an
    absolute URL (no scheme: ``not a url``, ``docs/a.html``) is a ``ConfigError`` naming its line numbers.

    >>> parse_url_list(["# mine", "https://example.org/", ""], "urls.txt")
    [('https://example.org/', 'urls.txt', 2)]
    >>> parse_url_list(["https://example.org/", "not a url"], "urls.txt")
    Traceback (most recent call last):
    ...
    linkdoctor.errors.ConfigError: urls.txt: line 2 is not a URL: 'not a url' (each line must be an absolute URL, such as https://example.org/page)
    """
    links = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            if scheme_of(text):
                links.append((text, source, number))
            else:
                bad.append((number, text))
    if bad:
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        numbers = ", ".join(str(n) for n, _ in bad[:10]) + more
        first = bad[0][1] if len(bad[0][1]) <= 80 else bad[0][1][:80] + "…"
        what = f"line {numbers} is not a URL" if len(bad) == 1 else f"lines {numbers} are not URLs"
        raise ConfigError(
            f"{source}: {what}: {first!r} (each line must be an absolute URL, such as https://example.org/page)"
        )
    return links


def collect_inputs(
    args: Sequence[str],
    *,
    base_url: str | None = None,
    url_lists: Sequence[tuple[str, Iterable[str]]] = (),
    cwd: Path | None = None,
) -> Inputs:
    """Sort arguments into seeds, local documents and their sites; raise ``ConfigError`` for bad ones."""
    cwd = (cwd or Path.cwd()).resolve()
    seeds: list[str] = []
    documents: dict[Path, None] = {}
    roots: list[Path] = []
    for arg in args:
        if _is_url(arg):
            url = resolve(arg, arg)
            if not isinstance(url, str):
                raise ConfigError(f"{arg!r} is not a valid URL: {url.reason}")
            seeds.append(url)
            continue
        paths = (
            [Path(p) for p in sorted(glob.glob(arg, recursive=True))] if glob.has_magic(arg) else [Path(arg)]
        )
        if not paths or not any(p.exists() for p in paths):
            raise ConfigError(f"{arg!r} is neither a URL nor an existing file or folder")
        for path in paths:
            path = (cwd / path).resolve()
            if path.is_dir():
                found = _documents_in(path)
                if not found and not glob.has_magic(arg):
                    raise ConfigError(
                        f"nothing to check in the folder {arg!r}: it holds no "
                        f"{', '.join(sorted(DOCUMENT_SUFFIXES))} files"
                    )
                roots.append(path)
                documents.update(dict.fromkeys(found))
            elif path.is_file():
                documents[path] = None
    links = [link for source, lines in url_lists for link in parse_url_list(lines, source)]
    if not seeds and not documents and not links:
        raise ConfigError("nothing to check: give a URL, a file or folder, or --urls-from")
    loose = [d for d in documents if not any(r == d or r in d.parents for r in roots)]
    if loose:
        roots.append(cwd if all(cwd in d.parents for d in loose) else Path("/"))
    sites = tuple(LocalSite(root, _base_for(root, base_url)) for root in roots)
    docs = []
    for doc in documents:
        site = next(s for s in sites if s.root in doc.parents)
        docs.append((doc, site.url_for(doc)))
    return Inputs(tuple(seeds), tuple(links), tuple(docs), sites)
