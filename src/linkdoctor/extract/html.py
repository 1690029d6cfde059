"""HTML link extraction: one lexbor parse, one pass over the elements, source lines found by forward search.

This is the crawler's hottest path. The pass reads only the integer tag id of elements that cannot hold a
link, reads attributes only of those that can, and hands CSS to tinycss2 only when a cheap test says it
can hold a link. Fragment targets (``id``) come from one selector query instead of the pass.
"""

from __future__ import annotations

import functools
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from linkdoctor.extract.chunks import CHUNK_CHARS, SMALL_DOCUMENT_CHARS, nests_deep, pieces
from linkdoctor.extract.css import css_links, might_have_links
from linkdoctor.extract.model import Extraction, LinkRow
from linkdoctor.extract.source import SourceLocator
from linkdoctor.extract.values import (
    ASCII_WHITESPACE,
    collapse_whitespace,
    is_data_uri,
    refresh_url,
    srcset_urls,
    strip_ascii_whitespace,
)

# element -> {attribute: label} for attributes whose whole value is one URL (or a srcset).
_URL_ATTRIBUTES: Final[dict[str, dict[str, str]]] = {
    "a": {"href": "a[href]"},
    "area": {"href": "area[href]"},
    "img": {"src": "img[src]", "srcset": "img[srcset]"},
    "source": {"src": "source[src]", "srcset": "source[srcset]"},
    "script": {"src": "script[src]"},
    "link": {"href": "link[href]"},
    "iframe": {"src": "iframe[src]"},
    "frame": {"src": "frame[src]"},
    "video": {"src": "video[src]", "poster": "video[poster]"},
    "audio": {"src": "audio[src]"},
    "track": {"src": "track[src]"},
    "object": {"data": "object[data]"},
    "embed": {"src": "embed[src]"},
}
_NO_URL_ATTRIBUTES: Final[dict[str, str]] = {}
# Elements whose content the tokenizer does not parse as markup; the locator steps over it.
_RAW_TEXT: Final = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_VISITED: Final = frozenset({*_URL_ATTRIBUTES, *_RAW_TEXT, "meta", "base"})
# <link rel> values that name an origin to warm up, not a resource to fetch.
_ORIGIN_ONLY_RELS: Final = frozenset({"preconnect", "dns-prefetch"})
_REFRESH_LABEL: Final = "meta[refresh]"


def extract_html(text: str, *, max_links: int = 0) -> Extraction:
    """Extract links, fragment targets, ``<base href>`` and robots ``nofollow`` from an HTML document.

    Never raises: any text parses (as a browser would), and what cannot be located gets a best-guess line.
    With ``max_links``, only the first ``max_links`` occurrences are kept as rows and the rest are only
    counted (:attr:`Extraction.dropped`). A document bigger than :data:`~linkdoctor.extract.chunks.CHUNK_CHARS`
    is parsed a piece at a time (:mod:`linkdoctor.extract.chunks`), so its parse tree never holds more than
    one piece: memory stays bounded however big the page.

    >>> result = extract_html('<base href="/docs/">\\n<a href="intro.html" id="top">Intro</a>')
    >>> result.links[0].url, result.links[0].line, result.base_href, sorted(result.anchors)
    ('intro.html', 2, '/docs/', ['top'])
    >>> extract_html('<a href="a">a</a><a href="b">b</a>', max_links=1).dropped
    1
    """
    if len(text) <= SMALL_DOCUMENT_CHARS or (len(text) <= CHUNK_CHARS and not nests_deep(text)):
        found = _HtmlPass(text).run()
        rows = found.links
        dropped = 0
        if max_links and len(rows) > max_links:
            dropped = len(rows) - max_links
            del rows[max_links:]
        return Extraction(tuple(rows), frozenset(found.anchors), found.base_href, found.nofollow, dropped)
    return _extract_pieces(text, max_links)


def _extract_pieces(text: str, max_links: int) -> Extraction:
    """:func:`extract_html` of a big document, one piece's parse tree at a time, lines counted across pieces."""
    kept: list[LinkRow] = []
    anchors: set[str] = set()
    base_href: str | None = None
    nofollow = False
    dropped = 0
    lines_before = 0
    for start, end in pieces(text):
        piece = text[start:end]
        found = _HtmlPass(piece).run()
        anchors |= found.anchors
        if base_href is None:
            base_href = found.base_href
        nofollow = nofollow or found.nofollow
        rows = found.links
        room = len(rows) if not max_links else max(0, max_links - len(kept))
        dropped += len(rows) - min(room, len(rows))
        offset = lines_before
        kept.extend(
            (url, None if line is None else line + offset, label, element)
            for url, line, label, element in rows[:room]
        )
        lines_before += found.locator.line_count - 1
        del found, rows, piece
    return Extraction(tuple(kept), frozenset(anchors), base_href, nofollow, dropped)


class _HtmlPass:
    """The state of one extraction: the parse tree, the locator and what has been found so far."""

    __slots__ = ("anchors", "base_href", "links", "locator", "nofollow", "tree")

    def __init__(self, text: str) -> None:
        self.tree = LexborHTMLParser(text)
        self.locator = SourceLocator(text)
        self.links: list[LinkRow] = []
        self.anchors: set[str] = set()
        self.base_href: str | None = None
        self.nofollow = False

    def run(self) -> _HtmlPass:
        tree = self.tree
        anchors = self.anchors
        for node in tree.css("[id]"):
            ident = node.id
            if ident:
                anchors.add(ident)
        # Style attributes that can hold links are rare; knowing them up front lets the main loop read
        # nothing but the tag id of every other element.
        styled = {
            node.mem_id
            for node in tree.css("[style]")
            if might_have_links(node.attributes.get("style") or "")
        }
        visited = _visited_tag_ids()
        root = tree.root
        if root is not None:
            for node in root.traverse():
                tag = visited.get(node.tag_id)
                if tag is not None:
                    self._visit(node, tag)
                elif styled and node.mem_id in styled:
                    self._visit(node, node.tag or "")
        return self

    def _visit(self, node: LexborNode, tag: str) -> None:
        attributes = node.attributes
        if tag == "base":
            if self.base_href is None and attributes.get("href") is not None:
                self.base_href = strip_ascii_whitespace(attributes["href"] or "") or None
            return
        locator = self.locator
        tag_pos = locator.find_tag(tag)
        if attributes:
            if tag == "meta":
                self._meta(tag_pos, attributes)
            else:
                self._url_attributes(node, tag, tag_pos, attributes)
            style = attributes.get("style")
            if style and might_have_links(style):
                line = self._line(tag_pos, tag, "style", style, attributes)
                self.links.extend(css_links(style, line, locator.line_count))
        if tag in _RAW_TEXT and tag_pos >= 0:
            if tag == "style":
                css = node.text(deep=True)
                if css and might_have_links(css):
                    line = locator.line_at(locator.content_start(tag_pos))
                    self.links.extend(css_links(css, line, locator.line_count))
            locator.skip_raw_text(tag)

    def _line(self, tag_pos: int, tag: str, attr: str, value: str, attributes: dict[str, str | None]) -> int:
        locator = self.locator
        if tag_pos < 0:
            return locator.line_at(locator.cursor)
        return locator.line_at(locator.find_value(tag_pos, tag, attr, value, lambda: _extent(attributes)))

    def _url_attributes(
        self, node: LexborNode, tag: str, tag_pos: int, attributes: dict[str, str | None]
    ) -> None:
        spec = _URL_ATTRIBUTES.get(tag, _NO_URL_ATTRIBUTES)
        if tag == "a":
            name = attributes.get("name")
            if name:
                self.anchors.add(name)
        elif tag == "link" and _is_origin_hint(attributes.get("rel")):
            return
        text: str | None = None
        for attr, raw in attributes.items():
            label = spec.get(attr)
            if label is None or not raw:
                continue
            if text is None:
                text = _element_text(node, tag, attributes)
            if attr == "srcset":
                self._srcset(tag_pos, tag, raw, text or label, label, attributes)
                continue
            url = raw.strip(ASCII_WHITESPACE)
            if not url or is_data_uri(url):
                continue
            self.links.append((url, self._line(tag_pos, tag, attr, url, attributes), text or label, label))

    def _srcset(
        self, tag_pos: int, tag: str, raw: str, text: str, label: str, attributes: dict[str, str | None]
    ) -> None:
        urls = [url for url in srcset_urls(raw) if not is_data_uri(url)]
        if not urls:
            return
        locator = self.locator
        if tag_pos < 0:
            line = locator.line_at(locator.cursor)
            self.links.extend((url, line, text, label) for url in urls)
            return
        # Candidates often sit on lines of their own: locate each one after the previous.
        extent = _extent(attributes)
        pos = locator.find_value(tag_pos, tag, "srcset", urls[0], lambda: extent)
        limit = locator.window_end(tag_pos, extent)
        for url in urls:
            found = locator.find_after(pos, url, limit)
            if found >= 0:
                pos = found
            self.links.append((url, locator.line_at(pos), text, label))

    def _meta(self, tag_pos: int, attributes: dict[str, str | None]) -> None:
        content = attributes.get("content")
        if content is None:
            return
        http_equiv = attributes.get("http-equiv")
        if http_equiv is not None and strip_ascii_whitespace(http_equiv).lower() == "refresh":
            url = refresh_url(content)
            if url is not None and not is_data_uri(url):
                line = self._line(tag_pos, "meta", "content", url, attributes)
                self.links.append((url, line, _REFRESH_LABEL, _REFRESH_LABEL))
        name = attributes.get("name")
        if name is not None and strip_ascii_whitespace(name).lower() == "robots":
            directives = {part.strip() for part in content.lower().split(",")}
            if "nofollow" in directives or "none" in directives:
                self.nofollow = True


@functools.cache
def _visited_tag_ids() -> dict[int, str]:
    """Map lexbor's tag ids to the names the pass handles (the ids are lexbor's, so ask lexbor, once)."""
    factory = LexborHTMLParser("")
    return {factory.create_node(tag).tag_id: tag for tag in sorted(_VISITED)}


def _extent(attributes: dict[str, str | None]) -> int:
    """The decoded size of an element's attributes, which bounds how far its start tag can reach."""
    total = 0
    for name, value in attributes.items():
        total += len(name) + (len(value) if value else 0) + 4
    return total


def _is_origin_hint(rel: str | None) -> bool:
    return rel is not None and not _ORIGIN_ONLY_RELS.isdisjoint(rel.lower().split())


def _element_text(node: LexborNode, tag: str, attributes: dict[str, str | None]) -> str:
    """The human label of a link: its text for ``<a>``, else its alt or title (empty when it has none)."""
    if tag == "a":
        text = collapse_whitespace(node.text(deep=True))
        if text:
            return text
    else:
        alt = attributes.get("alt")
        if alt:
            text = collapse_whitespace(alt)
            if text:
                return text
    title = attributes.get("title")
    return collapse_whitespace(title) if title else ""
