"""The attribute micro-syntaxes: ``srcset`` candidates and ``<meta http-equiv=refresh>`` content."""

from __future__ import annotations

import pytest

from linkdoctor.extract.values import refresh_url, srcset_urls


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        ("a.png", ["a.png"]),
        ("a.png 1x, b.png 2x", ["a.png", "b.png"]),
        ("a.png 480w,b.png 800w", ["a.png", "b.png"]),
        ("a,b.png 1x, c.png 2x", ["a,b.png", "c.png"]),
        ("a.png, b.png", ["a.png", "b.png"]),
        ("a.png,, ,b.png", ["a.png", "b.png"]),
        ("  \n a.png \t 1x ,\n b.png  ", ["a.png", "b.png"]),
        ("a.png (bad, descriptor) 1x, b.png", ["a.png", "b.png"]),
        ("a.png 1x, (unclosed, b.png", ["a.png", "(unclosed", "b.png"]),
        ("a.png (unclosed, b.png", ["a.png"]),
        ("", []),
        (" , , ", []),
    ],
)
def test_srcset_candidates_follow_the_html_parsing_rules(srcset: str, expected: list[str]) -> None:
    assert srcset_urls(srcset) == expected


def test_srcset_parsing_is_linear_on_hostile_input() -> None:
    hostile = "a " + "(" * 50_000 + ", b" + " ," * 50_000
    assert srcset_urls(hostile) == ["a"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("5; url=/next", "/next"),
        ("5;URL='/next'", "/next"),
        ('0; url="/quoted with space"', "/quoted with space"),
        ("0,/comma", "/comma"),
        ("3 /space-separated", "/space-separated"),
        ("1.5; url = /spaced-equals ", "/spaced-equals"),
        ("0; urlish.html", "urlish.html"),
        ("0; url='/unterminated", "/unterminated"),
        ("5", None),
        ("5;", None),
        ("url=/no-delay", None),
        ("soon; url=/x", None),
        ("", None),
    ],
)
def test_refresh_content_yields_its_url(content: str, expected: str | None) -> None:
    assert refresh_url(content) == expected
