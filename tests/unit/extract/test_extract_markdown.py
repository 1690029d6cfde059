"""Behaviour of ``extract_markdown``: link kinds, raw targets, embedded HTML, lines and heading anchors."""

from __future__ import annotations

import pytest

from linkdoctor.extract import RawLink, extract_markdown


def links(markdown: str) -> list[tuple[str, int | None, str]]:
    return [(link.url, link.line, link.element) for link in extract_markdown(markdown).links]


def only(markdown: str) -> RawLink:
    found = extract_markdown(markdown).links
    assert len(found) == 1, found
    return found[0]


def test_inline_link_has_its_text_and_line() -> None:
    link = only("intro\n\nsee [the *guide*](guide.md) now")
    assert (link.url, link.line, link.text, link.element) == ("guide.md", 3, "the guide", "md link")


def test_image_has_its_alt_as_text() -> None:
    link = only("![A **bold** diagram](d.png)")
    assert (link.url, link.text, link.element) == ("d.png", "A bold diagram", "md image")


def test_link_without_text_falls_back_to_title_then_element() -> None:
    assert only('[](a.md "Title")').text == "Title"
    assert only("![](a.png)").text == "md image"


def test_reference_link_reports_the_target_at_the_line_of_use() -> None:
    markdown = "first\n\nuse [it][ref] here\n\n[ref]: target.md\n"
    assert links(markdown) == [("target.md", 3, "md link")]


def test_collapsed_and_shortcut_references_resolve_case_insensitively() -> None:
    markdown = "[Docs][] and [DOCS]\n\n[docs]: <docs page.md>\n"
    assert links(markdown) == [("docs page.md", 1, "md link"), ("docs page.md", 1, "md link")]


def test_unused_reference_definitions_are_not_links() -> None:
    assert links("text\n\n[unused]: nowhere.md\n") == []


def test_autolinks_keep_their_target_and_emails_become_mailto() -> None:
    assert links("<https://x.org/%7Efoo?a=1&b=2> and <me@example.org>") == [
        ("https://x.org/%7Efoo?a=1&b=2", 1, "md autolink"),
        ("mailto:me@example.org", 1, "md autolink"),
    ]


def test_targets_stay_as_written_not_percent_encoded() -> None:
    assert only("[x](<docs/a file.md>)").url == "docs/a file.md"
    assert only("[x](café.md)").url == "café.md"


def test_escapes_and_entities_in_targets_are_decoded() -> None:
    assert only(r"[x](a\(b\).md?x=1&amp;y=2)").url == "a(b).md?x=1&y=2"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "vbscript:x", "file:///etc/hosts", "mailto:a@b.c"])
def test_schemes_markdown_it_would_refuse_are_kept_for_the_caller(url: str) -> None:
    assert only(f"[x]({url})").url == url


def test_data_uris_are_skipped() -> None:
    assert links("![x](data:image/png;base64,AA==) [y](DATA:text/plain,hi)") == []


def test_bare_urls_are_not_links() -> None:
    assert links("visit https://example.org today") == []


def test_code_spans_and_code_blocks_hide_links() -> None:
    assert links("`[a](a.md)`\n\n```\n[b](b.md)\n```\n\n    [c](c.md)\n") == []


def test_lines_follow_soft_breaks_code_spans_and_inline_html() -> None:
    markdown = "one\ntwo `code\nspan` <span\nclass=x>\n[a](a.md)\n[b](b.md)"
    assert [line for _, line, _ in links(markdown)] == [5, 6]


def test_link_line_is_where_its_text_starts() -> None:
    assert links("para\n[wrapped\ntext](w.md)") == [("w.md", 2, "md link")]


def test_links_in_tables_quotes_and_lists_carry_their_lines() -> None:
    markdown = "| h |\n|---|\n| [t](t.md) |\n\n> [q](q.md)\n\n- item\n- [l](l.md)\n"
    assert links(markdown) == [("t.md", 3, "md link"), ("q.md", 5, "md link"), ("l.md", 8, "md link")]


def test_image_inside_link_yields_both_link_first() -> None:
    assert links("[![badge](b.svg)](target.md)") == [("target.md", 1, "md link"), ("b.svg", 1, "md image")]


def test_html_blocks_are_extracted_with_offset_lines() -> None:
    markdown = '# T\n\n<div id="box">\n  <a href="in.html">In</a>\n  <img src="i.png">\n</div>\n'
    result = extract_markdown(markdown)
    assert [(link.url, link.line, link.element) for link in result.links] == [
        ("in.html", 4, "a[href]"),
        ("i.png", 5, "img[src]"),
    ]
    assert "box" in result.anchors


def test_inline_html_links_get_their_markdown_text_and_ids_become_anchors() -> None:
    result = extract_markdown('a\nb <a href="x.html" id="here">the *x*</a> <a name="old"></a>')
    assert [(link.url, link.line, link.text) for link in result.links] == [("x.html", 2, "the x")]
    assert {"here", "old"} <= result.anchors


def test_headings_become_github_slugs_with_numbered_repeats() -> None:
    markdown = "# Intro\n## Intro\nIntro\n===\n### Hello, *World*! `v2`\n"
    assert extract_markdown(markdown).anchors == frozenset({"intro", "intro-1", "intro-2", "hello-world-v2"})


def test_crlf_line_endings_number_lines_like_lf() -> None:
    assert links("a\r\n\r\n[x](x.md)\r\n") == [("x.md", 3, "md link")]


def test_markdown_has_no_base_and_no_nofollow() -> None:
    result = extract_markdown('<base href="/x/"><meta name="robots" content="nofollow">')
    assert (result.base_href, result.nofollow) == (None, False)
