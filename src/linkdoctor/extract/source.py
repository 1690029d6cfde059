"""Source positions for a parsed HTML document: where a tag or attribute value sits, as a line number.

selectolax does not report source positions, so :class:`SourceLocator` finds them again. Nodes arrive in
document order, so every search starts where the previous element was found and the total work stays
linear in the document's length: tag searches move a forward-only cursor, comments and raw-text elements
(``<script>``, ``<style>``…) are stepped over once, value searches are bounded to the element's own
extent, and a tag name that is absent from the rest of the document is remembered as absent.
"""

from __future__ import annotations

import html
from collections.abc import Callable

# What may follow "<name" in a start tag (CR is normalised away before searching).
_TAG_NAME_END = frozenset(" \t\n\f/>")
# A value search looks this far past the start tag, plus a generous multiple of the attributes' size.
_WINDOW_SLACK = 1024
_WINDOW_FACTOR = 8


def normalize_newlines(text: str) -> str:
    """Turn ``\\r\\n`` and lone ``\\r`` into ``\\n``, as the HTML, CSS and Markdown parsers all do."""
    if "\r" in text:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def count_lines(text: str) -> int:
    """Count lines the way :class:`SourceLocator` numbers them (a trailing newline opens a last, empty line)."""
    return normalize_newlines(text).count("\n") + 1


class SourceLocator:
    """Finds start tags and attribute values of one document, in document order, and numbers their lines.

    >>> loc = SourceLocator('<p>\\n<a class=x href="/y">')
    >>> tag = loc.find_tag("a")
    >>> loc.line_at(loc.find_value(tag, "a", "href", "/y", lambda: 64))
    2
    """

    __slots__ = ("_absent", "_comment", "_cursor", "_line", "_mark", "_text", "line_count")

    def __init__(self, text: str) -> None:
        # Lower-casing may change the length of some non-ASCII text, but every position is taken in this
        # one string and only newlines are counted, so line numbers stay exact.
        self._text = normalize_newlines(text).lower()
        self._cursor = 0
        self._mark = 0
        self._line = 1
        self._absent: set[str] = set()
        # The next "<!--" at or after the cursor (-1: none), so comments cost one search each.
        self._comment = self._text.find("<!--")
        self.line_count = self._text.count("\n") + 1

    @property
    def cursor(self) -> int:
        """Where the next tag search starts."""
        return self._cursor

    def line_at(self, pos: int) -> int:
        """Return the 1-based line of ``pos``; cheap when successive positions are close together."""
        mark = self._mark
        if pos >= mark:
            self._line += self._text.count("\n", mark, pos)
        else:
            self._line -= self._text.count("\n", pos, mark)
        self._mark = pos
        return self._line

    def find_tag(self, tag: str) -> int:
        """Return the position of the next ``<tag`` start tag outside comments and move past it, or -1."""
        if tag in self._absent:
            return -1
        text = self._text
        needle = "<" + tag
        start = self._cursor
        while True:
            pos = text.find(needle, start)
            if pos < 0:
                self._absent.add(tag)
                return -1
            comment = self._comment
            if 0 <= comment < pos:
                if comment >= start:
                    # pos may sit inside this comment: resume after it.
                    start = _comment_end(text, comment)
                self._comment = text.find("<!--", max(start, comment + 1))
                continue
            after = pos + len(needle)
            if after >= len(text) or text[after] in _TAG_NAME_END:
                self._cursor = after
                return pos
            start = after

    def skip_raw_text(self, tag: str) -> None:
        """Move the cursor past the content of a raw-text element (``<script>``…) whose start tag was found."""
        end = self._text.find("</" + tag, self._cursor)
        self._cursor = len(self._text) if end < 0 else end
        if 0 <= self._comment < self._cursor:
            self._comment = self._text.find("<!--", self._cursor)

    def content_start(self, tag_pos: int) -> int:
        """Return the position just after the ``>`` that closes the start tag at ``tag_pos``."""
        end = self._text.find(">", tag_pos)
        return len(self._text) if end < 0 else end + 1

    def window_end(self, tag_pos: int, extent: int) -> int:
        """Return how far past ``tag_pos`` an element whose attributes total ``extent`` characters reaches."""
        return tag_pos + _WINDOW_SLACK + _WINDOW_FACTOR * extent

    def find_value(self, tag_pos: int, tag: str, attr: str, value: str, extent: Callable[[], int]) -> int:
        """Return the position of ``attr``'s ``value`` in the start tag at ``tag_pos`` (or the best guess).

        The search is bounded so a value that cannot be found verbatim (entities) costs no more than the
        tag itself: first to a window sized by the value, then, on a miss, by ``extent()`` (the decoded
        size of all the element's attributes). The fallback is the attribute name's position, then the
        tag's.
        """
        text = self._text
        start = tag_pos + 1 + len(tag)
        limit = tag_pos + _WINDOW_SLACK + _WINDOW_FACTOR * len(value)
        name_pos = text.find(attr, start, limit)
        needle = value.lower()
        found = text.find(needle, start if name_pos < 0 else name_pos, limit + len(needle))
        if found >= 0:
            return found
        wider = tag_pos + _WINDOW_SLACK + _WINDOW_FACTOR * extent()
        if name_pos < 0:
            name_pos = text.find(attr, start, max(limit, wider))
        found = self.find_after(start if name_pos < 0 else name_pos, value, max(limit, wider))
        if found >= 0:
            return found
        return tag_pos if name_pos < 0 else name_pos

    def find_after(self, start: int, value: str, limit: int) -> int:
        """Return where ``value`` (or its entity-escaped form) occurs between ``start`` and ``limit``, or -1."""
        text = self._text
        needle = value.lower()
        found = text.find(needle, start, limit + len(needle))
        if found < 0 and ("&" in needle or "<" in needle or ">" in needle or '"' in needle):
            escaped = html.escape(needle)
            found = text.find(escaped, start, limit + len(escaped))
        return found


def _comment_end(text: str, start: int) -> int:
    """Return the position after the comment opened at ``start``, per the HTML tokenizer's rules."""
    body = start + 4
    if text.startswith(">", body):
        return body + 1
    if text.startswith("->", body):
        return body + 2
    end = text.find("-->", body)
    return len(text) if end < 0 else end + 3
