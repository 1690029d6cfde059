"""Behaviour of ``extract_css``: ``url()`` in every spelling, ``@import`` forms and line numbers."""

from __future__ import annotations

import pytest

from linkdoctor.extract import extract_css


def found(css: str, first_line: int = 1) -> list[tuple[str, int | None, str]]:
    return [(link.url, link.line, link.element) for link in extract_css(css, first_line=first_line).links]


@pytest.mark.parametrize(
    "declaration",
    ["url(x.png)", "url( x.png )", "url('x.png')", 'url("x.png")', "URL(x.png)", 'url(\n "x.png"\n)'],
)
def test_every_url_spelling_is_extracted(declaration: str) -> None:
    assert [url for url, _, _ in found(f"a {{ b: {declaration} }}")] == ["x.png"]


@pytest.mark.parametrize(
    "rule",
    ['@import "x.css";', "@import 'x.css' print;", "@import url(x.css);", '@IMPORT url("x.css") screen;'],
)
def test_every_import_form_is_extracted(rule: str) -> None:
    assert found(rule) == [("x.css", 1, "css @import")]


def test_urls_in_nested_blocks_and_functions_are_found() -> None:
    css = "@media print { @supports (x: y) { .a { b: image-set(url(n.png) 1x) } } }"
    assert [url for url, _, _ in found(css)] == ["n.png"]


def test_comments_hide_urls() -> None:
    assert found("/* url(hidden.png) @import 'no.css'; */ a { b: c }") == []


def test_data_uris_and_empty_urls_are_skipped() -> None:
    assert found('a { b: url(data:image/png;base64,AA==); c: url(""); d: url() }') == []


def test_escapes_in_urls_are_decoded() -> None:
    assert [url for url, _, _ in found(r"a { b: url(with\ space.png) }")] == ["with space.png"]


def test_lines_count_from_first_line() -> None:
    css = "a {\n  b: url(one.png);\n}\n@import 'two.css';"
    assert found(css, first_line=10) == [("one.png", 11, "css url()"), ("two.css", 13, "css @import")]


def test_form_feeds_and_carriage_returns_number_lines_like_the_html_extractor() -> None:
    assert found("a{}\f\r\nb { c: url(x.png) }") == [("x.png", 2, "css url()")]


def test_quoted_url_on_a_later_line_takes_the_string_line() -> None:
    assert found("a { b: url(\n\n 'x.png') }") == [("x.png", 3, "css url()")]


def test_deeply_nested_blocks_do_not_exhaust_the_stack() -> None:
    css = "a { b: " + "(" * 20_000 + "url(deep.png)" + ")" * 20_000 + " }"
    assert [url for url, _, _ in found(css)] == ["deep.png"]


def test_stylesheet_has_no_anchors_or_base() -> None:
    result = extract_css("a { b: url(x.png) }")
    assert (result.anchors, result.base_href, result.nofollow) == (frozenset(), None, False)
