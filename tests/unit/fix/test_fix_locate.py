"""Where ``fix`` finds a URL as written: as a link, on the reported line, never in Markdown code (fences,
indented blocks, code spans) or HTML ``<pre>``/``<code>``/comments, in reference definitions, in attributes
spelled with character references; and decoding that gives every byte back."""

from __future__ import annotations

import re

import pytest

from linkdoctor.fix.locate import decode, find_definitions, find_link, link_end, parse_source

URL = "http://a.example/x"


def spans_text(kind: str, text: str, line: int, url: str = URL) -> list[str]:
    source = parse_source(kind, text.encode())
    return [source.text[s:e] for s, e in find_link(source, line, url)]


@pytest.mark.parametrize(
    "line",
    [
        f"[a]({URL})",
        f"[a](<{URL}>)",
        f'[a]({URL} "title")',
        f"<{URL}>",
        f'<a href="{URL}">a</a>',
        f"<a href='{URL}'>a</a>",
        f"<img src={URL}>",
    ],
)
def test_a_markdown_link_is_found_in_every_form(line: str) -> None:
    assert spans_text("markdown", f"# T\n\n{line}\n", 3) == [URL]


def test_a_code_span_on_the_same_line_is_left_alone() -> None:
    text = f"`[a]({URL})` and [b]({URL}) and ``x `[c]({URL})` y``\n"
    source = parse_source("markdown", text.encode())
    assert find_link(source, 1, URL) == [
        (text.index(f"[b]({URL})") + 4, text.index(f"[b]({URL})") + 4 + len(URL))
    ]


def test_fenced_and_indented_code_blocks_are_left_alone() -> None:
    text = f"```\n[a]({URL})\n```\n\n    [b]({URL})\n\n~~~md\n<{URL}>\n~~~\n"
    source = parse_source("markdown", text.encode())
    assert [find_link(source, line, URL) for line in (2, 5, 8)] == [[], [], []]


def test_a_longer_url_is_not_a_match() -> None:
    assert spans_text("markdown", f"[a]({URL}/deeper) [b]({URL}?q=1)\n", 1) == []


def test_plain_text_mentioning_the_url_is_not_a_link() -> None:
    assert spans_text("markdown", f"see {URL} or [a]({URL})\n", 1) == [URL]
    assert len(find_link(parse_source("markdown", f"see {URL} or [a]({URL})\n".encode()), 1, URL)) == 1


def test_html_text_that_mentions_the_url_is_not_a_link() -> None:
    text = f'<p> {URL} <a href="{URL}">{URL}</a> src={URL}, <img srcset="{URL} 1x, {URL} 2x"></p>\n'
    source = parse_source("html", text.encode())
    spans = find_link(source, 1, URL)
    assert len(spans) == 3
    assert [text[s - 1] for s, _ in spans] == ['"', '"', " "]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("html", ["href", "srcset", "srcset", "src"]),
        ("markdown", ["href", "srcset", "src"]),  # a srcset's later URLs are not located in Markdown
    ],
)
def test_a_url_in_an_attribute_that_holds_no_link_is_text(kind: str, expected: list[str]) -> None:
    """``title="moved from URL"``, ``alt``, ``data-*``: only the attributes links are read from are links."""
    text = (
        f'<a title="moved from {URL}" data-old=\'{URL}\' href="{URL}">a</a> '
        f'<img alt="{URL}, {URL} 2x" srcset="{URL} 1x, {URL}" src={URL}>\n'
    )
    source = parse_source(kind, text.encode())
    spans = find_link(source, 1, URL)
    attributes = [re.findall(r"([\w-]+)=", text[:start])[-1] for start, _ in spans]
    assert attributes == expected


def test_markdown_prose_with_an_equals_sign_is_not_an_attribute() -> None:
    assert spans_text("markdown", f"set url={URL} and [a]({URL})\n", 1) == [URL]


def test_reference_definitions_are_found_and_code_is_not() -> None:
    text = f'[a][ref]\n\n```\n[ref]: {URL}\n```\n\n[ref]: {URL} "t"\n  [Other Ref]:\n  <{URL}>\n'
    source = parse_source("markdown", text.encode())
    spans = find_definitions(source, URL)
    assert [source.line_of(s) for s, _ in spans] == [7, 9]


def test_html_pre_code_and_comments_are_left_alone_but_their_attributes_elsewhere_are_not() -> None:
    text = (
        f'<pre><a href="{URL}">x</a></pre>\n<code class="c"><a href="{URL}">y</a></code>\n'
        f'<!-- <a href="{URL}"> -->\n<script src="{URL}"></script>\n<PRE>\n<a href="{URL}">\n</PRE>\n'
    )
    source = parse_source("html", text.encode())
    assert [len(find_link(source, line, URL)) for line in (1, 2, 3, 4, 6)] == [0, 0, 0, 1, 0]


def test_an_attribute_with_character_references_is_found_as_spelled() -> None:
    text = '<a href="http://a.example/?x=1&amp;y=2">a</a> <a href="mailto:me&#64;a.example">m</a>\n'
    source = parse_source("html", text.encode())
    assert [text[s:e] for s, e in find_link(source, 1, "http://a.example/?x=1&y=2")] == [
        "http://a.example/?x=1&amp;y=2"
    ]
    assert [text[s:e] for s, e in find_link(source, 1, "mailto:me@a.example")] == ["mailto:me&#64;a.example"]


def test_lines_are_counted_as_the_extractors_count_them() -> None:
    text = f"a\r\nb\rc\n[x]({URL})\r\n"
    assert spans_text("markdown", text, 4) == [URL]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("caf\u00e9 [x](y)\n".encode(), "utf-8"),
        (b"\xef\xbb\xbf# BOM\r\n", "utf-8"),
        ('<meta charset="iso-8859-1"><p>caf\xe9</p>'.encode("iso-8859-1"), "iso-8859-1"),
        (b"\x81\xfe not utf-8", "latin-1"),
        ("# UTF-16\n".encode("utf-16"), "utf-16-le"),
    ],
)
def test_decoding_gives_every_byte_back(raw: bytes, encoding: str) -> None:
    text, found = decode(raw, "html")
    assert found == encoding
    assert text.encode(found, "surrogateescape") == raw


def test_byte_offsets_count_multibyte_characters() -> None:
    text = f"# Caf\u00e9 \u2014 \u00fcber\n\n[\u00e9]({URL})\n"
    source = parse_source("markdown", text.encode())
    ((start, end),) = find_link(source, 3, URL)
    raw = text.encode()
    assert raw[source.byte_offset(start) : source.byte_offset(end)] == URL.encode()


def test_a_file_in_its_declared_charset_round_trips() -> None:
    raw = "<meta charset=shift_jis><p>日本</p>".encode("shift_jis")
    text, encoding = decode(raw, "html")
    assert (encoding, "日本" in text) == ("shift_jis", True)


def test_the_end_of_a_link_for_a_note() -> None:
    md = parse_source("markdown", f'[a]({URL}) [b](<{URL}>) [c]({URL} "t")\n'.encode())
    ends = [link_end(md, e) for _, e in find_link(md, 1, URL)]
    assert [md.text[end - 2 : end] for end in ends if end is not None] == ["x)", ">)", '")']
    html_source = parse_source("html", f'<a href="{URL}">text <b>bold</b></a> after\n'.encode())
    ((_, stop),) = find_link(html_source, 1, URL)
    end = link_end(html_source, stop)
    assert end is not None and html_source.text[:end].endswith("</a>")
