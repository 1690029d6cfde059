"""Moved fragments: the headings and ids a target document offers, and the one a missing ``#fragment`` now
points at. A fragment matches a heading when it is that heading's text, or an older slug of it (GitHub style,
another case, ``_`` for ``-``), and the heading lives under a new id; it matches an id that is the same words
spelled another way. Exactly one matching id is a repair; none or several are reported, never guessed.

>>> page = '<section id="id3"><h2>Installing it</h2></section><h2 id="usage">Usage</h2>'
>>> match_anchor("installing-it", headings("html", page)).target
'id3'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

from linkdoctor.extract.slug import HeadingSlugger

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
                   "track", "wbr"})  # fmt: skip
_PERMALINK_MARKS = "¶#🔗§"


@dataclass(frozen=True, slots=True)
class Heading:
    """A place a fragment can land: its ``id`` and, for a heading, its text ("" for a bare id)."""

    id: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class AnchorMatch:
    """The outcome for one missing fragment: ``target`` (the unique id) or the ``candidates`` that tie."""

    target: str | None
    candidates: tuple[str, ...] = ()


def loose(text: str) -> str:
    """The words of a heading or fragment, case and punctuation aside: ``Getting_Started`` → ``gettingstarted``.

    >>> loose("Getting_Started!"), loose("getting-started")
    ('gettingstarted', 'gettingstarted')
    """
    folded = unicodedata.normalize("NFKC", unquote(text)).casefold()
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def match_anchor(fragment: str, places: tuple[Heading, ...]) -> AnchorMatch:
    """The unique id whose heading text or id is ``fragment`` spelled another way."""
    key = loose(fragment)
    if not key:
        return AnchorMatch(None)
    found: dict[str, None] = {}
    for place in places:
        if place.id == fragment:
            continue
        if loose(place.id) == key or (place.text and loose(place.text) == key):
            found[place.id] = None
    ids = tuple(found)
    return AnchorMatch(ids[0] if len(ids) == 1 else None, ids)


def headings(kind: str, text: str) -> tuple[Heading, ...]:
    """The headings and ids of a document (``kind``: ``html`` or ``markdown``)."""
    if kind == "markdown":
        return _markdown_headings(text)
    parser = _HeadingParser()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError):  # a malformed declaration: keep what was read
        pass
    return tuple(parser.found)


def _markdown_headings(text: str) -> tuple[Heading, ...]:
    from markdown_it import MarkdownIt  # only when a Markdown target is read

    tokens = MarkdownIt("commonmark").parse(text)
    slugger = HeadingSlugger()
    found: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and index + 1 < len(tokens):
            inline = tokens[index + 1]
            plain = "".join(c.content for c in inline.children or () if c.type in ("text", "code_inline"))
            found.append(Heading(slugger.slug(plain), plain))
        elif token.type in ("html_block", "inline") and "<" in token.content:
            found.extend(h for h in headings("html", token.content) if not h.text)
    return tuple(found)


class _HeadingParser(HTMLParser):
    """Collects ids, and each heading's text with the id it is reached by: its own, an ``<a id|name>``
    inside it, or (Sphinx, MkDocs) the innermost enclosing element that has one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Heading] = []
        self._stack: list[tuple[str, str | None]] = []
        self._heading: list[str] | None = None
        self._heading_id: str | None = None
        self._heading_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        own = values.get("id") or (values.get("name") if tag == "a" else None)
        if own:
            self.found.append(Heading(own))
        if tag in _HEADINGS and self._heading is None:
            self._heading, self._heading_tag = [], tag
            self._heading_id = own or next((i for _, i in reversed(self._stack) if i), None)
        elif self._heading is not None and own and self._heading_id is None:
            self._heading_id = own
        if tag not in _VOID:
            self._stack.append((tag, own))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._heading_tag and self._heading is not None:
            text = " ".join("".join(self._heading).split()).strip(_PERMALINK_MARKS + " ")
            if self._heading_id and text:
                self.found.append(Heading(self._heading_id, text))
            self._heading, self._heading_tag = None, ""
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)
