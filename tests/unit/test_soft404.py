"""The soft-404 detector without sockets: fingerprints, the false-positive guard, one probe per host."""

from __future__ import annotations

import asyncio

import pytest

from linkdoctor.engine.fetching import BodySample, Page
from linkdoctor.engine.soft404 import Soft404Detector, fingerprint, looks_alike
from linkdoctor.models import Category, CheckResult, Redirect

TEMPLATE = (
    "<html><head><title>{title}</title></head><body><nav>Home Guide API Blog About</nav>{body}</body></html>"
)
NOT_FOUND = "<h1>Oops</h1><p>The page you requested could not be found on this server, sorry.</p>"


def html(body: str, title: str = "Example") -> bytes:
    return TEMPLATE.format(title=title, body=body).encode()


def sample(data: bytes) -> BodySample:
    return BodySample(data, len(data), "utf-8")


def page(url: str, data: bytes | None, status: int = 200, landing: str | None = None) -> Page:
    category = Category.OK if status < 400 else Category.BROKEN
    redirects: tuple[Redirect, ...] = ()
    if landing is not None:
        category, redirects = Category.REDIRECTED, (Redirect(url, 302),)
    result = CheckResult(url, category, status=status, final_url=landing or url, redirects=redirects)
    return Page(
        result, body_read=data is not None, sample=sample(data) if data is not None and status < 300 else None
    )


class Site:
    """Answers the probe with ``probe`` (bytes for a 200 page, None for a 404), after a redirect to
    ``landing`` if given, and counts the probes."""

    def __init__(self, probe: bytes | None, landing: str | None = None) -> None:
        self.probe = probe
        self.landing = landing
        self.fetched: list[str] = []

    async def fetch(self, url: str) -> Page:
        self.fetched.append(url)
        await asyncio.sleep(0)
        return page(url, self.probe, 200 if self.probe is not None else 404, self.landing)


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


async def test_a_page_sent_where_the_probe_was_sent_is_a_soft_404() -> None:
    error_page = html("<p>Page not found.</p>", title="Gone")
    detector = Soft404Detector(fetch=Site(error_page, landing="https://a.example/404.html").fetch)
    url = "https://a.example/old"

    judged = await detector.review(url, page(url, error_page, landing="https://a.example/404.html"))

    assert judged.result.diagnosis is not None and judged.result.diagnosis.code == "http.soft-404"
    assert "both end on https://a.example/404.html" in judged.result.diagnosis.summary


async def test_a_host_whose_probe_lands_on_the_home_page_is_never_judged() -> None:
    home = html("<p>Welcome</p>", title="Home")
    detector = Soft404Detector(fetch=Site(home, landing="https://a.example/").fetch)
    url = "https://a.example/old"

    judged = await detector.review(url, page(url, home, landing="https://a.example/"))

    assert judged.result.category is Category.REDIRECTED
    assert detector.comparisons == 0


async def test_pages_sent_to_the_same_login_page_as_the_probe_are_not_soft_404s() -> None:
    login = html("<form>Sign in with your account</form>", title="Sign in")
    detector = Soft404Detector(fetch=Site(login, landing="https://a.example/login").fetch)
    url = "https://a.example/private/report"

    judged = await detector.review(url, page(url, login, landing="https://a.example/login"))

    assert judged.result.category is Category.REDIRECTED
