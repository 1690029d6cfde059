"""Where a link's URL sits in its source text: decode a file so that its bytes come back unchanged, number
its lines as the extractors do (``\\n``, ``\\r\\n`` and ``\\r`` end a line), mark the regions no rewrite may
touch (Markdown code blocks and code spans, found with markdown-it-py's token maps; HTML ``<pre>``, ``<code>``,
comments, scripts and styles), and find each place a written URL appears *as a link* on a given line or in a
Markdown reference definition. Pure functions of text.

>>> source = parse_source("markdown", b"See [a](http://x.example/) and `http://x.example/`.\\n")
>>> find_link(source, 1, "http://x.example/")
[(8, 25)]
"""

from __future__ import annotations

import bisect
import codecs
import html
import itertools
import re
from dataclasses import dataclass
from typing import Final

_LINE_END: Final = re.compile(r"\r\n|\r|\n")
# A comment as a whole; of <pre>, <code> … only what is between the tags (a <script src> is a link).
_HTML_VERBATIM: Final = re.compile(
    r"(<!--.*?-->)|<(pre|code|script|style|textarea|xmp|listing)\b[^>]*>(.*?)</\2\s*>",
    re.IGNORECASE | re.DOTALL,
)
_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ATTRIBUTE: Final = re.compile(r"""[\s"'/][\w:.-]+[ \t]*=[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_NAMED_ATTRIBUTE: Final = re.compile(
    r"""[\s"'/]([\w:.-]+)[ \t\r\n]*=[ \t\r\n]*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)"""
)
# The attributes the HTML extractor reads links from (extract/html.py): a URL written in any other
# (title="moved from URL", alt, data-*) is text, never rewritten.
_LINK_ATTRIBUTES: Final = frozenset({"href", "src", "srcset", "poster", "data", "content", "style"})
_BACKTICKS: Final = re.compile(r"`+")
# What may stand right before a URL written as a link: Markdown's "](" (maybe "<"), an autolink's "<",
# a reference definition's "]:", or an HTML attribute's "=" (maybe quoted).
_MD_BEFORE: Final = re.compile(r"(?:\]\([ \t]*<?|<|\]:[ \t]*<?|=[ \t]*[\"']?)$")
_HTML_BEFORE: Final = re.compile(r"=[ \t\r\n]*[\"']?$|(?:url\(|,|^|[ \t\r\n])[\"']?$")
_URL_CONTINUES: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&*+;=%"
)
_MD_TITLE_THEN_CLOSE: Final = re.compile(r"[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\))[ \t]*\)")
_A_END: Final = re.compile(r"</a\s*>", re.IGNORECASE)
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class Undecodable(ValueError):
    """A file whose text would not encode back to the same bytes: it is never edited."""


@dataclass(frozen=True, slots=True)
class Source:
    """A source file's text, the encoding that gives its bytes back, its line starts (in characters and in
    bytes) and its code regions (sorted, disjoint)."""

    kind: str
    text: str
    encoding: str
    starts: tuple[int, ...]
    verbatim: tuple[tuple[int, int], ...]
    byte_starts: tuple[int, ...] = ()

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_span(self, line: int) -> tuple[int, int]:
        """The text of 1-based ``line`` without its line ending."""
        start = self.starts[line - 1]
        match = _LINE_END.search(self.text, start)
        return start, match.start() if match else len(self.text)

    def in_verbatim(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self.verbatim, (start, len(self.text) + 1)) - 1
        return any(s < end and start < e for s, e in self.verbatim[max(0, index) : index + 2])

    def byte_offset(self, offset: int) -> int:
        """The byte offset of the character ``offset`` in the file."""
        if not self.byte_starts:
            return offset
        line = self.line_of(offset)
        start = self.starts[line - 1]
        return self.byte_starts[line - 1] + len(
            self.text[start:offset].encode(self.encoding, "surrogateescape")
        )


def decode(raw: bytes, kind: str) -> tuple[str, str]:
    """``raw`` as text and the encoding that encodes it back to exactly ``raw`` (a byte order mark stays in
    the text as U+FEFF). UTF-8 first, then a ``<meta charset>``, then Latin-1 (which maps every byte)."""
    candidates = [enc for bom, enc in _BOMS if raw.startswith(bom)] or ["utf-8"]
    if kind == "html" and (meta := _META_CHARSET.search(raw[:4096])) is not None:
        candidates.append(meta.group(1).decode("ascii").lower())
    candidates.append("latin-1")
    for encoding in candidates:
        try:
            text = raw.decode(encoding, "surrogateescape" if encoding != candidates[0] else "strict")
        except (UnicodeDecodeError, LookupError):
            continue
        if text.encode(encoding, "surrogateescape") == raw:
            return text, encoding
    raise Undecodable("its text does not encode back to the same bytes")


def parse_source(kind: str, raw: bytes) -> Source:
    """Decode ``raw`` and find its lines and verbatim regions (raises :class:`Undecodable`)."""
    text, encoding = decode(raw, kind)
    starts = (0, *(m.end() for m in _LINE_END.finditer(text)))
    verbatim = _markdown_verbatim(text, starts) if kind == "markdown" else []
    verbatim.extend(m.span(1) if m.group(1) else m.span(3) for m in _HTML_VERBATIM.finditer(text))
    byte_starts: tuple[int, ...] = ()
    if len(raw) != len(text):  # not one byte per character: count each line's bytes once
        ends = (*starts[1:], len(text))
        sizes = [
            len(text[a:b].encode(encoding, "surrogateescape")) for a, b in zip(starts, ends, strict=True)
        ]
        byte_starts = tuple(itertools.accumulate(sizes, initial=0))[:-1]
    return Source(kind, text, encoding, starts, _merged(verbatim), byte_starts)


def _merged(regions: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Overlapping regions merged, sorted: so one bisection answers whether an offset is inside one."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _markdown_verbatim(text: str, starts: tuple[int, ...]) -> list[tuple[int, int]]:
    """Code blocks (fenced and indented) by their token maps, and the code spans of each inline run."""
    from markdown_it import MarkdownIt  # only for Markdown sources

    def offset(line: int) -> int:
        return starts[line] if line < len(starts) else len(text)

    regions: list[tuple[int, int]] = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.map is None:
            continue
        start, end = offset(token.map[0]), offset(token.map[1])
        if token.type in ("fence", "code_block"):
            regions.append((start, end))
        elif token.type == "inline":
            regions.extend(code_spans(text, start, end))
    return regions


def code_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """CommonMark code spans in ``text[start:end]``: a run of backticks closed by a run of the same length.

    >>> code_spans("a `b` c ``d`e`` f", 0, 17)
    [(2, 5), (8, 15)]
    """
    spans: list[tuple[int, int]] = []
    position = start
    while (opening := _BACKTICKS.search(text, position, end)) is not None:
        if opening.start() > 0 and text[opening.start() - 1] == "\\":
            position = opening.end()
            continue
        closing = _BACKTICKS.search(text, opening.end(), end)
        while closing is not None and len(closing.group()) != len(opening.group()):
            closing = _BACKTICKS.search(text, closing.end(), end)
        if closing is None:
            position = opening.end()
            continue
        spans.append((opening.start(), closing.end()))
        position = closing.end()
    return spans


def find_link(source: Source, line: int, url: str) -> list[tuple[int, int]]:
    """The places ``url`` is written as a link on ``line`` (1-based), outside code: offsets into the text."""
    if not url or line < 1 or line > len(source.starts):
        return []
    start, end = source.line_span(line)
    return _occurrences(source, url, start, end)


def _occurrences(source: Source, url: str, start: int, end: int) -> list[tuple[int, int]]:
    text = source.text
    before = _MD_BEFORE if source.kind == "markdown" else _HTML_BEFORE
    found: dict[tuple[int, int], None] = {}
    position = start
    while (at := text.find(url, position, end)) != -1:
        stop = at + len(url)
        position = at + 1
        if stop < len(text) and text[stop] in _URL_CONTINUES and text[stop] not in ")]":
            continue  # the start of a longer URL
        context = before.search(text, max(0, at - 12), at)
        if context is None or source.in_verbatim(at, stop):
            continue
        if (source.kind == "html" or "=" in context.group()) and not _in_link_attribute(text, at):
            continue  # text that only looks like an attribute value, or a value of another attribute
        found[(at, stop)] = None
    if "&" in text[start:end]:  # an attribute spelled with character references: href="a?b=1&amp;c=2"
        for match in _ATTRIBUTE.finditer(text, max(0, start - 1), end):
            index = next(i for i in (1, 2, 3) if match.group(i) is not None)
            raw = match.group(index)
            if "&" not in raw or html.unescape(raw).strip() != url:
                continue
            lead = len(raw) - len(raw.lstrip())
            span = (match.start(index) + lead, match.start(index) + len(raw.rstrip()))
            if not source.in_verbatim(*span):
                found[span] = None
    return sorted(found)


def _in_link_attribute(text: str, at: int) -> bool:
    """Whether ``at`` is inside a start tag (after a ``<`` with no ``>`` since), in the value of an attribute
    that holds links (:data:`_LINK_ATTRIBUTES`)."""
    tag = text.rfind("<", 0, at)
    if tag <= text.rfind(">", 0, at):
        return False
    for match in _NAMED_ATTRIBUTE.finditer(text, tag):
        if match.start() > at:
            break
        if at < match.end():
            return match.group(1).lower() in _LINK_ATTRIBUTES
    return False


def escape_like(written: str, new: str) -> str:
    """``new`` spelled as ``written`` was: with ``&amp;`` (and ``&quot;``) when it used character references.

    >>> escape_like("a?b=1&amp;c=2", "https://n.example/?b=1&c=2")
    'https://n.example/?b=1&amp;c=2'
    """
    if "&" not in written:
        return new
    return new.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;")


def find_definitions(source: Source, url: str) -> list[tuple[int, int]]:
    """Markdown reference definitions (``[label]: url``) of ``url``, outside code: the URL's offsets."""
    pattern = re.compile(
        r"^[ ]{0,3}\[(?:[^\]\\]|\\.)+\]:[ \t]*(?:\r\n|\r|\n)?[ \t]*<?(" + re.escape(url) + r")(?=[>\s]|$)",
        re.M,
    )
    return [m.span(1) for m in pattern.finditer(source.text) if not source.in_verbatim(*m.span(1))]


def link_end(source: Source, stop: int) -> int | None:
    """Where the link whose URL ends at ``stop`` ends (after Markdown's ``)`` or an autolink's ``>``, or after
    HTML's ``</a>``), for a note added after it; None when that is not clear (a reference definition)."""
    text = source.text
    if source.kind == "markdown":
        if text.startswith(">)", stop):
            return stop + 2
        if text.startswith((")", ">"), stop):
            return stop + 1
        if (titled := _MD_TITLE_THEN_CLOSE.match(text, stop)) is not None:
            return titled.end()
    close = _A_END.search(text, stop)
    if close and "<a" not in text[stop : close.start()].lower():
        return close.end()
    return None
