"""Parsers for attribute values that hold URLs in a micro-syntax: ``srcset`` and ``<meta http-equiv=refresh>``.

Both follow the HTML Standard's parsing steps closely enough that what a browser would fetch is what we
return, using string methods only (no regular expressions, so no pathological backtracking).
"""

from __future__ import annotations

from linkdoctor.printable import shown

ASCII_WHITESPACE = " \t\n\r\f"
_TO_SPACE = str.maketrans("\t\n\r\f", "    ")


def strip_ascii_whitespace(value: str) -> str:
    """Strip what the HTML Standard calls ASCII whitespace (not every Unicode space) from both ends."""
    return value.strip(ASCII_WHITESPACE)


def is_data_uri(url: str) -> bool:
    """Tell whether ``url`` is a ``data:`` URI, which carries its content inline and is never checked."""
    return url[:1] in ("d", "D") and url[:5].lower() == "data:"


def collapse_whitespace(text: str, limit: int = 100) -> str:
    """Collapse runs of whitespace to single spaces, strip the ends, and cut to ``limit`` characters; a
    control character left is shown as ``\\xNN`` (a page's link text never drives a terminal from a
    report)."""
    return shown(" ".join(text.split())[:limit])


def srcset_urls(value: str) -> list[str]:
    """Return the candidate URLs of a ``srcset`` value in order.

    A URL runs up to the next whitespace, so it may contain commas unless they trail it; descriptors run
    up to a comma outside parentheses.

    >>> srcset_urls("a.png 1x, b,c.png 2x,d.png")
    ['a.png', 'b,c.png', 'd.png']
    """
    urls: list[str] = []
    in_descriptors = False
    in_parens = False
    for word in value.translate(_TO_SPACE).split(" "):
        token = word
        while token:
            if not in_descriptors:
                token = token.lstrip(",")
                if not token:
                    break
                if token.endswith(","):
                    # Trailing commas end the candidate: it has no descriptors.
                    urls.append(token.rstrip(","))
                else:
                    urls.append(token)
                    in_descriptors = True
                    in_parens = False
                break
            token, in_descriptors, in_parens = _skip_descriptors(token, in_parens)
    return urls


def _skip_descriptors(token: str, in_parens: bool) -> tuple[str, bool, bool]:
    """Consume descriptor text in ``token``; return what follows a candidate-ending comma, if any."""
    if not in_parens and "(" not in token:
        comma = token.find(",")
        if comma < 0:
            return "", True, False
        return token[comma + 1 :], False, False
    for index, char in enumerate(token):
        if in_parens:
            if char == ")":
                in_parens = False
        elif char == "(":
            in_parens = True
        elif char == ",":
            return token[index + 1 :], False, False
    return "", True, in_parens


def refresh_url(content: str) -> str | None:
    """Return the URL of a ``<meta http-equiv="refresh" content="…">`` value, or None when it has none.

    >>> refresh_url("5; URL='/next'")
    '/next'
    >>> refresh_url("0")
    """
    length = len(content)
    pos = _skip(content, 0, ASCII_WHITESPACE)
    digits_end = _skip(content, pos, "0123456789")
    if digits_end == pos and not content.startswith(".", pos):
        return None
    pos = _skip(content, digits_end, "0123456789.")
    if pos >= length:
        return None
    if content[pos] not in ";," + ASCII_WHITESPACE:
        return None
    pos = _skip(content, pos, ASCII_WHITESPACE)
    if pos < length and content[pos] in ";,":
        pos += 1
    pos = _skip(content, pos, ASCII_WHITESPACE)
    if content[pos : pos + 3].lower() == "url":
        after = _skip(content, pos + 3, ASCII_WHITESPACE)
        if after < length and content[after] == "=":
            pos = _skip(content, after + 1, ASCII_WHITESPACE)
    quote = content[pos : pos + 1]
    if quote in ("'", '"'):
        pos += 1
        end = content.find(quote, pos)
        url = content[pos:] if end < 0 else content[pos:end]
    else:
        url = content[pos:]
    url = strip_ascii_whitespace(url)
    return url or None


def _skip(text: str, pos: int, chars: str) -> int:
    """Advance ``pos`` over any of ``chars``."""
    length = len(text)
    while pos < length and text[pos] in chars:
        pos += 1
    return pos
