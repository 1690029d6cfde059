"""A huge HTML document is parsed a piece at a time (``linkdoctor.extract.chunks``): the same links, lines
and anchors as one parse of the whole, with no parse tree bigger than a piece, and a link cap that keeps
the first links and counts the rest."""

from __future__ import annotations

import itertools
import re

import pytest
from selectolax.lexbor import LexborHTMLParser

from linkdoctor.extract import html as html_extractor
from linkdoctor.extract.chunks import CHUNK_CHARS, DEEP_CHUNK_CHARS, nests_deep, pieces
from linkdoctor.extract.html import extract_html

# Raw text and comments that hold what looks like links (never links), spread so pieces fall among them.
BLOCK = (
    '<h2 id="s{n}">Section {n}</h2>\n<p><a href="/page/{n}.html">page {n}</a>\n'
    '<img src="/img/{n}.png" alt="pic {n}"></p>\n'
    "<script>var s = \"<a href='/script/{n}'>no</a>\";\nif (a < b) {{ x(); }}</script>\n"
    '<!-- <a href="/comment/{n}">no</a> -->\n'
    "<style>p.c{n} {{ background: url(/bg/{n}.png) }}</style>\n"
)


def _document(blocks: int) -> str:
    body = "".join(BLOCK.format(n=n) for n in range(blocks))
    return f'<!DOCTYPE html>\n<html><head><base href="/docs/"></head><body>\n{body}</body></html>\n'


def _whole(text: str) -> tuple[list[tuple[str, int | None, str]], set[str]]:
    found = html_extractor._HtmlPass(text).run()
    return [(url, line, element) for url, line, _, element in found.links], found.anchors


def test_a_document_bigger_than_a_piece_gives_the_links_of_one_whole_parse() -> None:
    text = _document(3 * CHUNK_CHARS // len(BLOCK) + 100)
    assert len(text) > 3 * CHUNK_CHARS
    result = extract_html(text)
    whole_links, whole_anchors = _whole(text)
    assert [(url, line, element) for url, line, _, element in result.rows] == whole_links
    assert result.anchors == frozenset(whole_anchors)
    assert result.base_href == "/docs/"
    assert not any("/script/" in url or "/comment/" in url for url, _, _, _ in result.rows)


def parsed_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each text lexbor is given from now on."""
    sizes: list[int] = []
    real = LexborHTMLParser

    def recording(text: str) -> object:
        sizes.append(len(text))
        return real(text)

    monkeypatch.setattr(html_extractor, "LexborHTMLParser", recording)
    return sizes


def test_no_parse_tree_holds_more_than_about_a_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = parsed_sizes(monkeypatch)
    text = _document(4 * CHUNK_CHARS // len(BLOCK))
    extract_html(text)
    assert len(sizes) >= 4
    assert max(sizes) <= CHUNK_CHARS + len(BLOCK)


def test_pieces_end_before_a_tag_and_never_inside_script_or_a_comment() -> None:
    text = _document(2000)
    spans = list(pieces(text, 4096))
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(spans))
    for _, end in spans[:-1]:
        assert text[end] == "<"
        head = text[:end]
        assert head.count("<script>") == head.count("</script>")
        assert head.count("<!--") == head.count("-->")


def test_a_script_longer_than_a_piece_stays_in_one_piece() -> None:
    text = "<p>a</p>" * 100 + "<script>" + "x < y;\n" * 2000 + "</script><p>b</p>" * 100
    spans = list(pieces(text, 1000))
    script = text.index("<script>")
    (holder,) = [(a, b) for a, b in spans if a <= script < b]
    assert text[holder[0] : holder[1]].count("</script>") == 1


def test_the_link_cap_keeps_the_first_links_and_counts_the_rest_across_pieces() -> None:
    text = _document(2 * CHUNK_CHARS // len(BLOCK))
    whole = extract_html(text)
    capped = extract_html(text, max_links=1000)
    assert capped.rows == whole.rows[:1000]
    assert capped.dropped == len(whole.rows) - 1000
    assert capped.anchors == whole.anchors  # anchors past the cap still count for fragments


def test_a_small_document_with_a_cap() -> None:
    result = extract_html("".join(f'<a href="/{n}">{n}</a>' for n in range(5)), max_links=2)
    assert [link.url for link in result.links] == ["/0", "/1"]
    assert result.dropped == 3


def test_lines_run_on_across_pieces() -> None:
    text = _document(2 * CHUNK_CHARS // len(BLOCK))
    last = extract_html(text).rows[-1]
    line_of_last = text.count("\n", 0, [m.start() for m in re.finditer(re.escape(last[0]), text)][-1]) + 1
    assert last[1] == line_of_last


@pytest.mark.parametrize("size", [200 * 1024, 3 * CHUNK_CHARS], ids=["under-a-piece", "over-three-pieces"])
def test_deep_nesting_is_parsed_in_small_pieces_with_every_link(
    monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """Tags opened and never closed (lexbor's time grows with the square of the depth: 256 KiB of ``<ul>``
    took 16 s) are parsed :data:`DEEP_CHUNK_CHARS` at a time, links before, inside and after kept."""
    sizes = parsed_sizes(monkeypatch)
    deep = "<ul><li>" * (size // 16)
    middle = len(deep) // 2
    text = (
        f'<a href="/before">b</a>{deep[:middle]}<a href="/inside">i</a>{deep[middle:]}<a href="/after">a</a>'
    )
    assert nests_deep(text) and not nests_deep(_document(100))
    assert [url for url, _, _, _ in extract_html(text).rows] == ["/before", "/inside", "/after"]
    assert max(sizes) <= DEEP_CHUNK_CHARS + 64
