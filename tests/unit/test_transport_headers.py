"""The aiohttp transport's view of an answer's headers: by lower-case name, and safe to store and show
whatever bytes the server sent (plain headers are taken in one check, the rest header by header)."""

from __future__ import annotations

from multidict import CIMultiDict

from linkdoctor.engine.http.aiohttp_transport import _readable_headers, readable


def test_plain_headers_are_kept_as_sent_under_lower_case_names() -> None:
    raw = CIMultiDict([("Content-Type", "text/html; charset=utf-8"), ("X-Frame-Options", "DENY")])

    assert _readable_headers(raw) == {"content-type": "text/html; charset=utf-8", "x-frame-options": "DENY"}


def test_control_characters_and_bytes_that_are_not_utf8_are_escaped_in_every_header() -> None:
    raw = CIMultiDict(
        [("Server", "nginx"), ("X-Control", "a\x01b"), ("X-Bytes", "caf\udce9"), ("X-T\x7fag", "ok")]
    )

    headers = _readable_headers(raw)

    assert headers == {
        "server": "nginx",
        "x-control": "a\\x01b",
        "x-bytes": "caf\\xe9",
        "x-t\\x7fag": "ok",
    }
    assert headers == {readable(k).lower(): readable(v) for k, v in raw.items()}


def test_a_repeated_header_keeps_its_last_value() -> None:
    raw = CIMultiDict([("Link", "</a>"), ("link", "</b>")])

    assert _readable_headers(raw) == {"link": "</b>"}
