"""The probes of ``fix`` over an in-memory transport: an http → https upgrade is proven only when the https URL
answers ok with the content type the http one ends at; the web archive's availability API is asked with the
dead URL, and an archive that does not answer means no suggestion, never an error."""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import pytest

from linkdoctor.config import CheckConfig
from linkdoctor.engine.runner import run_sync
from linkdoctor.engine.transport import Answer, BodyLimit, TransportError
from linkdoctor.fix.model import FixKind, Proposal, Skipped
from linkdoctor.fix.probe import Prober
from linkdoctor.models import Category, CheckResult, ErrorKind, Redirect

HTTP, HTTPS = "http://a.example/doc", "https://a.example/doc"


class Site:
    """Answers by method and URL; ``types`` gives each URL's content type per request, in turn."""

    def __init__(
        self, answers: Mapping[str, tuple[int, dict[str, str], bytes]], types: Mapping[str, list[str]]
    ):
        self.answers, self.types = answers, {url: list(kinds) for url, kinds in types.items()}
        self.asked: list[str] = []

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | bool,
        body_limit: BodyLimit,
    ) -> Answer:
        self.asked.append(url)
        if url not in self.answers:
            raise TransportError(ErrorKind.REFUSED, "net.refused", "nothing listens")
        status, extra, body = self.answers[url]
        kinds = self.types.get(url)
        head = {**extra, **({"content-type": kinds.pop(0) if len(kinds) > 1 else kinds[0]} if kinds else {})}
        limit = body_limit(status, head, url)
        return Answer(status, "", head, body[:limit] if method == "GET" and limit else None, False)


def upgrade_result() -> CheckResult:
    return CheckResult(HTTP, Category.REDIRECTED, 200, final_url=HTTPS, redirects=(Redirect(HTTP, 301),))


def prove(site: Site) -> Proposal | Skipped:
    async def run() -> Proposal | Skipped:
        async with Prober(CheckConfig(retries=0), transport=site) as prober:
            return await prober.https_upgrade(upgrade_result(), HTTPS)

    return run_sync(run())


REDIRECT = (301, {"location": HTTPS}, b"")


def test_an_upgrade_that_answers_the_same_is_proven() -> None:
    site = Site({HTTP: REDIRECT, HTTPS: (200, {}, b"<p>doc</p>")}, {HTTPS: ["text/html; charset=utf-8"]})
    verdict = prove(site)
    assert isinstance(verdict, Proposal)
    assert (verdict.new_url, verdict.kind) == (HTTPS, FixKind.HTTPS)
    assert "which answers ok (text/html)" in verdict.reason


def test_an_https_url_that_fails_is_no_upgrade() -> None:
    verdict = prove(Site({HTTP: REDIRECT, HTTPS: (404, {}, b"")}, {HTTPS: ["text/html"]}))
    assert isinstance(verdict, Skipped) and "does not answer ok (404)" in verdict.reason


def test_another_content_type_is_no_upgrade() -> None:
    site = Site({HTTP: REDIRECT, HTTPS: (200, {}, b"")}, {HTTPS: ["application/pdf", "text/html"]})
    verdict = prove(site)
    assert isinstance(verdict, Skipped)
    assert verdict.reason == "the https URL answers application/pdf, the http one text/html"


ENDPOINT = "https://archive.example/wayback/available"
DEAD = "https://gone.example/page?a=1"
ASKED = "https://archive.example/wayback/available?url=https%3A%2F%2Fgone.example%2Fpage%3Fa%3D1"


def archived(site: Site) -> str | None:
    async def run() -> str | None:
        async with Prober(CheckConfig(retries=0), transport=site) as prober:
            return await prober.archived_copy(DEAD, ENDPOINT)

    return run_sync(run())


def test_the_archive_is_asked_with_the_dead_url() -> None:
    body = b'{"archived_snapshots": {"closest": {"available": true, "status": "200", "url": "https://w.example/1"}}}'
    site = Site({ASKED: (200, {}, body)}, {ASKED: ["application/json"]})
    assert archived(site) == "https://w.example/1"
    assert site.asked == [ASKED]


@pytest.mark.parametrize("answers", [{}, {ASKED: (503, {}, b"busy")}, {ASKED: (200, {}, b"<html>")}])
def test_an_archive_that_does_not_answer_gives_no_suggestion(
    answers: dict[str, tuple[int, dict[str, str], bytes]],
) -> None:
    assert archived(Site(answers, {ASKED: ["text/html"]})) is None
