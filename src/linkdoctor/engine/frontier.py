"""A crawl's saved state, so that a run stopped by ``CheckConfig.max_checks`` can resume later without
starting over: the resources already checked (with their results and anchors), the ones still pending,
and every link with its referrers. It converts to and from plain JSON for storage.

>>> Frontier.from_json(Frontier().to_json()) == Frontier()
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
)

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
    """One link as found (with fragment), the resource it points to, and where it was found."""

    url: str
    fragment: str
    resource: str | None
    referrers: tuple[Referrer, ...] = ()
    preset: CheckResult | None = None


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
                    [[ref.url, ref.line, ref.text] for ref in link.referrers],
                    None if link.preset is None else result_to_json(link.preset),
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
                tuple(Referrer(u, line, text) for u, line, text in referrers),
                None if preset is None else result_from_json(preset),
            )
            for url, fragment, resource, referrers, preset in data["links"]
        )
        return cls(resources, links, tuple(data["scope_prefixes"]), int(data["pages_started"]))


def result_to_json(result: CheckResult) -> dict[str, Any]:
    """A :class:`CheckResult` as JSON-ready values (the inverse of :func:`result_from_json`)."""
    data: dict[str, Any] = {"url": result.url, "category": result.category.value}
    if result.status is not None:
        data["status"] = result.status
    if result.reason:
        data["reason"] = result.reason
    if result.precise_status is not None:
        data["precise_status"] = result.precise_status
    if result.final_url:
        data["final_url"] = result.final_url
    if result.redirects:
        data["redirects"] = [[r.url, r.status] for r in result.redirects]
    if result.elapsed_ms:
        data["elapsed_ms"] = result.elapsed_ms
    if result.error is not None:
        data["error"] = result.error.value
    if result.error_message:
        data["error_message"] = result.error_message
    if result.diagnosis is not None:
        d = result.diagnosis
        data["diagnosis"] = [d.code, d.summary, list(d.fix)]
    if result.referrers:
        data["referrers"] = [[r.url, r.line, r.text] for r in result.referrers]
    if result.findings:
        data["findings"] = [
            [f.code, f.severity.value, f.actor, f.summary, [list(e) for e in f.evidence], list(f.fix)]
            for f in result.findings
        ]
    return data


def result_from_json(data: dict[str, Any]) -> CheckResult:
    diagnosis = data.get("diagnosis")
    return CheckResult(
        url=data["url"],
        category=Category(data["category"]),
        status=data.get("status"),
        reason=data.get("reason", ""),
        precise_status=data.get("precise_status"),
        final_url=data.get("final_url", ""),
        redirects=tuple(Redirect(u, s) for u, s in data.get("redirects", ())),
        elapsed_ms=data.get("elapsed_ms", 0.0),
        error=None if data.get("error") is None else ErrorKind(data["error"]),
        error_message=data.get("error_message", ""),
        diagnosis=None if diagnosis is None else Diagnosis(diagnosis[0], diagnosis[1], tuple(diagnosis[2])),
        referrers=tuple(Referrer(u, line, text) for u, line, text in data.get("referrers", ())),
        findings=tuple(
            Finding(code, Severity(sev), actor, summary, tuple((k, v) for k, v in evidence), tuple(fix))
            for code, sev, actor, summary, evidence, fix in data.get("findings", ())
        ),
    )
