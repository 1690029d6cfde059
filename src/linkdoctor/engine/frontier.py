"""A crawl's saved state, so that a run stopped by ``CheckConfig.max_checks`` can resume later without
starting over: the resources already checked (with their results and anchors), the ones still pending,
and every link with its referrers (an ``ok`` link with only their count). It converts to and from plain JSON for storage, its results through
:mod:`linkdoctor.codec`.

>>> Frontier.from_json(Frontier().to_json()) == Frontier()
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linkdoctor.codec import referrers_from_json, referrers_to_json, result_from_json, result_to_json
from linkdoctor.models import CheckResult, Referrer

FRONTIER_VERSION = 1


@dataclass(frozen=True, slots=True)
class FrontierResource:
    """One unique URL (without fragment): checked (``result`` set, not ``pending``) or still to do."""

    url: str
    depth: int
    crawl: bool
    scope_seed: bool = False
    pending: bool = True
    fetched_body: bool = False
    result: CheckResult | None = None
    anchors: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FrontierLink:
    """One link as found (with fragment), the resource it points to, and where it was found: ``referrers``
    lists the places kept, ``counted`` is how many more were only counted (see engine/state.py)."""

    url: str
    fragment: str
    resource: str | None
    referrers: Sequence[Referrer] = ()
    preset: CheckResult | None = None
    counted: int = 0


@dataclass(frozen=True, slots=True)
class Frontier:
    """Everything a crawler needs to pick up where it stopped."""

    resources: tuple[FrontierResource, ...] = ()
    links: tuple[FrontierLink, ...] = ()
    scope_prefixes: tuple[str, ...] = ()
    pages_started: int = 0

    @property
    def pending(self) -> int:
        """Resources still to check."""
        return sum(1 for r in self.resources if r.pending)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FRONTIER_VERSION,
            "scope_prefixes": list(self.scope_prefixes),
            "pages_started": self.pages_started,
            "resources": [
                [
                    r.url, r.depth, r.crawl, r.scope_seed, r.pending, r.fetched_body,
                    None if r.result is None else result_to_json(r.result),
                    None if r.anchors is None else list(r.anchors),
                ]
                for r in self.resources
            ],
            "links": [
                [
                    link.url, link.fragment, link.resource,
                    referrers_to_json(link.referrers),
                    None if link.preset is None else result_to_json(link.preset),
                    *([link.counted] if link.counted else []),
                ]
                for link in self.links
            ],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Frontier:
        if data.get("version") != FRONTIER_VERSION:
            raise ValueError(f"unknown frontier version {data.get('version')!r}")
        resources = tuple(
            FrontierResource(
                url, depth, crawl, seed, pending, fetched,
                None if result is None else result_from_json(result),
                None if anchors is None else tuple(anchors),
            )
            for url, depth, crawl, seed, pending, fetched, result, anchors in data["resources"]
        )  # fmt: skip
        links = tuple(
            FrontierLink(
                url,
                fragment,
                resource,
                referrers_from_json(referrers),
                None if preset is None else result_from_json(preset),
                int(counted[0]) if counted else 0,  # absent: every referrer is listed
            )
            for url, fragment, resource, referrers, preset, *counted in data["links"]
        )
        return cls(resources, links, tuple(data["scope_prefixes"]), int(data["pages_started"]))
