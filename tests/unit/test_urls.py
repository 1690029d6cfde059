"""URL resolution, normalization and scope."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkdoctor.urls import (
    InvalidURL,
    Resolver,
    Scope,
    _normalize_split,
    directory_of,
    host_of,
    normalize,
    origin,
    resolve,
    scheme_of,
    split_fragment,
)


def test_same_folder_relative_link_resolves_against_the_files_own_folder() -> None:
    assert resolve("http://h/docs/guide/intro.html", "setup.html") == "http://h/docs/guide/setup.html"
    assert resolve("http://h/docs/guide/intro.html", "./setup.html") == "http://h/docs/guide/setup.html"


def test_parent_and_root_relative_links_resolve() -> None:
    assert resolve("http://h/docs/guide/intro.html", "../index.html") == "http://h/docs/index.html"
    assert resolve("http://h/docs/guide/intro.html", "/about") == "http://h/about"


def test_normalize_lowercases_scheme_and_host_and_drops_default_port() -> None:
    assert normalize("HTTPS://Example.ORG:443/A?b=1#c") == "https://example.org/A?b=1#c"
    assert normalize("http://example.org:8080") == "http://example.org:8080/"


def test_invalid_ipv6_is_an_invalid_url_value_not_an_exception() -> None:
    result = resolve("http://h/", "http://[::1/x")
    assert isinstance(result, InvalidURL)
    assert "IPv6" in result.reason


def test_out_of_range_port_is_invalid() -> None:
    assert isinstance(resolve("http://h/", "http://h:99999/"), InvalidURL)


def test_bad_percent_escape_is_kept_for_the_server_to_judge() -> None:
    assert resolve("http://h/", "/a%zz") == "http://h/a%zz"


def test_whitespace_inside_href_is_dropped_like_browsers_do() -> None:
    assert resolve("http://h/", " /a\n/b ") == "http://h/a/b"


def test_non_fetchable_schemes_are_kept_verbatim() -> None:
    assert resolve("http://h/", "mailto:someone@example.org") == "mailto:someone@example.org"


def test_empty_href_is_invalid() -> None:
    assert isinstance(resolve("http://h/", "   "), InvalidURL)


def test_split_fragment() -> None:
    assert split_fragment("http://h/a#b") == ("http://h/a", "b")


def test_directory_of_keeps_the_trailing_slash() -> None:
    assert directory_of("http://h/docs/a.html?x=1") == "http://h/docs/"
    assert directory_of("http://h") == "http://h/"


def test_scope_prefix_and_extra_pattern() -> None:
    scope = Scope(("http://h/docs/",), (re.compile(r"^http://h/blog/"),))
    assert scope.contains("http://h/docs/a")
    assert scope.contains("http://h/blog/x")
    assert not scope.contains("http://h/other")


@given(st.text(max_size=300), st.text(max_size=300))
def test_resolve_never_raises(base: str, raw: str) -> None:
    result = resolve("http://example.org/" + base, raw)
    assert isinstance(result, str | InvalidURL)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=200))
def test_resolved_http_urls_are_stable_under_normalize(raw: str) -> None:
    result = resolve("http://example.org/dir/page.html", raw)
    if isinstance(result, str) and result.startswith("http"):
        assert normalize(result) == result


_BASES = st.sampled_from(
    [
        "http://h/",
        "http://h/docs/a.html",
        "http://h/docs/b.html?x=1",
        "http://h/docs/sub/",
        "https://H:443/docs/a.html#frag",
        "http://h/docs",
        "http://h",
        "http://o",
        "http://h/a//b/c.html",
        "http://h/./",
        "http://h/a/../b/c.html",
        "http://h/docs;p/a.html",
        "http://h/docs/a;p?q#f",
        "http://other:8080/docs/a.html",
        "http://u:p@h/docs/a.html",
        "HTTP://h./docs/a.html",
        "file:///srv/site/docs/a.html",
    ]
)
_REFERENCES = st.one_of(
    st.text(max_size=20),
    st.lists(
        st.sampled_from(
            [
                "",
                "a.html",
                "../",
                "./",
                "/",
                "#",
                "#top",
                "?q=1",
                "//o/",
                " ",
                "\t",
                "x",
                ":",
                "http:",
                "HTTP://",
                "mailto:",
                "é:",
                ".",
                "..",
                "//",
                ";p",
                "sub/",
                "?",
                "@",
                "%",
            ]
        ),
        max_size=5,
    ).map("".join),
)


@given(st.lists(st.tuples(_BASES, _REFERENCES), max_size=30), st.integers(min_value=1, max_value=8))
def test_the_memoized_resolver_equals_resolve(pairs: list[tuple[str, str]], limit: int) -> None:
    resolver = Resolver(limit=limit)  # a small limit makes the memo start over now and then
    for base, raw in pairs + pairs:
        assert resolver(base, raw) == resolve(base, raw)


@given(st.lists(st.tuples(_BASES, st.lists(_REFERENCES, max_size=6)), max_size=12), st.integers(1, 8))
def test_pages_resolved_together_equal_each_link_resolved_alone(
    pages: list[tuple[str, list[str]]], limit: int
) -> None:
    resolver = Resolver(limit=limit)  # pages of several origins and folders share one memo
    for base, raws in pages + pages:
        assert resolver.page(base, raws) == tuple(resolve(base, raw) for raw in raws)


# Pieces that urlsplit treats specially, so the quick path must step aside for them.
_URL_PIECES = st.lists(
    st.sampled_from(
        [
            "http",
            "HTTPS",
            "x+y",
            "1a",
            "://",
            ":",
            "//",
            "/",
            "?",
            "#",
            "@",
            "[",
            "]",
            "::1",
            "%",
            "eth0",
            "\t",
            "\n",
            " ",
            "\x00",
            "Exa",
            "mple.org",
            ":8080",
            "é",
            "ａ",
            ":080",
            ":99999",
            "foo:",
            ".",
            "user:pw",
            "..",
            "a",
        ]
    ),
    max_size=12,
).map("".join)


@given(st.one_of(_URL_PIECES, st.text(max_size=40)))
def test_host_and_origin_agree_with_urlsplit(url: str) -> None:
    try:
        parts = urlsplit(url)
        expected_host = (parts.hostname or "").lower()
    except ValueError:
        return  # the callers only pass URLs that split
    assert host_of(url) == expected_host
    assert origin(url) == f"{parts.scheme}://{parts.netloc}"


def test_host_of_the_usual_urls() -> None:
    assert host_of("https://Example.ORG:8443/a?b#c") == "example.org"
    assert host_of("http://user:pw@Host/") == "host"
    assert host_of("http://[::1]:8080/") == "::1"
    assert host_of("mailto:someone@example.org") == ""
    assert origin("HTTP://Example.org:81/x") == "http://Example.org:81"


def _scheme_by_characters(url: str) -> str:
    head, sep, _ = url.partition(":")
    if sep and head and head[0].isalpha() and all(c.isalnum() or c in "+-." for c in head):
        return head.lower()
    return ""


@given(st.one_of(_URL_PIECES, st.text(max_size=20)))
def test_scheme_of_is_the_head_before_the_first_colon_when_it_is_a_scheme(url: str) -> None:
    assert scheme_of(url) == _scheme_by_characters(url)


# The separators and bidirectional formatting characters a URL shows percent-encoded.
INVISIBLE = frozenset("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@given(st.one_of(_URL_PIECES, st.text(max_size=30), _URL_PIECES.map(lambda rest: "http://Ex.org:80" + rest)))
def test_normalize_equals_normalizing_by_urlsplit(url: str) -> None:
    """As :func:`urlsplit` and :func:`urlunsplit` give it, but with control characters (tab, CR and LF
    aside, which they drop), separators and bidirectional formatting characters percent-encoded, as
    browsers send them."""

    def encoded(c: str) -> bool:
        return (ord(c) < 0x20 and c not in "\t\r\n") or 0x7F <= ord(c) <= 0x9F or c in INVISIBLE

    if any(encoded(c) for c in url):
        url = "".join(
            quote(c, safe="") if encoded(c) else c for c in url.lstrip("".join(map(chr, range(0x21))))
        )
    try:
        expected: str | type[ValueError] = _normalize_split(url)
    except ValueError:
        expected = ValueError
    try:
        found: str | type[ValueError] = normalize(url)
    except ValueError:
        found = ValueError
    assert found == expected


@pytest.mark.parametrize(
    ("first", "second", "raw"),
    [
        ("http://h", "http://o", "a.html"),  # no path: each resolves against its own root
        ("http://h/docs/a.html", "http://h/docs/b.html?x=1", "//"),  # an empty host keeps the page
        ("http://h/docs/a.html", "http://h/docs/b.html?x=1", "\x1b"),  # urlsplit strips it: the page
        ("http://h/docs/a.html", "http://h/docs/b.html?x=1", "\x1b#top"),
        ("http://h/docs/a.html", "http://h/docs/b.html?x=1", ";"),  # empty params keep the page
    ],
)
def test_references_that_depend_on_the_page_are_not_shared_by_its_folder(
    first: str, second: str, raw: str
) -> None:
    resolver = Resolver()
    assert resolver(first, raw) == resolve(first, raw)
    assert resolver(second, raw) == resolve(second, raw)


def test_plain_paths_join_their_folder_without_urljoin_and_agree_with_it() -> None:
    resolver = Resolver()
    base = "HTTP://H:80/docs/a.html?q=1"
    raws = [
        "b.html",
        "./b.html",
        "sub/c.html?x=/./",
        "/r.html",
        "../up.html",
        "a//b",
        "/a/./b",
        "x;p",
        "é.html",
    ]
    raws += ["#top", "?", "?y=2", "?#f", "?y#f", "a:b", "À:"]
    assert resolver.page(base, raws) == tuple(resolve(base, raw) for raw in raws)
    assert resolver.page(base, ["b.html#top"]) == ("http://h/docs/b.html#top",)


def test_a_byte_that_is_not_utf8_is_percent_encoded_and_any_other_lone_surrogate_is_malformed() -> None:
    kept = "caf" + chr(0xDCE9)  # b"caf\xe9" decoded with surrogateescape (argv, a URL list, a file name)
    assert normalize(f"http://e.org/{kept}?q={kept}#{kept}") == "http://e.org/caf%E9?q=caf%E9#caf%E9"
    assert resolve("http://e.org/", kept) == "http://e.org/caf%E9"
    invalid = resolve("http://e.org/", "a" + chr(0xD800))
    assert isinstance(invalid, InvalidURL) and "lone surrogate U+D800" in invalid.reason


def test_the_module_examples_hold() -> None:
    import doctest

    import linkdoctor.urls

    result = doctest.testmod(linkdoctor.urls)
    assert result.attempted > 0 and result.failed == 0
