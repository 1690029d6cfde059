"""robots.txt: each site's rules, fetched once when the first of its pages is about to be crawled, and the
sitemaps they name handed to the crawler.

A site whose robots.txt is missing or not ``ok`` allows everything; only the first
:data:`~linkdoctor.engine.traps.ROBOTS_MAX_CHARS` of a huge one are obeyed (see
:func:`~linkdoctor.engine.traps.robots_rules`). Only ``http`` and ``https`` URLs have a robots.txt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from linkdoctor.config import Method
from linkdoctor.engine.fetching import PageSource
from linkdoctor.engine.traps import robots_rules
from linkdoctor.models import Category
from linkdoctor.urls import origin

if TYPE_CHECKING:
    from protego import Protego

# Called with a site (its origin) and a sitemap URL its robots.txt names.
SitemapSink = Callable[[str, str], None]


class RobotsRules:
    """The rules of every site seen, for the product token of ``user_agent`` (``linkdoctor/1.0`` obeys
    the ``linkdoctor`` group). Concurrent questions about one site wait for one fetch."""

    def __init__(self, pages: PageSource, user_agent: str, on_sitemap: SitemapSink) -> None:
        self._pages = pages
        self._agent = user_agent.partition("/")[0]
        self._on_sitemap = on_sitemap
        self._rules: dict[str, Protego | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def allow(self, url: str) -> bool:
        """Whether ``url``'s site lets this user agent fetch it."""
        if not url.startswith(("http:", "https:")):
            return True
        site = origin(url)
        if site not in self._rules:
            async with self._locks.setdefault(site, asyncio.Lock()):
                if site not in self._rules:
                    self._rules[site] = await self._load(site)
        rules = self._rules[site]
        return rules is None or bool(rules.can_fetch(url, self._agent))

    async def _load(self, site: str) -> Protego | None:
        page = await self._pages.page(site + "/robots.txt", want_body=True, method=Method.GET, raw=True)
        if page.result.category is not Category.OK or page.text is None:
            return None
        # Imported on the first robots.txt: a check of local files never reads one.
        from protego import Protego

        rules = Protego.parse(robots_rules(page.text))
        for sitemap in rules.sitemaps:
            self._on_sitemap(site, sitemap)
        return rules
