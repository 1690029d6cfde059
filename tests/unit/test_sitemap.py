"""Sitemap parsing: urlset, index, gzip, and refusal of bombs and entities."""

from __future__ import annotations

import gzip

import pytest

from linkdoctor.engine.inputs.sitemap import gunzip_capped, looks_like_sitemap_url, parse_sitemap

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://e.org/a</loc></url>
  <url><loc> https://e.org/b </loc></url>
</urlset>"""


def test_urlset_locs_are_seeds() -> None:
    sitemap = parse_sitemap(URLSET)
    assert sitemap is not None
    assert sitemap.locs == ("https://e.org/a", "https://e.org/b")
    assert not sitemap.is_index


def test_sitemap_index_is_recognized() -> None:
    data = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://e.org/s1.xml</loc></sitemap></sitemapindex>'
    sitemap = parse_sitemap(data)
    assert sitemap is not None and sitemap.is_index and sitemap.locs == ("https://e.org/s1.xml",)


def test_gzip_sitemap_is_decompressed() -> None:
    sitemap = parse_sitemap(gzip.compress(URLSET))
    assert sitemap is not None and len(sitemap.locs) == 2


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ValueError, match="expands beyond"):
        gunzip_capped(bomb, limit=1024 * 1024)


def test_entity_definitions_are_refused() -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>'
    assert parse_sitemap(data) is None


def test_html_is_not_a_sitemap() -> None:
    assert parse_sitemap(b"<html><body>hi</body></html>") is None
    assert parse_sitemap(b"\x00\x01binary") is None


def test_sitemap_url_heuristic() -> None:
    assert looks_like_sitemap_url("https://e.org/sitemap.xml")
    assert looks_like_sitemap_url("https://e.org/sitemap_index.xml.gz")
    assert not looks_like_sitemap_url("https://e.org/index.html")
