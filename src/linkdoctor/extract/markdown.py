"""Markdown link extraction via markdown-it-py: links, images, autolinks, reference links, embedded HTML.

Link targets are kept as written (markdown-it's percent-encoding and its refusal of ``javascript:`` and
similar schemes are switched off: classifying them is the caller's job). Headings become GitHub-style
anchors; HTML blocks and inline HTML go through :func:`extract_html` with their line offsets.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

from linkdoctor.extract.html import extract_html
from linkdoctor.extract.model import Extraction, LinkRow
from linkdoctor.extract.slug import HeadingSlugger
from linkdoctor.extract.values import collapse_whitespace, is_data_uri, strip_ascii_whitespace

LINK_LABEL = "md link"
IMAGE_LABEL = "md image"
AUTOLINK_LABEL = "md autolink"
_BREAKS = frozenset({"softbreak", "hardbreak"})
_TEXTUAL = frozenset({"text", "text_special", "code_inline"})


class _VerbatimMarkdownIt(MarkdownIt):
    """A parser that leaves link targets as written and accepts every scheme."""

    def validateLink(self, url: str) -> bool:
        return True

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


@functools.cache
def _parser() -> MarkdownIt:
    # Building a parser costs far more than parsing a typical page, and parsing never mutates it.
    return _VerbatimMarkdownIt("commonmark").enable("table")


def extract_markdown(text: str) -> Extraction:
    """Extract links and heading anchors from a Markdown document (CommonMark plus tables).

    >>> result = extract_markdown("# Intro\\n\\nSee [the guide](guide.md#setup).")
    >>> result.links[0].url, result.links[0].line, sorted(result.anchors)
    ('guide.md#setup', 3, ['intro'])
    """
    tokens = _parser().parse(text)
    links: list[LinkRow] = []
    anchors: set[str] = set()
    slugger = HeadingSlugger()
    heading = False
    for token in tokens:
        kind = token.type
        if kind == "inline":
            first_line = token.map[0] + 1 if token.map else 1
            _inline(token, first_line, links, anchors)
            if heading:
                anchors.add(slugger.slug(_plain_text(token.children or ())))
        elif kind == "html_block":
            first_line = token.map[0] + 1 if token.map else 1
            _embedded_html(token.content, first_line, links, anchors)
        heading = kind == "heading_open"
    return Extraction(rows=tuple(links), anchors=frozenset(anchors), base_href=None)


def _inline(token: Token, first_line: int, links: list[LinkRow], anchors: set[str]) -> None:
    """Collect the links of one inline run, numbering lines by following its newlines in the source."""
    children = token.children or []
    if not children:
        return
    source = token.content
    pos = 0
    line = first_line
    for index, child in enumerate(children):
        kind = child.type
        if kind in _BREAKS:
            newline = source.find("\n", pos)
            if newline >= 0:
                pos = newline + 1
                line += 1
        elif kind == "code_inline":
            # A code span's content has its newlines turned into spaces; find the span in the source.
            start = source.find(child.markup, pos)
            end = source.find(child.markup, start + len(child.markup)) if start >= 0 else -1
            if end >= 0:
                line += source.count("\n", pos, end)
                pos = end + len(child.markup)
        elif kind == "html_inline":
            start = source.find(child.content, pos)
            text = _html_anchor_text(children, index) if child.content[:2].lower() == "<a" else ""
            if start >= 0:
                line += source.count("\n", pos, start)
                _embedded_html(child.content, line, links, anchors, text)
                line += child.content.count("\n")
                pos = start + len(child.content)
            else:
                _embedded_html(child.content, line, links, anchors, text)
        elif kind == "link_open":
            _add(links, child.attrGet("href"), line, _link_text(children, index), child, _link_label(child))
        elif kind == "image":
            _add(links, child.attrGet("src"), line, _plain_text(child.children or ()), child, IMAGE_LABEL)


def _link_label(token: Token) -> str:
    return AUTOLINK_LABEL if token.markup == "autolink" else LINK_LABEL


def _add(links: list[LinkRow], target: object, line: int, text: str, token: Token, label: str) -> None:
    if not isinstance(target, str):
        return
    url = strip_ascii_whitespace(target)
    if not url or is_data_uri(url):
        return
    text = collapse_whitespace(text)
    if not text:
        title = token.attrGet("title")
        text = collapse_whitespace(title) if isinstance(title, str) else ""
    links.append((url, line, text or label, label))


def _link_text(children: Sequence[Token], open_index: int) -> str:
    """The text between a ``link_open`` and its ``link_close`` (image alts included, markup dropped)."""
    parts: list[str] = []
    for child in children[open_index + 1 :]:
        kind = child.type
        if kind == "link_close":
            break
        if kind in _TEXTUAL:
            parts.append(child.content)
        elif kind in _BREAKS:
            parts.append(" ")
        elif kind == "image":
            parts.append(_plain_text(child.children or ()))
    return "".join(parts)


def _plain_text(children: Sequence[Token]) -> str:
    """The text content of inline tokens, as a browser's ``textContent`` would give it (no image alts)."""
    parts: list[str] = []
    for child in children:
        kind = child.type
        if kind in _TEXTUAL:
            parts.append(child.content)
        elif kind in _BREAKS:
            parts.append(" ")
        elif kind == "image":
            parts.append(_plain_text(child.children or ()))
    return "".join(parts)


def _html_anchor_text(children: Sequence[Token], open_index: int) -> str:
    """The Markdown text between an inline ``<a …>`` tag and its ``</a>``."""
    parts: list[str] = []
    for child in children[open_index + 1 :]:
        kind = child.type
        if kind == "html_inline" and child.content[:3].lower() == "</a":
            break
        if kind in _TEXTUAL:
            parts.append(child.content)
        elif kind in _BREAKS:
            parts.append(" ")
    return collapse_whitespace("".join(parts))


def _embedded_html(
    fragment: str, first_line: int, links: list[LinkRow], anchors: set[str], anchor_text: str = ""
) -> None:
    """Extract a raw HTML block or inline tag, shifting its line numbers to where it sits.

    An inline ``<a>`` tag arrives without its content, so its text comes from the Markdown that follows
    (``anchor_text``).
    """
    if "=" not in fragment or fragment.startswith(("</", "<!--")):
        return  # without an attribute value there is no link and no id (most inline tags: <br>, <kbd>)
    extraction = extract_html(fragment)
    offset = first_line - 1
    for url, line, text, element in extraction.rows:
        if anchor_text and element == "a[href]":
            text = anchor_text
        links.append((url, None if line is None else line + offset, text, element))
    anchors.update(extraction.anchors)
