"""Checking ``file:`` URLs and URLs that map into a local folder (``--base-url``): existence on disk,
and the body for pages that the crawler parses.
"""

from __future__ import annotations

import mimetypes
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from linkdoctor.classify import codes
from linkdoctor.engine.check import Fetched
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.models import Category, CheckResult, Diagnosis, ErrorKind
from linkdoctor.printable import shown

_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".css": "text/css", ".htm": "text/html"}


def path_of(url: str, site: LocalSite | None) -> Path | None:
    if site is not None:
        return site.path_for(url)
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path, errors="surrogateescape"))  # %XX of a byte that is not UTF-8: that byte


def missing_anchor(fragment: str, *, on_disk: bool) -> Diagnosis:
    """The diagnosis of a ``#fragment`` its target does not define: ``file.anchor-missing`` in a file
    checked on disk, ``http.fragment-missing`` in a page fetched over HTTP.

    >>> missing_anchor("setup", on_disk=True).code
    'file.anchor-missing'
    """
    if on_disk:
        return codes.make("file.anchor-missing", f"no id, name or heading anchor {fragment!r} in the file")
    return codes.make("http.fragment-missing", f"no id or name {fragment!r} on the page")


def _missing(url: str, message: str, detail: str) -> Fetched:
    """A missing file's result; its name is shown with control characters as ``\\xNN`` (a hostile
    repository's file name must not drive the terminal that reads the report)."""
    return Fetched(
        CheckResult(
            url,
            Category.BROKEN,
            final_url=url,
            error=ErrorKind.FILE_MISSING,
            error_message=shown(message),
            diagnosis=codes.make("file.not-found", shown(detail)),
        )
    )


def check_file(url: str, site: LocalSite | None, *, want_body: bool, max_body: int) -> Fetched:
    """Check that the file behind ``url`` exists; read up to ``max_body`` bytes of it when asked."""
    path = path_of(url, site)
    if path is None:
        return _missing(url, f"{url} does not exist", url)
    try:
        kind = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return _missing(url, f"{path} does not exist", str(path))
    except OSError as exc:  # a name too long, a loop of symlinks, no permission
        return _missing(url, f"cannot read {path}: {exc.strerror}", f"cannot read {path}")
    if stat.S_ISDIR(kind):
        return Fetched(CheckResult(url, Category.OK, final_url=url))
    if not stat.S_ISREG(kind):  # a FIFO would block the run for good; a device never ends
        what = f"{path} is not a regular file (a FIFO, socket or device); not read"
        return _missing(url, what, what)
    content_type = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or ""
    body = None
    truncated = False
    if want_body:
        try:
            with path.open("rb") as fh:
                body = fh.read(max_body + 1)
        except OSError as exc:
            return _missing(url, f"cannot read {path}: {exc.strerror}", f"cannot read {path}")
        truncated = len(body) > max_body
        body = body[:max_body]
    return Fetched(CheckResult(url, Category.OK, final_url=url), body, content_type, truncated)
