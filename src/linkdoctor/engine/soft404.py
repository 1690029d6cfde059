"""Soft 404s: pages that answer ``200 OK`` but are the site's "not found" page.

Many sites (CMSs, static hosts with a catch-all, SPAs) answer a missing URL with their error template and
status 200, so a link to a deleted page looks fine to every checker that reads only the status. This
module finds them, cheaply:

* **One probe per host.** The first time a page of a host is fetched as HTML with a ``2xx`` status, the
  host gets one request for a random path that cannot exist (``/linkdoctor-probe-<random>``), through the
  same checker (politeness, retries, TLS), after robots.txt allows it and the URL budget takes it. A host
  whose probe answers 404/410 (or anything but ``2xx`` HTML) is done: no page of it is ever compared.
* **Only pages already fetched are compared.** When the probe answered 200, each page of that host that
  the crawl fetched anyway (its body is in hand) is compared with the probe's fingerprint: its title, its
  size, its text (word 3-shingles, Jaccard similarity) and "not found" phrases in common languages. No
  page is fetched for the comparison.

The false-positive guard. A page is ``http.soft-404`` only when all of these hold:

1. it is not the site's root, and it was not redirected to the root (``/old → /`` is a redirect, not
   a missing page);
2. the host's probe did not land on the root's content: a host that serves its home page for every path
   (an SPA shell, a catch-all redirect to ``/``) is never judged, since every page looks alike there;
3. either it was redirected to the very URL the probe was redirected to (both ended on ``/404.html``
   answering 200) and that page says "not found" (a login page everything is sent to does not), or its title is the probe's title (not empty) and its text is at least
   :data:`MIN_SIMILARITY` similar and its size within :data:`MIN_SIZE_RATIO` of the probe's; a page without
   a title needs a "not found" phrase on both pages and :data:`MIN_SIMILARITY_UNTITLED`;
4. when the probe's title is the site root's too (one title for the whole site), the page must also
   say "not found" in one of the languages of :data:`NOT_FOUND_PHRASES`.

The verdict carries its evidence (title, similarity, sizes, the phrase, the probe's URL), so a reader
can check it. The crawler calls :meth:`Soft404Detector.review` for each fetched page::

    detector = Soft404Detector(fetch=..., allowed=..., admit=...)
    page = await detector.review(resource.url, page)   # the same page, or one judged http.soft-404
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlsplit

from linkdoctor.classify import codes
from linkdoctor.config import CheckConfig, Method
from linkdoctor.engine.fetching import BodySample, Page, PageSource
from linkdoctor.engine.traps import TrapGuard
from linkdoctor.models import Category, Diagnosis
from linkdoctor.urls import origin

PROBE_PREFIX: Final = "/linkdoctor-probe-"
MIN_SIMILARITY: Final = 0.85
MIN_SIMILARITY_UNTITLED: Final = 0.92
MIN_SIZE_RATIO: Final = 0.7
# Words compared per page: a template's differences show early, and a long page costs no more.
_MAX_WORDS: Final = 3000
# Lower-case phrases of "not found" pages in common languages (evidence, and the untitled pages' guard).
NOT_FOUND_PHRASES: Final = (
    "page not found",
    "not found",
    "error 404",
    "404 error",
    "does not exist",
    "doesn't exist",
    "no longer available",
    "could not be found",
    "page introuvable",
    "n'existe pas",
    "seite nicht gefunden",
    "nicht gefunden",
    "página no encontrada",
    "no encontrada",
    "pagina non trovata",
    "non trovata",
    "pagina niet gevonden",
    "página não encontrada",
    "strona nie została znaleziona",
    "nie znaleziono",
    "страница не найдена",
    "не найдена",
    "ページが見つかりません",
    "页面未找到",
    "找不到",
    "페이지를 찾을 수 없습니다",
)
# A page that answered 2xx HTML, directly or after redirects (a missing page sent on to /404.html).
_ANSWERED: Final = frozenset({Category.OK, Category.REDIRECTED})
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a page looks like, for comparing it with a host's not-found page."""

    title: str
    size: int
    shingles: frozenset[int]
    phrase: str | None


@dataclass(frozen=True, slots=True)
class HostProbe:
    """What a host answered for a path that cannot exist; ``fingerprint`` is None unless it was 200 HTML
    (then its pages are compared), ``landing`` the URL the probe ended on."""

    url: str
    status: int | None
    landing: str
    fingerprint: Fingerprint | None
    catch_all: bool = False


def fingerprint(sample: BodySample) -> Fingerprint:
    """The fingerprint of a page's body (its first bytes, as :class:`~linkdoctor.engine.fetching.Page`
    keeps them).

    >>> fingerprint(BodySample(b"<title>Oops</title><p>Page not found</p>", 41, "utf-8")).title
    'oops'
    """
    text = sample.head.decode(sample.charset, errors="replace")
    found = _TITLE.search(text)
    title = _normal(html.unescape(found.group(1))) if found else ""
    visible = _normal(html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text))))
    words = _WORD.findall(visible)[:_MAX_WORDS]
    shingles = frozenset(hash(tuple(words[i : i + 3])) for i in range(max(1, len(words) - 2)))
    haystack = f"{title} {visible}"
    phrase = next((p for p in NOT_FOUND_PHRASES if p in haystack), None)
    return Fingerprint(title, sample.size, shingles, phrase)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """The Jaccard similarity of two pages' word 3-shingles (1.0: the same text)."""
    if not a.shingles or not b.shingles:
        return 0.0
    return len(a.shingles & b.shingles) / len(a.shingles | b.shingles)


def looks_alike(page: Fingerprint, probe: Fingerprint) -> bool:
    """The content half of the guard (see the module docstring, point 3)."""
    small, large = sorted((page.size, probe.size))
    if large and small / large < MIN_SIZE_RATIO:
        return False
    if page.title and page.title == probe.title:
        return similarity(page, probe) >= MIN_SIMILARITY
    if not page.title and not probe.title and page.phrase and probe.phrase:
        return similarity(page, probe) >= MIN_SIMILARITY_UNTITLED
    return False


def _random_token() -> str:
    """The random part of a probe's path: 24 hex digits no site has a page for."""
    # Imported on the first probe: secrets (and hmac under it) costs start-up time a local check never needs.
    import secrets

    return secrets.token_hex(12)


class Soft404Detector:
    """Probes each host once and judges the pages fetched for it (see the module docstring).

    ``fetch`` gets a page through the crawl's page source; ``allowed`` asks robots.txt (None: not
    asked); ``admit`` takes the probe's URL into the URL budget (False: no probe, counted as left out).
    ``probes``, ``comparisons`` and ``found`` count what it did.
    """

    def __init__(
        self,
        *,
        fetch: Callable[[str], Awaitable[Page]],
        allowed: Callable[[str], Awaitable[bool]] | None = None,
        admit: Callable[[str], bool] = lambda _url: True,
        token: Callable[[], str] = _random_token,
    ) -> None:
        self._fetch = fetch
        self._allowed = allowed
        self._admit = admit
        self._token = token
        self._probes: dict[str, asyncio.Future[HostProbe | None]] = {}
        self._roots: dict[str, Fingerprint] = {}
        self.probes = 0
        self.comparisons = 0
        self.found = 0

    async def review(self, url: str, page: Page) -> Page:
        """``page`` (fetched for ``url``), judged ``http.soft-404`` when it is the host's not-found page."""
        sample = page.sample
        result = page.result
        if sample is None or result.category not in _ANSWERED or not url.startswith(("http:", "https:")):
            return page
        site = origin(url)
        final = result.final_url or url
        root = url in (site, site + "/") or (final != url and _is_root(final))  # url: no fragment
        if root:
            self._roots.setdefault(site, fingerprint(sample))
        probe = await self._probe(site)
        if probe is None or probe.fingerprint is None or probe.catch_all or probe.url == url:
            return page
        if root or self._lands_on_root(site, probe):
            return page
        self.comparisons += 1
        seen = fingerprint(sample)
        if result.redirects and final == probe.landing and probe.landing != probe.url:
            # Sent where the probe was sent: a missing page only if that page says "not found" (a login
            # page that every protected path is sent to does not).
            if probe.fingerprint.phrase is None:
                return page
        elif not self._alike(site, seen, probe.fingerprint):
            return page
        self.found += 1
        judged = replace(result, category=Category.BROKEN, diagnosis=_diagnosis(seen, probe, final))
        # Like an error page, a not-found page is not crawled for links.
        return replace(page, result=judged, extraction=None, resolved=None)

    def _alike(self, site: str, seen: Fingerprint, probe: Fingerprint) -> bool:
        if not looks_alike(seen, probe):
            return False
        root = self._roots.get(site)
        if root is not None and root.title == probe.title:  # a site-wide title tells nothing: ask more
            return seen.phrase is not None
        return True

    def _lands_on_root(self, site: str, probe: HostProbe) -> bool:
        root = self._roots.get(site)
        return probe.fingerprint is not None and root is not None and looks_alike(root, probe.fingerprint)

    async def _probe(self, site: str) -> HostProbe | None:
        pending = self._probes.get(site)
        if pending is not None and pending.done():  # every page after the host's first: no wait to set up
            return pending.result()
        if pending is None:
            pending = asyncio.ensure_future(self._send_probe(site))
            self._probes[site] = pending
        return await asyncio.shield(pending)

    async def _send_probe(self, site: str) -> HostProbe | None:
        url = f"{site}{PROBE_PREFIX}{self._token()}"
        if self._allowed is not None and not await self._allowed(url):
            return None
        if not self._admit(url):
            return None
        self.probes += 1
        page = await self._fetch(url)
        result = page.result
        landing = result.final_url or url
        if result.category not in _ANSWERED or page.sample is None:
            return HostProbe(url, result.status, landing, None)  # a real 404: nothing to compare with
        catch_all = _is_root(landing)  # redirected to the home page: every missing path looks like it
        return HostProbe(url, result.status, landing, fingerprint(page.sample), catch_all)


def detector_for(
    config: CheckConfig, pages: PageSource, robots: Callable[[str], Awaitable[bool]], traps: TrapGuard
) -> Soft404Detector | None:
    """The crawl's detector (None with ``--no-soft-404``): probes go through ``pages``, ask ``robots``
    unless robots.txt is ignored, and are taken into the URL budget by ``traps`` like any new URL."""
    if not config.soft_404:
        return None

    async def fetch(url: str) -> Page:
        return await pages.page(url, want_body=True, method=Method.GET)

    def admit(url: str) -> bool:
        return traps.admit(url, depth=0, crawl=False)

    return Soft404Detector(fetch=fetch, allowed=robots if config.respect_robots else None, admit=admit)


def _diagnosis(seen: Fingerprint, probe: HostProbe, final: str) -> Diagnosis:
    assert probe.fingerprint is not None
    evidence = [f"answers {probe.status or 200} with this site's not-found page"]
    if seen.title:
        evidence.append(f"title {seen.title!r} as on {probe.url} (a path that cannot exist)")
    else:
        evidence.append(f"like {probe.url} (a path that cannot exist)")
    evidence.append(f"{similarity(seen, probe.fingerprint):.0%} similar text")
    evidence.append(f"{seen.size:,} vs {probe.fingerprint.size:,} bytes")
    if final == probe.landing and final != probe.url:
        evidence.append(f"both end on {final}")
    if seen.phrase:
        evidence.append(f"it says {seen.phrase!r}")
    return codes.make("http.soft-404", "; ".join(evidence))


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()
