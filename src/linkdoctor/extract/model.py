"""The values extraction produces: an :class:`Extraction` per document, holding one row per link occurrence.

Both are frozen: extraction is a pure function of the document's text, and the crawler shares its output
between tasks without copying. The occurrences are plain ``(url, line, text, element)`` tuples
(:data:`LinkRow`), because a crawl makes, pickles and walks them by the ten thousand; :attr:`Extraction.links`
gives them as :class:`RawLink` values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawLink:
    """One link occurrence as written in the document, before any resolution or classification.

    ``url`` is the attribute or link value with surrounding whitespace stripped and HTML entities decoded.
    ``line`` is the 1-based source line (lines end at ``\\n``, ``\\r\\n`` or ``\\r``), or None when unknown.
    ``text`` is the link text for ``<a>`` and Markdown links, else an alt/title or the ``element`` label.
    ``element`` says where the link came from, e.g. ``"a[href]"``, ``"img[srcset]"``, ``"css url()"``.
    """

    url: str
    line: int | None
    text: str
    element: str


# A RawLink's fields as a plain tuple (url, line, text, element): how an Extraction keeps its links.
LinkRow = tuple[str, int | None, str, str]


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything one document offers the crawler.

    ``rows`` are the link occurrences in document order with duplicates kept (each occurrence is a
    referrer), as :data:`LinkRow` tuples; ``anchors`` are the fragment targets the document defines;
    ``base_href`` is the first ``<base href>`` as written; ``nofollow`` is set by
    ``<meta name="robots" content="nofollow">``; ``dropped`` counts the occurrences found past the
    extractor's ``max_links`` and not kept (so the document holds ``len(rows) + dropped`` links).
    """

    rows: tuple[LinkRow, ...]
    anchors: frozenset[str]
    base_href: str | None
    nofollow: bool = False
    dropped: int = 0

    @property
    def links(self) -> tuple[RawLink, ...]:
        """The occurrences as :class:`RawLink` values (made on each access; the crawler reads ``rows``)."""
        return tuple(RawLink(*row) for row in self.rows)
