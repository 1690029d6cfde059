"""Behaviour of ``extract_html``: which attributes are links, what is skipped, and where each link sits."""

from __future__ import annotations

import pytest

from linkdoctor.extract import RawLink, extract_html
from linkdoctor.extract.source import count_lines


def urls(html: str) -> list[str]:
    return [link.url for link in extract_html(html).links]


def only(html: str) -> RawLink:
    links = extract_html(html).links
    assert len(links) == 1, links
    return links[0]


@pytest.mark.parametrize(
    ("html", "element"),
    [
        ('<a href="/x">x</a>', "a[href]"),
        ('<map><area href="/x" alt="x"></map>', "area[href]"),
        ('<img src="/x">', "img[src]"),
        ('<video><source src="/x"></video>', "source[src]"),
        ('<script src="/x"></script>', "script[src]"),
        ('<link rel="stylesheet" href="/x">', "link[href]"),
        ('<iframe src="/x"></iframe>', "iframe[src]"),
        ('<frameset><frame src="/x"></frameset>', "frame[src]"),
        ('<video src="/x"></video>', "video[src]"),
        ('<video poster="/x"></video>', "video[poster]"),
        ('<audio src="/x"></audio>', "audio[src]"),
        ('<object data="/x"></object>', "object[data]"),
        ('<embed src="/x">', "embed[src]"),
        ('<meta http-equiv="refresh" content="0; url=/x">', "meta[refresh]"),
    ],
)
def test_each_linking_attribute_is_extracted_with_its_element_label(html: str, element: str) -> None:
    link = only(html)
    assert (link.url, link.element) == ("/x", element)


def test_srcset_yields_every_candidate_in_order() -> None:
    links = extract_html('<img srcset="a.png 1x, b.png 2x">').links
    assert [(link.url, link.element) for link in links] == [
        ("a.png", "img[srcset]"),
        ("b.png", "img[srcset]"),
    ]


def test_picture_source_srcset_is_extracted() -> None:
    assert urls('<picture><source srcset="hero.avif 1x, hero2.avif 2x"></picture>') == [
        "hero.avif",
        "hero2.avif",
    ]


@pytest.mark.parametrize("rel", ["preconnect", "dns-prefetch", "PreConnect", "dns-prefetch preconnect"])
def test_origin_hints_are_not_links(rel: str) -> None:
    assert urls(f'<link rel="{rel}" href="https://cdn.example.net">') == []


@pytest.mark.parametrize("rel", ["stylesheet", "icon", "canonical", "alternate", "preload"])
def test_resource_link_relations_are_links(rel: str) -> None:
    assert urls(f'<link rel="{rel}" href="/r">') == ["/r"]


@pytest.mark.parametrize("url", ["data:text/html,hi", "DATA:image/png;base64,AA==", " data:,x"])
def test_data_uris_are_skipped(url: str) -> None:
    assert urls(f'<a href="{url}">x</a><img src="{url}"><img srcset="{url} 1x">') == []


@pytest.mark.parametrize("url", ["mailto:a@example.org", "tel:+1555", "javascript:void(0)", "ftp://h/f"])
def test_other_schemes_are_kept_for_the_caller_to_classify(url: str) -> None:
    assert urls(f'<a href="{url}">x</a>') == [url]


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_values_are_skipped(value: str) -> None:
    assert urls(f'<a href="{value}">x</a><img src="{value}"><a href>bare</a>') == []


def test_values_are_stripped_of_surrounding_whitespace() -> None:
    assert urls('<a href="  /padded \n">x</a>') == ["/padded"]


def test_entities_are_decoded_and_the_line_still_found() -> None:
    link = only('<p>\n\n<a href="/s?a=1&amp;b=&lt;2&gt;&#x41;">x</a>')
    assert (link.url, link.line) == ("/s?a=1&b=<2>A", 3)


def test_link_text_is_collapsed_and_capped_at_100_characters() -> None:
    long_text = "word  \n  " * 40
    link = only(f'<a href="/x">  Hello\n   <b>bold</b>\tworld {long_text}</a>')
    assert link.text.startswith("Hello bold world word word")
    assert len(link.text) == 100


def test_link_without_text_falls_back_to_title_then_element() -> None:
    assert only('<a href="/x" title="Go"><img src=""></a>').text == "Go"
    assert only('<a href="/x"></a>').text == "a[href]"


def test_image_text_is_its_alt_then_title_then_element() -> None:
    assert [
        link.text
        for link in extract_html('<img src="a" alt="Alt"><img src="b" title="T"><img src="c">').links
    ] == [
        "Alt",
        "T",
        "img[src]",
    ]


def test_duplicates_are_kept_in_document_order() -> None:
    html = '<a href="/a">1</a>\n<img src="/b">\n<a href="/a">2</a>'
    assert [(link.url, link.line) for link in extract_html(html).links] == [("/a", 1), ("/b", 2), ("/a", 3)]


def test_line_of_a_multi_line_tag_is_the_line_of_the_attribute() -> None:
    html = '<p>intro</p>\n<a\n  class="nav"\n  href="/deep"\n>text</a>'
    assert only(html).line == 4


def test_srcset_candidates_on_separate_lines_get_their_own_lines() -> None:
    html = '<img\n srcset="a.png 1x,\n         b.png 2x,\n         c.png 3x">'
    assert [link.line for link in extract_html(html).links] == [2, 3, 4]


def test_upper_case_and_unquoted_markup_is_located() -> None:
    html = "<P>\n<A HREF=/upper>x</A>\n<a href=plain>y</a>"
    assert [(link.url, link.line) for link in extract_html(html).links] == [("/upper", 2), ("plain", 3)]


def test_crlf_and_lone_cr_line_endings_both_count_as_line_breaks() -> None:
    assert only('<p>\r\n\r\n<a href="/x">x</a>').line == 3
    assert only('<p>\r\r<a href="/x">x</a>').line == 3


def test_commented_out_links_are_ignored_and_do_not_mislead_line_numbers() -> None:
    html = '<!--\n<a href="/same">old</a>\n-->\n<a href="/same">new</a>'
    link = only(html)
    assert (link.url, link.line, link.text) == ("/same", 4, "new")


def test_markup_inside_scripts_is_ignored_and_does_not_mislead_line_numbers() -> None:
    html = '<script>\nvar s = \'<a href="/same">\';\n</script>\n<a href="/same">real</a>'
    assert [(link.url, link.line) for link in extract_html(html).links] == [("/same", 4)]


def test_template_content_is_not_extracted() -> None:
    assert urls('<template><a href="/later">x</a></template><a href="/now">y</a>') == ["/now"]


def test_style_element_urls_and_imports_carry_document_lines() -> None:
    html = '<html><head>\n<style>\n@import "a.css";\nbody { background: url(b.png) }\n</style>'
    links = extract_html(html).links
    assert [(link.url, link.line, link.element) for link in links] == [
        ("a.css", 3, "css @import"),
        ("b.png", 4, "css url()"),
    ]


def test_style_attribute_urls_are_extracted_on_their_line() -> None:
    html = "<body>\n<div\n  style=\"background: url('/bg.png')\">x</div>"
    link = only(html)
    assert (link.url, link.line, link.element) == ("/bg.png", 3, "css url()")


def test_style_attribute_without_url_adds_nothing() -> None:
    assert urls('<p style="color: red">x</p>') == []


def test_base_href_is_the_first_base_with_an_href() -> None:
    result = extract_html('<base target="_blank"><base href=" /docs/ "><base href="/other/">')
    assert result.base_href == "/docs/"


def test_base_href_is_none_without_base() -> None:
    assert extract_html('<a href="/x">x</a>').base_href is None


def test_base_href_is_not_reported_as_a_link() -> None:
    assert urls('<base href="/docs/">') == []


def test_anchors_are_ids_and_anchor_names_but_not_empty_ids() -> None:
    result = extract_html('<h1 id="top">t</h1><a name="legacy">l</a><p id="">e</p><span name="no">s</span>')
    assert result.anchors == frozenset({"top", "legacy"})


@pytest.mark.parametrize(
    ("meta", "nofollow"),
    [
        ('<meta name="robots" content="nofollow">', True),
        ('<meta name="ROBOTS" content="noindex, NoFollow">', True),
        ('<meta name="robots" content="none">', True),
        ('<meta name="robots" content="noindex">', False),
        ('<meta name="description" content="nofollow">', False),
        ("", False),
    ],
)
def test_robots_nofollow_is_reported(meta: str, nofollow: bool) -> None:
    assert extract_html(f"<head>{meta}</head>").nofollow is nofollow


def test_truncated_html_still_yields_the_links_before_the_cut() -> None:
    html = '<p><a href="/one">1</a>\n<img src="/two">\n<a href="/thr'
    assert urls(html) == ["/one", "/two"]


def test_binary_garbage_decoded_with_replacement_does_not_break_extraction() -> None:
    garbage = bytes(range(256)) * 4 + b'<a href="/after-garbage">x</a>' + bytes(range(255, -1, -1))
    text = garbage.decode("utf-8", errors="replace")
    result = extract_html(text)
    # Each run of the 256 byte values holds one LF and one lone CR: two line breaks.
    assert [(link.url, link.line) for link in result.links] == [("/after-garbage", 9)]
    assert count_lines(text) == 11


def test_empty_document_yields_nothing() -> None:
    result = extract_html("")
    assert (result.links, result.anchors, result.base_href, result.nofollow) == ((), frozenset(), None, False)


def test_style_attribute_with_encoded_newlines_never_reports_a_line_past_the_end() -> None:
    link = only('<p style="&#10;&#10;&#10;background: url(x.png)">x</p>')
    assert (link.url, link.line) == ("x.png", 1)
