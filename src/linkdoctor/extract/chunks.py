"""Where to cut a huge HTML document so that each piece can be parsed on its own.

A parse tree costs about 25 bytes of memory per byte of HTML (lexbor: a 10 MB page of 300,000 links
builds some 240 MB), so :func:`~linkdoctor.extract.html.extract_html` parses a document bigger than
:data:`CHUNK_CHARS` as a run of pieces of about that size, one tree at a time (some 6 MB each). A piece ends just before a
``<`` that starts a tag, never inside a comment or the content of a raw-text element (``<script>``,
``<style>``…), so each piece tokenizes as it would in the whole document; what a piece loses is only the
context of elements left open by the previous one (the text of a link cut in two, a ``<head>`` that the
next piece parses as body), none of which changes which links a document holds.

Deep nesting is the other cost: lexbor's tree building grows with the square of the depth (256 KiB of
``<ul>`` opened and never closed took 16 s, a 5 MB page 275 s, deaf to ``--max-time``). A piece whose
start tags outnumber its end tags by :data:`DEEP_TAGS` or more (:func:`nests_deep`: counted in C, a
millisecond a piece) is parsed in pieces of :data:`DEEP_CHUNK_CHARS` (0.16 s per 256 KiB of such markup).

>>> text = "<p>one</p>\\n<script>a<b</script>\\n<p>two</p>\\n"
>>> [text[a:b] for a, b in pieces(text, 12)]
['<p>one</p>\\n', '<script>a<b</script>\\n', '<p>two</p>\\n']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

CHUNK_CHARS: Final = 256 * 1024
DEEP_TAGS: Final = 2_048
# Below this, a document is parsed whole without counting: at worst 8,192 tags deep, a quarter second.
SMALL_DOCUMENT_CHARS: Final = 32 * 1024
DEEP_CHUNK_CHARS: Final = 4 * 1024
# What opens a stretch that must not be cut: a comment, or a raw-text element whose content is not markup.
_OPENER = re.compile(r"<!--|<(script|style|textarea|title|xmp|iframe|noembed|noframes|plaintext)[\s/>]", re.I)
_TAG_START = re.compile(r"<[A-Za-z/!]")


def pieces(
    text: str, size: int = CHUNK_CHARS, start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, int]]:
    """``(start, end)`` spans that cover ``text`` (from ``start`` to ``stop``) in order, each about ``size``
    characters (longer only when a comment or a raw-text element runs past its end), cut before a tag outside
    any such stretch; a piece that :func:`nests_deep` comes in pieces of :data:`DEEP_CHUNK_CHARS`."""
    length = len(text) if stop is None else stop
    while start < length:
        end = _cut(text, start, size, length)
        if size > DEEP_CHUNK_CHARS and nests_deep(text, start, end):
            yield from pieces(text, DEEP_CHUNK_CHARS, start, end)
        else:
            yield start, end
        start = end


def nests_deep(text: str, start: int = 0, end: int | None = None) -> bool:
    """Whether ``text[start:end]`` opens :data:`DEEP_TAGS` more tags than it closes (void elements count as
    opened: a false alarm only costs smaller pieces)."""
    stop = len(text) if end is None else end
    opened = text.count("<", start, stop) - 2 * text.count("</", start, stop) - text.count("<!", start, stop)
    return opened >= DEEP_TAGS


def _cut(text: str, start: int, size: int, length: int) -> int:
    """Where the piece that begins at ``start`` (and ends by ``length``) ends."""
    if length - start <= size:
        return length
    target = start + size
    # The last tag start in the piece's second half (a piece of plain text is cut anywhere).
    cut = -1
    for found in _TAG_START.finditer(text, start + size // 2, target + 1):
        cut = found.start()
    if cut < 0:
        cut = target
    # Step over the comments and raw-text elements that open before the cut; cut after one left open.
    pos = start
    while (opener := _OPENER.search(text, pos, cut)) is not None:
        close = _close_of(text, opener)
        if close > cut:
            following = _TAG_START.search(text, close, length) if close < length else None
            return length if following is None else following.start()
        pos = close
    return cut


def _close_of(text: str, opener: re.Match[str]) -> int:
    """Where the comment or raw-text element that ``opener`` starts ends (the text's length if never)."""
    name = opener.group(1)
    if name is None:
        end = text.find("-->", opener.end())
        return len(text) if end < 0 else end + 3
    if name.lower() == "plaintext":
        return len(text)
    closer = re.compile(r"</" + name + r"[\s/>]", re.I).search(text, opener.end())
    return len(text) if closer is None else closer.end()
