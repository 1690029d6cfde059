"""Links that are never requested: too long, a scheme we don't fetch, filtered by --include/--exclude,
a ``file:`` link on a web page, or not a URL at all. Each becomes a result value up front.
"""

from __future__ import annotations

from linkdoctor.classify import codes
from linkdoctor.config import CheckConfig
from linkdoctor.models import Category, CheckResult, ErrorKind
from linkdoctor.urls import scheme_of

FETCHED_SCHEMES = frozenset({"http", "https", "file"})


def _excluded(url: str, error: ErrorKind, code: str, detail: str) -> CheckResult:
    return CheckResult(url, Category.EXCLUDED, error=error, diagnosis=codes.make(code, detail))


def excluded_result(url: str, config: CheckConfig) -> CheckResult | None:
    """An ``excluded`` result when ``url`` must not be requested at all, else ``None``.

    >>> excluded_result("mailto:a@b.example", CheckConfig()).category.value
    'excluded'
    """
    if len(url) > config.max_url_length:
        return _excluded(url, ErrorKind.FILTERED, "url.too-long", f"{len(url)} characters")
    # most links are resolved web URLs, whose scheme is lowercase by then: no pattern needed for them
    scheme = "http" if url.startswith(("https://", "http://")) else scheme_of(url)
    if scheme not in FETCHED_SCHEMES:
        return _excluded(
            url, ErrorKind.UNSUPPORTED_SCHEME, "url.unsupported-scheme", f"{scheme}: links are not checked"
        )
    if config.include and not any(p.search(url) for p in config.include):
        return _excluded(url, ErrorKind.FILTERED, "filter.excluded", "not matched by --include")
    if any(p.search(url) for p in config.exclude):
        return _excluded(url, ErrorKind.FILTERED, "filter.excluded", "matched by --exclude")
    return None


WEB_SCHEMES = frozenset({"http", "https"})


def file_on_web_result(url: str, referrer: str | None) -> CheckResult | None:
    """The ``broken`` result of a ``file:`` link that a web (http or https) page holds, else ``None``.

    Browsers do not follow such a link, and the file it names is on the reader's machine, not on the one
    that runs the check: it is never looked up on disk, so the result is the same whether it exists.

    >>> file_on_web_result("file:///etc/passwd", "https://example.org/").diagnosis.code
    'url.file-on-web'
    >>> file_on_web_result("file:///srv/docs/a.html", "file:///srv/docs/index.html") is None
    True
    """
    # the scheme is "file" only when the URL starts so (any case): most do not, and need no pattern
    if referrer is None or url[:5].lower() != "file:" or scheme_of(referrer) not in WEB_SCHEMES:
        return None
    return CheckResult(
        url,
        Category.BROKEN,
        error=ErrorKind.UNSUPPORTED_SCHEME,
        error_message="browsers do not follow a file: link from a web page",
        diagnosis=codes.make(
            "url.file-on-web", "linked from a web page; never checked on this machine's disk"
        ),
    )


def invalid_result(raw: str, reason: str) -> CheckResult:
    """The ``broken`` result of an href that is not a URL (``url.invalid``)."""
    return CheckResult(
        raw,
        Category.BROKEN,
        error=ErrorKind.INVALID_URL,
        error_message=reason,
        diagnosis=codes.make("url.invalid", reason),
    )
