"""Sitemaps (``urlset``, sitemap index, gzip) as seeds. Pure: bytes in, URLs out.

Parsing streams: a gzip sitemap is inflated a megabyte at a time (never past :data:`MAX_SITEMAP_BYTES`, so
a bomb stops there), the XML is read by a pull parser that forgets each entry once its ``<loc>`` is taken,
and at most ``max_locs`` URLs are kept (:data:`MAX_SITEMAP_URLS`, the protocol's own limit per file); the
rest are only counted (``Sitemap.total``, by their closing tags once the cap is reached), so a million-URL
index costs its count, not a million strings. A sitemap cut short (inflating past the cap, or a body cut at
``--max-body``) keeps what came before and says so (:func:`sitemap_result`: ``http.body-truncated``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import cast

from linkdoctor.classify import codes
from linkdoctor.models import Category, CheckResult

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file


MAX_SITEMAP_URLS = 50_000  # the sitemaps.org limit for one file
_STEP = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sitemap:
    """The ``<loc>`` values of a sitemap; ``is_index`` when they are further sitemaps. ``total`` counts
    every ``<loc>`` found, kept in ``locs`` or not (past the cap); 0 means ``len(locs)``. ``cut``: the
    document ended early (it inflated past :data:`MAX_SITEMAP_BYTES`, or its XML broke off)."""

    locs: tuple[str, ...]
    is_index: bool
    total: int = 0
    cut: bool = False

    @property
    def found(self) -> int:
        """How many ``<loc>`` the sitemap held, kept or not."""
        return max(self.total, len(self.locs))


def gunzip_capped(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress gzip ``data``, refusing to produce more than ``limit`` bytes."""
    decompressor = zlib.decompressobj(wbits=47)  # gzip or zlib header
    out = decompressor.decompress(data, limit + 1)
    if len(out) > limit or decompressor.unconsumed_tail:
        raise ValueError(f"sitemap expands beyond {limit} bytes")
    return out


def parse_sitemap(data: bytes, *, max_locs: int = MAX_SITEMAP_URLS) -> Sitemap | None:
    """Parse a sitemap or sitemap index, keeping at most ``max_locs`` URLs; ``None`` when ``data`` is not one.

    >>> parse_sitemap(b'<urlset><url><loc>https://e.org/a</loc></url></urlset>')
    Sitemap(locs=('https://e.org/a',), is_index=False, total=1)
    """
    # Imported on the first sitemap: most checks never read one.
    from xml.etree import ElementTree

    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
        events=("start", "end")
    )
    root: ElementTree.Element | None = None
    locs: list[str] = []
    total = 0
    carry = b""
    cut = False
    try:
        for piece in _pieces(data):
            if root is None and b"<!ENTITY" in piece[:4096]:
                return None  # entity definitions have no place in a sitemap; refuse rather than expand them
            if len(locs) >= max_locs:  # the rest is only counted, at the speed of bytes.count
                total += (carry + piece).count(b"</loc>")
                carry = piece[-5:]  # a tag split between two pieces is counted once, in the next
                continue
            parser.feed(piece)
            carry = piece[-5:]
            # start and end events only: (event, element) pairs
            for event, element in cast("Iterator[tuple[str, object]]", parser.read_events()):
                if not isinstance(element, ElementTree.Element):
                    continue
                name = element.tag.rpartition("}")[2]
                if root is None:
                    if name not in ("urlset", "sitemapindex"):
                        return None
                    root = element
                elif event == "end" and name == "loc":
                    text = (element.text or "").strip()
                    if text:
                        total += 1
                        if len(locs) < max_locs:
                            locs.append(text)
                elif event == "end" and name in ("url", "sitemap"):
                    root.clear()  # forget the entries read so far: memory stays flat
        parser.close()
    except (ElementTree.ParseError, ValueError, zlib.error):
        if root is None:
            return None  # not XML at all, or a corrupt gzip
        # a sitemap cut short (at the body limit, or inflating past MAX_SITEMAP_BYTES): what was read counts
        cut = True
    if root is None:
        return None
    return Sitemap(tuple(locs), root.tag.rpartition("}")[2] == "sitemapindex", total, cut)


def sitemap_result(result: CheckResult, sitemap: Sitemap | None) -> CheckResult:
    """``result`` of fetching a sitemap, with the ``http.body-truncated`` warning when the sitemap was cut
    short and the answer was otherwise fine (the URLs past the cut were not read)."""
    if (
        sitemap is None
        or not sitemap.cut
        or result.diagnosis is not None
        or result.category is not Category.OK
    ):
        return result
    detail = (
        f"the sitemap broke off or expanded past {MAX_SITEMAP_BYTES:,} bytes: {sitemap.found:,} URLs read"
    )
    return replace(result, diagnosis=codes.make("http.body-truncated", detail))


def _pieces(data: bytes) -> Iterator[bytes]:
    """``data`` a megabyte at a time, inflated when it is gzip (up to :data:`MAX_SITEMAP_BYTES`, then a
    ``ValueError``)."""
    if data[:2] != b"\x1f\x8b":
        for start in range(0, len(data), _STEP):
            yield data[start : start + _STEP]
        return
    inflate = zlib.decompressobj(wbits=47)
    produced = 0
    pending = data
    while pending and not inflate.eof:
        piece = inflate.decompress(pending, _STEP)
        pending = inflate.unconsumed_tail
        produced += len(piece)
        if produced > MAX_SITEMAP_BYTES:
            raise ValueError(f"sitemap expands beyond {MAX_SITEMAP_BYTES} bytes")
        yield piece
        if not piece and not pending:
            break


def looks_like_sitemap_url(url: str) -> bool:
    path = url.partition("?")[0].lower()
    return path.endswith((".xml", ".xml.gz")) or "sitemap" in path.rpartition("/")[2]
