"""The soft-404 detector without sockets: fingerprints, the false-positive guard, one probe per host."""

from __future__ import annotations

import asyncio

import pytest

from linkdoctor.engine.fetching import BodySample, Page
from linkdoctor.engine.soft404 import Soft404Detector, fingerprint, looks_alike
from linkdoctor.models import Category, CheckResult

TEMPLATE = (
    "<html><head><title>{title}</title></head><body><nav>Home Guide API Blog About</nav>{body}</body></html>"
)
NOT_FOUND = "<h1>Oops</h1><p>The page you requested could not be found on this server, sorry.</p>"


def html(body: str, title: str = "Example") -> bytes:
    return TEMPLATE.format(title=title, body=body).encode()


def sample(data: bytes) -> BodySample:
    return BodySample(data, len(data), "utf-8")


def page(url: str, data: bytes | None, status: int = 200) -> Page:
    category = Category.OK if status < 400 else Category.BROKEN
    result = CheckResult(url, category, status=status, final_url=url)
    return Page(
        result, body_read=data is not None, sample=sample(data) if data is not None and status < 300 else None
    )


class Site:
    """Answers the probe with ``probe`` (bytes for a 200 page, None for a 404) and counts the probes."""

    def __init__(self, probe: bytes | None) -> None:
        self.probe = probe
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> Page:
        self.fetched.append(url)
        await asyncio.sleep(0)
        return page(url, self.probe, 200 if self.probe is not None else 404)


@pytest.mark.parametrize(
    "phrase",
    [
        "Page not found",
        "Seite nicht gefunden",
        "Page introuvable",
        "Página no encontrada",
        "Страница не найдена",
    ],
)
def test_not_found_phrases_in_several_languages_are_evidence(phrase: str) -> None:
    assert fingerprint(sample(html(f"<p>{phrase}</p>"))).phrase is not None


def test_a_different_page_with_the_same_title_does_not_look_alike() -> None:
    probe = fingerprint(sample(html(NOT_FOUND)))
    real = fingerprint(
        sample(html("<p>" + "Install the server, then configure storage and backups. " * 5 + "</p>"))
    )

    assert not looks_alike(real, probe)
    assert looks_alike(fingerprint(sample(html(NOT_FOUND))), probe)


async def test_the_probe_is_sent_once_per_host_and_only_fetched_pages_are_compared() -> None:
    site = Site(html(NOT_FOUND, title="Not here"))
    detector = Soft404Detector(fetch=site.fetch, token=lambda: "x")
    urls = [f"https://a.example/missing-{i}" for i in range(5)]

    judged = await asyncio.gather(
        *(detector.review(u, page(u, html(NOT_FOUND, title="Not here"))) for u in urls)
    )

    assert site.fetched == ["https://a.example/linkdoctor-probe-x"]
    assert {p.result.category for p in judged} == {Category.BROKEN}
    assert {p.result.diagnosis.code for p in judged if p.result.diagnosis} == {"http.soft-404"}
    assert all(p.extraction is None for p in judged)  # a not-found page is not crawled
    assert detector.comparisons == 5


async def test_a_real_404_probe_makes_no_comparison() -> None:
    site = Site(None)
    detector = Soft404Detector(fetch=site.fetch)
    url = "https://a.example/missing"

    judged = await detector.review(url, page(url, html(NOT_FOUND)))

    assert judged.result.category is Category.OK
    assert (detector.probes, detector.comparisons) == (1, 0)


async def test_the_site_root_is_never_flagged() -> None:
    site = Site(html(NOT_FOUND))
    detector = Soft404Detector(fetch=site.fetch)

    judged = await detector.review("https://a.example/", page("https://a.example/", html(NOT_FOUND)))

    assert judged.result.category is Category.OK


async def test_a_site_wide_title_needs_a_not_found_phrase_too() -> None:
    shell = "<p>" + "Our product helps teams ship. " * 3 + "</p>"
    site = Site(html(shell))  # the probe answers the site's generic page, which says nothing of a 404
    detector = Soft404Detector(fetch=site.fetch)
    await detector.review("https://a.example/", page("https://a.example/", html("<p>Welcome home</p>")))

    url = "https://a.example/pricing"
    judged = await detector.review(url, page(url, html(shell)))

    assert judged.result.category is Category.OK


async def test_robots_txt_can_forbid_the_probe() -> None:
    site = Site(html(NOT_FOUND))

    async def disallow(_url: str) -> bool:
        return False

    detector = Soft404Detector(fetch=site.fetch, allowed=disallow)
    url = "https://a.example/missing"
    judged = await detector.review(url, page(url, html(NOT_FOUND)))

    assert judged.result.category is Category.OK
    assert site.fetched == [] and detector.probes == 0
