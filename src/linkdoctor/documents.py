"""What a fetched body is and how to read it: document kind, charset, extraction, fragment lookup.

Pure functions used by the crawler (and by anything else that parses fetched pages).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from linkdoctor.check import is_parseable
from linkdoctor.extract import Extraction, extract_css, extract_html
from linkdoctor.inputs.sitemap import looks_like_sitemap_url

# Fragments every browser resolves without a matching id.
_IGNORED_FRAGMENTS = frozenset({"", "top"})


def fragment_found(fragment: str, anchors: frozenset[str]) -> bool:
    """Whether ``#fragment`` lands on the page (ids, ``<a name>``, ``#top``, text fragments).

    >>> fragment_found("sec%202", frozenset({"sec 2"}))
    True
    """
    if fragment in _IGNORED_FRAGMENTS or fragment.startswith(":~:"):
        return True
    return fragment in anchors or unquote(fragment) in anchors


def document_kind(content_type: str, url: str) -> str | None:
    """``html``, ``css``, ``markdown``, ``sitemap`` or ``None`` (nothing to parse), by type and path."""
    path = urlsplit(url).path.lower()
    if "html" in content_type or path.endswith((".html", ".htm", ".xhtml")):
        return "html"
    if "css" in content_type or path.endswith(".css"):
        return "css"
    if "markdown" in content_type or path.endswith((".md", ".markdown")):
        return "markdown"
    if "xml" in content_type or looks_like_sitemap_url(url):
        return "sitemap"
    if not content_type or is_parseable(content_type):
        return "html" if path.endswith("/") or "." not in path.rpartition("/")[2] else None
    return None


def charset_of(content_type: str) -> str:
    """The ``charset`` parameter of a Content-Type when Python knows it, else UTF-8.

    >>> charset_of("text/html; charset=ISO-8859-1")
    'iso-8859-1'
    """
    _, _, params = content_type.partition(";")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ").lower()
            try:
                "".encode(name)
            except LookupError:
                return "utf-8"
            return name
    return "utf-8"


def extract_document(kind: str, text: str) -> Extraction:
    """Extract with the parser for ``kind`` (HTML for anything unknown)."""
    if kind == "css":
        return extract_css(text)
    if kind == "markdown":
        from linkdoctor.extract.markdown import extract_markdown  # markdown-it only when needed

        return extract_markdown(text)
    return extract_html(text)
