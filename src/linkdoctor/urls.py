"""URL handling for the pipeline: resolving raw hrefs, normalizing for dedupe, and deciding scope.

All functions are pure. Resolution of a raw href never raises: a malformed value comes back as an
:class:`InvalidURL` value that the engine turns into a result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, urljoin, urlsplit, urlunsplit

from linkdoctor.printable import shown

if TYPE_CHECKING:
    from linkdoctor.patterns import Pattern

_DEFAULT_PORTS = {"http": 80, "https": 443}
_WS = re.compile(r"[\t\n\r]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 and C1 controls and DEL, but tab, CR and LF (which URL parsing drops): percent-encoded, as browsers
# send them; and what a URL parser strips from its start. The line and paragraph separators and the
# bidirectional formatting characters too (a browser percent-encodes them as any non-ASCII character):
# shown raw, they would break a line, or reorder what a report shows.
_INVISIBLE = "\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_INVISIBLE}]")
# What a link that is no URL shows percent-encoded: those, tab, CR, LF, and a lone surrogate.
_NOT_SHOWN = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\ud800-\udfff]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))
_SCHEME_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# scheme://netloc up to the path, query or fragment; a netloc with userinfo, brackets or a zone (or
# whitespace anywhere) is left to urlsplit.
_PLAIN_NETLOC = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#@\[\]%\t\n\r]*)(?:[/?#]|$)")
# Schemes that are links but not fetchable; reported as ``excluded``.
NON_FETCHABLE_SCHEMES = frozenset(
    {"mailto", "tel", "sms", "javascript", "data", "about", "callto", "skype", "geo", "ftp", "irc", "news"}
)


@dataclass(frozen=True, slots=True)
class InvalidURL:
    """A raw href that cannot be resolved into a URL, and why."""

    raw: str
    reason: str


def scheme_of(url: str) -> str:
    """The lowercase scheme of an absolute URL, or "" for relative ones."""
    match = _SCHEME_PREFIX.match(url)
    if match is not None:  # the usual, ASCII scheme
        return match[1].lower()
    head, sep, _ = url.partition(":")
    if not sep or not head or head.isascii() or not head[0].isalpha():
        return ""
    if all(c.isalnum() or c in "+-." for c in head):
        return head.lower()
    return ""


def normalize(url: str) -> str:
    """Normalize an absolute URL for dedupe: lowercase scheme and host, drop the default port and an
    empty fragment, and give an empty http(s) path a ``/``. Raises ``ValueError`` for malformed URLs.

    A byte that was not UTF-8 (kept as a lone surrogate by ``surrogateescape``: a command-line argument,
    a URL list, a file name) is percent-encoded, as a browser sends it; any other lone surrogate is no
    text at all, and malformed. A control character is percent-encoded too, as browsers send it (and an
    escape sequence in a hostile page's link never reaches a terminal from a report).

    >>> normalize("HTTP://Example.ORG:80")
    'http://example.org/'
    >>> normalize("http://e.org/caf" + chr(0xDCE9))
    'http://e.org/caf%E9'
    >>> normalize("http://e.org/a\x1b[2J?q=\x7f#\x9b")
    'http://e.org/a%1B[2J?q=%7F#%C2%9B'
    """
    if not url.isascii() and _SURROGATE.search(url):
        url = _SURROGATE.sub(_escape_surrogate, url)
    url = _encode_controls(url)
    plain = _plain_netloc(url)
    if plain is None or not plain[1]:
        return _normalize_split(url)
    # A plain URL: the netloc is normalized once per run (hosts are few), the rest as urlsplit and
    # urlunsplit would leave it (an empty query or fragment dropped).
    scheme, netloc, end = plain
    if scheme in _DEFAULT_PORTS:
        netloc = _normal_netloc(scheme, netloc)
    before_fragment, _, fragment = url[end:].partition("#")
    path, _, query = before_fragment.partition("?")
    if not path and scheme in _DEFAULT_PORTS:
        path = "/"
    return f"{scheme}://{netloc}{path}{'?' if query else ''}{query}{'#' if fragment else ''}{fragment}"


def _encode_controls(url: str) -> str:
    """``url`` with its control characters percent-encoded, as a browser sends them (those before it
    dropped, as URL parsing drops them)."""
    if url.isprintable() or not _CONTROL.search(url):
        return url
    return _CONTROL.sub(lambda found: quote(found[0], safe=""), url.lstrip(_C0_OR_SPACE))


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xDC80 <= code <= 0xDCFF:  # the byte surrogateescape kept
        return f"%{code - 0xDC00:02X}"
    raise ValueError(f"a lone surrogate U+{code:04X}, not text")


@functools.lru_cache(maxsize=256)
def _normal_netloc(scheme: str, netloc: str) -> str:
    """An http(s) netloc normalized: lowercase host without a trailing dot, no default port."""
    return urlsplit(_normalize_split(f"{scheme}://{netloc}/")).netloc


def _normalize_split(url: str) -> str:
    """:func:`normalize` by way of :func:`urlsplit`, for any URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if scheme in _DEFAULT_PORTS:
        host = parts.hostname
        if not host:
            raise ValueError("no host")
        port = parts.port  # raises ValueError for a bad port
        if "[" in netloc:
            host = f"[{host}]"
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        netloc = (userinfo + "@" if userinfo else "") + host.lower().rstrip(".")
        if port is not None and port != _DEFAULT_PORTS[scheme]:
            netloc += f":{port}"
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def resolve(base: str, raw: str) -> str | InvalidURL:
    """Resolve ``raw`` against ``base`` and normalize it; never raises.

    >>> resolve("http://h/docs/a.html", "b.html")
    'http://h/docs/b.html'
    """
    href = raw.strip()
    if _WS.search(href):
        href = _WS.sub("", href)  # browsers drop tabs and newlines inside URLs
    if not href:
        return InvalidURL(raw, "empty URL")
    try:
        scheme = scheme_of(href)
        if scheme in NON_FETCHABLE_SCHEMES:
            return _encode_controls(href)
        joined = urljoin(base, href) if scheme == "" else href
        return normalize(joined)
    except ValueError as exc:
        return InvalidURL(raw, f"malformed URL ({shown(str(exc))})")


def shown_link(raw: str) -> str:
    r"""``raw``, a link that is no URL, as a report names it: its control, separator and bidirectional
    formatting characters and lone surrogates percent-encoded, as :func:`normalize` encodes a URL's (a
    terminal that shows the report never runs a sequence a hostile page wrote).

    >>> shown_link("http://a:99999/[2J‮")
    'http://a:99999/%1B[2J%E2%80%AE'
    """
    if raw.isprintable():
        return raw
    return _NOT_SHOWN.sub(lambda found: quote(found[0], safe="", errors="surrogatepass"), raw)


# Resolutions a Resolver remembers; past this many it starts over, so memory stays bounded.
RESOLVE_MEMO_LIMIT = 50_000


class Resolver:
    """:func:`resolve`, memoized for one run (or one parser process).

    A reference's resolution depends on less than the whole base URL, so pages share resolutions: an
    absolute URL depends on nothing, a path from the root (``/docs/a.html``) on the base's origin, a
    relative path on the base's directory. A clean ``path#fragment`` resolves as its path plus the
    fragment, so fragments share them too. The page's own references (``#…``, ``?…``, empty ones, and
    any with whitespace or control characters to clean) are resolved each time and not remembered. A
    clean reference is remembered as written, fragment and all, so a page's links are looked up in the
    shared tables of its folder, its origin and all pages without working out their kind first.

    >>> Resolver()("http://h/docs/a.html", "b.html#top")
    'http://h/docs/b.html#top'
    """

    def __init__(self, limit: int = RESOLVE_MEMO_LIMIT) -> None:
        self._limit = limit
        self._size = 0
        self._memo: dict[str, dict[str, str | InvalidURL]] = {}

    def __call__(self, base: str, raw: str) -> str | InvalidURL:
        return self.page(base, (raw,))[0]

    def page(self, base: str, raws: Iterable[str]) -> tuple[str | InvalidURL, ...]:
        """Each of ``raws`` (one page's links) resolved against ``base``."""
        page = _PageScope(base)
        directory = self._table(page.key("directory"))
        at_origin = self._table(page.key("origin"))
        everywhere = self._table(page.key("absolute"))
        out: list[str | InvalidURL] = []
        for raw in raws:
            url = directory.get(raw) or at_origin.get(raw) or everywhere.get(raw)
            out.append(url if url is not None else self._resolve(page, raw))
        return tuple(out)

    def _resolve(self, page: _PageScope, raw: str) -> str | InvalidURL:
        if not _plain(raw):
            return resolve(page.base, raw)
        kind = _reference_kind(raw)
        if kind == "page":  # the page's own: nothing to share, so nothing to remember
            return page.resolve(kind, raw)
        path, _, fragment = raw.partition("#")
        if not fragment or path[-1:].isspace():
            return self._memoized(page, kind, raw)
        resolved = self._memoized(page, kind, path)
        url = f"{resolved}#{fragment}" if isinstance(resolved, str) else resolve(page.base, raw)
        return self._memoized(page, kind, raw, url)

    def _memoized(
        self, page: _PageScope, kind: str, raw: str, known: str | InvalidURL | None = None
    ) -> str | InvalidURL:
        """``raw`` resolved (or ``known``, its resolution) and remembered in ``page``'s ``kind`` table."""
        table = self._table(page.key(kind))
        url = table.get(raw)
        if url is None:
            if self._size >= self._limit:
                self._memo.clear()
                self._size = 0
                table = self._table(page.key(kind))
            url = table[raw] = known if known is not None else page.resolve(kind, raw)
            self._size += 1
        return url

    def _table(self, key: str) -> dict[str, str | InvalidURL]:
        table = self._memo.get(key)
        if table is None:
            table = self._memo[key] = {}
        return table


class _PageScope:
    """One base URL as :class:`Resolver` uses it: its memo keys, and the prefixes that resolve a plain
    reference without :func:`urljoin` (none unless the base is a plain http(s) URL with a path)."""

    __slots__ = ("_keys", "_prefixes", "base")

    def __init__(self, base: str) -> None:
        self.base = base
        self._keys: dict[str, str] = {}
        # What a plain reference is appended to, by kind ("#" and "?" for the page's own references).
        self._prefixes: dict[str, str] = {}
        plain = _plain_netloc(base)
        if plain is not None and plain[0] in _DEFAULT_PORTS and plain[1]:
            start = plain[2]
            without_fragment = base.partition("#")[0]
            without_query = without_fragment.partition("?")[0]
            path = without_query[start:]
            # urljoin removes the base's dot segments, drops empty segments inside a relative
            # reference's path, and drops params (``;``): such bases go the long way.
            if path[:1] == "/" and ";" not in path and "//" not in path and "/." not in path:
                self._prefixes = {
                    "origin": base[:start],
                    "directory": without_query[: start + path.rfind("/") + 1],
                    "#": without_fragment,
                    "?": without_query,
                }

    def key(self, kind: str) -> str:
        key = self._keys.get(kind)
        if key is None:
            key = self._keys[kind] = _scope_key(self.base, kind)
        return key

    def resolve(self, kind: str, raw: str) -> str | InvalidURL:
        """:func:`resolve` of a plain reference of ``kind``, joined to its prefix directly when no dot
        segment, empty segment, param or scheme calls for :func:`urljoin`'s rules."""
        rest = raw
        if kind == "page":
            kind = raw[:1]  # "#" or "?"; an empty query ("?", "?#…") keeps the base's query
            if kind == "?" and raw[1:2] in ("", "#"):
                kind = ""
        elif kind == "directory":
            while rest[:2] == "./":
                rest = rest[2:]
            path = rest.partition("?")[0]
            if path[:1] in (".", "/") or ":" in path.partition("/")[0]:
                kind = ""
        if kind in ("directory", "origin"):
            path = rest.partition("?")[0]
            if "/." in path or "//" in path or ";" in path:
                kind = ""
        prefix = self._prefixes.get(kind)
        if prefix is None:
            return resolve(self.base, raw)
        try:
            return normalize(prefix + rest)
        except ValueError:
            return resolve(self.base, raw)


def _reference_kind(raw: str) -> str:
    """What part of the base URL a clean reference's resolution depends on."""
    head = raw[:1]
    if head in ("", "#", "?", ";"):  # ";" alone is empty params, which keep the base as a whole
        return "page"
    if head == "/":
        if raw[1:2] != "/":
            return "origin"
        # ``//host/…`` keeps the base's scheme only (rare); an empty host keeps more of the base.
        return "page" if raw[2:3] in ("", "/", "?", "#") else "directory"
    if _SCHEME_PREFIX.match(raw):
        return "absolute"
    return "directory"


def _scope_key(base: str, kind: str) -> str:
    if kind == "absolute":
        return "absolute:"
    if kind == "origin":
        return "origin:" + origin(base)
    return "directory:" + _directory_key(base)


def _plain(raw: str) -> bool:
    """Nothing for :func:`resolve` or :func:`urlsplit` to clean: no surrounding whitespace, no tab, newline
    or other control character inside (nor anything else that does not print)."""
    return raw[:1] > " " and raw == raw.strip() and raw.isprintable()


def _directory_key(url: str) -> str:
    """``url`` up to the last ``/`` of its path (query and fragment dropped): what a relative path
    reference is resolved against. A URL without a path resolves against its root."""
    head = url.partition("#")[0].partition("?")[0]
    authority = head.find("://")
    if authority >= 0 and head.find("/", authority + 3) < 0:
        return head
    return head.rpartition("/")[0]


def remap_url(url: str, rules: Sequence[tuple[Pattern, str]]) -> str:
    """Rewrite ``url`` with the first rule whose pattern matches (``re.sub`` once, ``\\1`` templates), then
    normalize it; unchanged when no rule matches.

    >>> remap_url("https://old.example/a", [(re.compile("^https://old.example/(.*)"), r"https://new.example/\\1")])
    'https://new.example/a'
    """
    for pattern, template in rules:
        if pattern.search(url):
            rewritten = pattern.sub(template, url, count=1)
            resolved = resolve(rewritten, rewritten)
            return resolved if isinstance(resolved, str) else rewritten
    return url


def split_fragment(url: str) -> tuple[str, str]:
    """Split ``url`` into (URL without fragment, fragment)."""
    head, _, fragment = url.partition("#")
    return head, fragment


def _plain_netloc(url: str) -> tuple[str, str, int] | None:
    """``(scheme, netloc, where the netloc ends)`` of ``scheme://netloc…`` as :func:`urlsplit` splits it, or
    ``None`` when the URL has anything that :func:`urlsplit` treats specially (userinfo, brackets, zones,
    whitespace, non-ASCII). The checker asks for every request's host, and :func:`urlsplit` costs more
    than the request's own bookkeeping."""
    match = _PLAIN_NETLOC.match(url)
    if match is None or not match[2].isascii() or _WS.search(url, match.end()):
        return None
    return match[1].lower(), match[2], match.end(2)


def split_url(url: str) -> SplitResult:
    """``urlsplit(url)``, for any text: what a report names may be a malformed link as written, which
    ``urlsplit`` refuses (brackets around no IP address); that splits into its scheme and, as its path, the
    rest, with no host.

    >>> split_url("http://[x]/a")
    SplitResult(scheme='http', netloc='', path='//[x]/a', query='', fragment='')
    """
    try:
        return urlsplit(url)
    except ValueError:
        scheme = scheme_of(url)
        return SplitResult(scheme, "", url[len(scheme) + 1 :] if scheme else url, "", "")


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a normalized URL."""
    plain = _plain_netloc(url)
    if plain is not None:
        return f"{plain[0]}://{plain[1]}"
    parts = split_url(url)
    return f"{parts.scheme}://{parts.netloc}"


def host_of(url: str) -> str:
    """The lowercase host of a URL (no brackets around IPv6), or "" when it has none."""
    plain = _plain_netloc(url)
    if plain is not None:
        return plain[1].partition(":")[0].lower()
    return (split_url(url).hostname or "").lower()


def directory_of(url: str) -> str:
    """The URL up to and including the last ``/`` of its path, without query or fragment."""
    parts = urlsplit(url)
    path = parts.path[: parts.path.rfind("/") + 1] or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@dataclass(frozen=True, slots=True)
class Scope:
    """Which URLs are crawled (their links followed), as opposed to only checked.

    By default a URL is in scope when it starts with one of the ``prefixes`` (a start URL's directory);
    any of the extra ``patterns`` widens the scope.
    """

    prefixes: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = ()

    def contains(self, url: str) -> bool:
        return any(url.startswith(p) for p in self.prefixes) or any(p.search(url) for p in self.patterns)

    def with_prefix(self, prefix: str) -> Scope:
        if prefix in self.prefixes:
            return self
        return Scope((*self.prefixes, prefix), self.patterns)
