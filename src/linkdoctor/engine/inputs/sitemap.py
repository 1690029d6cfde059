"""Sitemaps (``urlset``, sitemap index, gzip) as seeds. Pure: bytes in, URLs out.

Decompression is capped so a gzip bomb cannot exhaust memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for one uncompressed file


@dataclass(frozen=True, slots=True)
class Sitemap:
    """The ``<loc>`` values of a sitemap; ``is_index`` when they are further sitemaps."""

    locs: tuple[str, ...]
    is_index: bool


def gunzip_capped(data: bytes, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress gzip ``data``, refusing to produce more than ``limit`` bytes."""
    decompressor = zlib.decompressobj(wbits=47)  # gzip or zlib header
    out = decompressor.decompress(data, limit + 1)
    if len(out) > limit or decompressor.unconsumed_tail:
        raise ValueError(f"sitemap expands beyond {limit} bytes")
    return out


def parse_sitemap(data: bytes) -> Sitemap | None:
    """Parse a sitemap or sitemap index; ``None`` when ``data`` is not one.

    >>> parse_sitemap(b'<urlset><url><loc>https://e.org/a</loc></url></urlset>')
    Sitemap(locs=('https://e.org/a',), is_index=False)
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gunzip_capped(data)
        except (ValueError, zlib.error):
            return None
    if b"<!ENTITY" in data[:4096]:
        return None  # entity definitions have no place in a sitemap; refuse rather than expand them
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
    tag = root.tag.rpartition("}")[2]
    if tag not in ("urlset", "sitemapindex"):
        return None
    locs = tuple(
        el.text.strip()
        for el in root.iter()
        if el.tag.rpartition("}")[2] == "loc" and el.text and el.text.strip()
    )
    return Sitemap(locs, tag == "sitemapindex")


def looks_like_sitemap_url(url: str) -> bool:
    path = url.partition("?")[0].lower()
    return path.endswith((".xml", ".xml.gz")) or "sitemap" in path.rpartition("/")[2]
