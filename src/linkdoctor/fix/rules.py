"""The rules that decide, from one check result alone, whether a redirected link may be rewritten: permanent
redirects (301, 308) to an ``ok`` target with the chain collapsed, never a temporary one (302, 303, 307), never
a "soft" move to a login page, a home page or another host's root; which results are http → https upgrades
(proven later by a probe, :mod:`linkdoctor.fix.probe`); which are dead external links worth an archived copy;
and the host allow and deny lists. Pure functions of :class:`~linkdoctor.models.CheckResult` values.

>>> from linkdoctor.models import Category, CheckResult, Redirect
>>> r = CheckResult("https://a.example/old", Category.REDIRECTED, 200, final_url="https://a.example/new",
...                 redirects=(Redirect("https://a.example/old", 301),))
>>> judge_redirect(r, FixSettings()).new_url
'https://a.example/new'
"""

from __future__ import annotations

import fnmatch
import re
from typing import Final
from urllib.parse import parse_qsl

from linkdoctor.fix.model import FixKind, FixSettings, Proposal, Skipped
from linkdoctor.models import Category, CheckResult, ErrorKind
from linkdoctor.urls import host_of, split_fragment, split_url

PERMANENT: Final = frozenset({301, 308})
TEMPORARY: Final = frozenset({302, 303, 307})
DEAD_STATUSES: Final = frozenset({404, 410})
_LOGIN_SEGMENT: Final = re.compile(
    r"^(log-?in|log_in|sign-?in|sign_in|signon|logon|auth|authenticate|authorize|sso|oauth2?|saml|cas|"
    r"login\.\w+|signin\.\w+)$",
    re.IGNORECASE,
)
_RETURN_KEYS: Final = frozenset(
    {"next", "return", "return_to", "returnto", "returnurl", "return_url", "redirect", "redirect_to",
     "redirect_uri", "redirect_url", "continue", "came_from", "service", "goto", "destination"}
)  # fmt: skip


def host_blocked(url: str, settings: FixSettings) -> str | None:
    """Why links to ``url``'s host may not be rewritten (None: they may). Local ``file:`` URLs have no host
    and are never blocked.

    >>> host_blocked("https://docs.example.org/a", FixSettings(deny_hosts=("*.example.org",)))
    'the host docs.example.org is on the deny list (*.example.org)'
    """
    host = host_of(url)
    if not host:
        return None
    for pattern in settings.deny_hosts:
        if _host_matches(host, pattern):
            return f"the host {host} is on the deny list ({pattern})"
    if settings.allow_hosts and not any(_host_matches(host, p) for p in settings.allow_hosts):
        return f"the host {host} is not on the allow list"
    return None


def _host_matches(host: str, pattern: str) -> bool:
    pattern = pattern.strip().lower()
    if pattern.startswith("*."):
        return host == pattern[2:] or fnmatch.fnmatchcase(host, pattern)
    return fnmatch.fnmatchcase(host, pattern)


def is_https_upgrade(url: str, target: str) -> bool:
    """Whether ``target`` is ``url`` with ``https`` for ``http`` (the port may change, nothing else).

    >>> is_https_upgrade("http://a.example/x?q=1", "https://a.example/x?q=1")
    True
    """
    old, new = split_url(split_fragment(url)[0]), split_url(split_fragment(target)[0])
    return (
        old.scheme == "http"
        and new.scheme == "https"
        and (old.hostname or "") == (new.hostname or "")
        and (old.path or "/") == (new.path or "/")
        and old.query == new.query
    )


def with_fragment(url: str, new: str) -> str:
    """``new`` with ``url``'s fragment, unless ``new`` has one of its own."""
    fragment = split_fragment(url)[1]
    if not fragment or "#" in new:
        return new
    return f"{new}#{fragment}"


def soft_move(url: str, final: str) -> str | None:
    """Why a redirect from ``url`` to ``final`` looks like a hidden dead page rather than a move (None: it
    does not): a login page, the site's home page, or another host's root.

    >>> soft_move("https://a.example/docs/x", "https://a.example/")
    'it redirects to the home page (https://a.example/), which hides a dead page'
    >>> soft_move("https://a.example/docs/x", "https://id.example/login?next=/docs/x")
    'it redirects to a login page (https://id.example/login?next=/docs/x)'
    """
    old, new = split_url(split_fragment(url)[0]), split_url(split_fragment(final)[0])
    segments = [s for s in new.path.split("/") if s]
    if any(_LOGIN_SEGMENT.match(s) for s in segments) or any(
        key.lower() in _RETURN_KEYS and value.startswith(("/", "http")) for key, value in parse_qsl(new.query)
    ):
        return f"it redirects to a login page ({final})"
    old_root = old.path in ("", "/") and not old.query
    if not segments and not new.query and not old_root:
        if (old.hostname or "") != (new.hostname or ""):
            return f"it redirects to another host's root ({final}), which hides a dead page"
        return f"it redirects to the home page ({final}), which hides a dead page"
    return None


def judge_redirect(result: CheckResult, settings: FixSettings) -> Proposal | Skipped | None:
    """The rewrite of a redirected link, or why there is none (None: the result is not a redirect, or an
    http → https upgrade for :func:`https_candidate`)."""
    if not result.redirects or not result.final_url:
        return None
    final = result.final_url
    statuses = [hop.status for hop in result.redirects]
    chain = " → ".join(f"{hop.status}" for hop in result.redirects)
    if len(result.redirects) == 1 and is_https_upgrade(result.url, final):
        return None  # an upgrade: proven by a probe (https_candidate)
    if any(status in TEMPORARY for status in statuses):
        temporary = next(s for s in statuses if s in TEMPORARY)
        return Skipped(
            result.url, f"a temporary redirect ({temporary}) is not a move; kept", FixKind.REDIRECT
        )
    if not all(status in PERMANENT for status in statuses):
        odd = next(s for s in statuses if s not in PERMANENT)
        return Skipped(result.url, f"{odd} is not a permanent redirect; kept", FixKind.REDIRECT)
    if result.category is not Category.REDIRECTED:
        what = result.status if result.status is not None else (result.error or result.category)
        return Skipped(result.url, f"the redirect's target {final} is not ok ({what})", FixKind.REDIRECT)
    if (why := soft_move(result.url, final)) is not None:
        return Skipped(result.url, why, FixKind.REDIRECT)
    if not settings.redirects:
        return Skipped(
            result.url, "permanent redirects are switched off (redirects = false)", FixKind.REDIRECT
        )
    for url in (result.url, final):
        if (blocked := host_blocked(url, settings)) is not None:
            return Skipped(result.url, blocked, FixKind.REDIRECT)
    hops = "redirect" if len(statuses) == 1 else f"redirect chain of {len(statuses)} hops"
    return Proposal(
        result.url,
        with_fragment(result.url, final),
        FixKind.REDIRECT,
        f"permanent {hops} ({chain}) to {final}",
    )


def https_candidate(result: CheckResult) -> str | None:
    """The https URL an http link redirects to when that is its only hop (the probe then proves it)."""
    if len(result.redirects) == 1 and result.final_url and is_https_upgrade(result.url, result.final_url):
        return result.final_url
    return None


# A missing #fragment: over HTTP, and in a file checked on disk.
_ANCHOR_MISSING = ("http.fragment-missing", "file.anchor-missing")


def is_dead_external(result: CheckResult) -> bool:
    """A broken http(s) link that is gone for good (404, 410, or its host's name does not resolve)."""
    if result.category is not Category.BROKEN or split_url(result.url).scheme not in ("http", "https"):
        return False
    if result.diagnosis is not None and result.diagnosis.code in _ANCHOR_MISSING:
        return False
    return result.error is ErrorKind.DNS or (result.error is None and result.status in DEAD_STATUSES)


def is_missing_anchor(result: CheckResult) -> bool:
    return result.diagnosis is not None and result.diagnosis.code in _ANCHOR_MISSING


def is_missing_file(result: CheckResult) -> bool:
    return result.category is Category.BROKEN and result.error is ErrorKind.FILE_MISSING
