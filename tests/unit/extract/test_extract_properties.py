"""Properties every extractor keeps for any input: it returns (never raises) and its lines exist."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linkdoctor.extract import Extraction, extract_css, extract_html, extract_markdown
from linkdoctor.extract.source import count_lines

EXTRACTORS: tuple[Callable[[str], Extraction], ...] = (extract_html, extract_markdown, extract_css)

_TAGS = ["a", "A", "img", "source", "link", "script", "style", "iframe", "base", "meta", "div", "template"]
_ATTRS = ["href", "HREF", "src", "srcset", "style", "id", "name", "rel", "content", "http-equiv", "alt"]
_VALUE_PIECES = st.sampled_from(
    ["/x", " ", "\n", "\r", "\r\n", "\f", ",", "1x", "(", ")", "&amp;", "&#10;", "&lt;", "<", ">", "data:", "url(",
     "'", '"', "refresh", "0; url=", "preconnect", "nofollow", "\x00", "\ufffd", "é"]
)  # fmt: skip
_VALUES = st.lists(_VALUE_PIECES | st.text(max_size=5), max_size=6).map("".join)
_QUOTES = st.sampled_from(['"', "'", ""])


@st.composite
def html_ish(draw: st.DrawFn) -> str:
    """Markup-like text: tags with attributes, comments, text and newlines, possibly cut anywhere."""
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 5))
        if kind <= 2:
            tag = draw(st.sampled_from(_TAGS))
            attrs = []
            for _ in range(draw(st.integers(0, 3))):
                quote = draw(_QUOTES)
                sep = draw(st.sampled_from([" ", "\n", "\t", "\r\n"]))
                attrs.append(f"{sep}{draw(st.sampled_from(_ATTRS))}={quote}{draw(_VALUES)}{quote}")
            parts.append(f"<{tag}{''.join(attrs)}>{draw(_VALUES)}")
            if draw(st.booleans()):
                parts.append(f"</{tag}>")
        elif kind == 3:
            parts.append(f"<!--{draw(_VALUES)}-->" if draw(st.booleans()) else "<!--")
        else:
            parts.append(draw(_VALUES))
    text = "".join(parts)
    cut = draw(st.integers(0, len(text)))
    return text[:cut] if draw(st.booleans()) else text


_MD_PIECES = st.sampled_from(
    ["[", "]", "(", ")", "![", "](", "<", ">", "<https://x>", "# ", "\n", "\r\n", "\n\n", "`", "```\n", "    ",
     "| a |", "|---|", "> ", "- ", "[r]: /t\n", "[r]", "<a href='/h' id=i>", "</a>", "<div>\n", "\\", "&amp;",
     "===\n", "*", "x", " ", "\t", "\x00"]
)  # fmt: skip
_CSS_PIECES = st.sampled_from(
    ["url(", ")", "'", '"', "@import", " ", "\n", "\r", "\f", "{", "}", "(", "/*", "*/", "\\", ";", "x.png",
     "data:", "URL(", "@media", ",", "\x00"]
)  # fmt: skip


def assert_lines_exist(text: str, result: Extraction) -> None:
    lines = count_lines(text)
    for link in result.links:
        assert link.line is None or 1 <= link.line <= lines, (link, lines)
        assert link.url


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("a\udc80b<a href='x\ud800'>\udfff</a>")
@example("\r\n\r<a href=x>")
def test_any_text_is_accepted_by_every_extractor(text: str) -> None:
    for extract in EXTRACTORS:
        assert_lines_exist(text, extract(text))


@pytest.mark.slow  # 400 generated documents
@settings(max_examples=400, deadline=None)
@given(html_ish())
@example('<p style="&#10;&#10;background:url(x)">')
@example('<img\nsrcset="a 1x,\n&#10;b 2x">')
def test_markup_like_text_yields_links_on_existing_lines(text: str) -> None:
    assert_lines_exist(text, extract_html(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(_MD_PIECES | st.text(max_size=3), max_size=40).map("".join))
def test_markdown_like_text_yields_links_on_existing_lines(text: str) -> None:
    assert_lines_exist(text, extract_markdown(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CSS_PIECES | st.text(max_size=3), max_size=40).map("".join))
def test_css_like_text_yields_links_on_existing_lines(text: str) -> None:
    assert_lines_exist(text, extract_css(text))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_garbage_decoded_with_replacement_is_accepted(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    for extract in EXTRACTORS:
        assert_lines_exist(text, extract(text))
