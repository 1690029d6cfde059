"""A link's verdict and its result, read from the state: what its resource's check said, and, for a
``#fragment`` link, whether the fetched page has that anchor.

A link is one unique URL as found (fragment and all); its resource is the document fetched once for all
the links to it. The crawler asks for a link's category while it crawls (progress, which referrers to
keep) and for its :class:`CheckResult` when a report reads it, so nothing here is kept: each answer is
computed from the state when asked.

>>> # verdicts = Verdicts(state, check_fragments=True, on_disk=lambda url: False)
>>> # verdicts.category(link), verdicts.result(link)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from linkdoctor.engine.documents import fragment_found
from linkdoctor.engine.local import missing_anchor
from linkdoctor.engine.state import CrawlState, LinkEntry, ResourceEntry
from linkdoctor.models import Alike, Category, CheckResult, Referrer


@dataclass(frozen=True, slots=True)
class Verdicts:
    """The verdicts of ``state``'s links. ``check_fragments``: whether a missing anchor breaks a link;
    ``on_disk``: whether a URL is a file of a checked folder (its missing anchor is worded for a file)."""

    state: CrawlState
    check_fragments: bool
    on_disk: Callable[[str], bool]

    def category(self, link: LinkEntry) -> Category:
        """``link``'s category: its preset's, else its resource's, unless it names a missing anchor (read
        without building the resource's result: the crawler asks this once per link)."""
        if link.preset is not None:
            return link.preset.category
        resource = link.resource
        assert resource is not None
        category = resource.category
        assert category is not None
        if link.fragment and self._missing(link.fragment, resource, category):
            return Category.BROKEN
        return category

    def fragment_missing(self, link: LinkEntry) -> bool:
        """Whether ``link`` is a ``#fragment`` link whose fetched page lacks that anchor."""
        resource = link.resource
        if not link.fragment or resource is None:
            return False
        result = resource.result
        return result is not None and self.anchor_missing(link, resource, result)

    def anchor_missing(self, link: LinkEntry, resource: ResourceEntry, result: CheckResult) -> bool:
        """``link``'s #fragment names no anchor of its fetched page (``result`` is the page's)."""
        return bool(link.fragment) and self._missing(link.fragment, resource, result.category)

    def _missing(self, fragment: str, resource: ResourceEntry, category: Category) -> bool:
        anchors = resource.anchors
        return (
            self.check_fragments
            and category in (Category.OK, Category.REDIRECTED)
            and anchors is not None
            and fragment not in anchors  # most fragments name an id: no call for them
            and not fragment_found(fragment, anchors)
        )

    def located(self, link: LinkEntry) -> tuple[str, Sequence[Referrer]]:
        """A link's URL and referrers: its result's, without building it."""
        return link.url, self.state.referrers(link)

    def result(self, link: LinkEntry) -> CheckResult:
        """``link``'s result, with its referrers (or, for an ok link, their count)."""
        referrers, count = self.state.referrers_and_count(link)
        counted = None if count == len(referrers) else count  # only counted: an ok link
        if link.preset is not None:
            return link.preset.for_link(link.preset.url, referrers, counted)
        resource = link.resource
        assert resource is not None
        category = resource.category
        assert category is not None
        if link.fragment and self._missing(link.fragment, resource, category):
            base = resource.result
            assert base is not None
            diagnosis = missing_anchor(link.fragment, on_disk=self.on_disk(link.url))
            return CheckResult(
                link.url, Category.BROKEN, base.status, base.reason, base.precise_status, base.final_url,
                base.redirects, base.elapsed_ms, base.error, base.error_message, diagnosis, referrers,
                base.findings, counted,
            )  # fmt: skip
        result = resource.result_for(link.url, referrers, counted)
        assert result is not None
        return result

    def alike(self, links: Sequence[LinkEntry]) -> Alike | None:
        """``links`` (to one document) as :data:`~linkdoctor.models.Alike`: its resource's result and each
        link's URL and referrers, when none has a preset verdict or names a missing anchor; else None."""
        resource = links[0].resource
        if resource is None:
            return None
        category = resource.category
        if category is None:
            return None
        for link in links:
            if (
                link.preset is not None
                or link.resource is not resource
                or (link.fragment and self._missing(link.fragment, resource, category))
            ):
                return None
        result = resource.result
        assert result is not None
        alike = []
        for link in links:
            referrers, count = self.state.referrers_and_count(link)
            alike.append((link.url, referrers, None if count == len(referrers) else count))
        return result, alike
