"""What a hostile monitored site can put into the alerts a real ``linkdoctor serve`` sends.

An alert's body is plain text that quotes the site: the URLs of its broken links (a path may hold ``<`` and
``>`` as they were written), and the pages they were found on. apprise was handed that text with no
format, so it sent it as the HTML part of an e-mail unescaped: ``<a href=//evil.example>`` became a link in
the team's inbox, ``<img src=…>`` a tracking pixel. The body is now declared as text, which apprise escapes
for every HTML (and Markdown) target. The dashboard's pages of the same scan show it escaped.
"""

from __future__ import annotations

import http.server
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message

import pytest
from tests.integration.web.conftest import ADMIN_PASSWORD
from tests.integration.web.served import USER_PASSWORD, log_in, serve_process
from tests.support.alert_sinks import SmtpSink, smtp_sink
from tests.support.threaded_site import threaded_site

INJECTED = '<a href="//evil.example/">click here</a><img src="//evil.example/pixel.png">'
PAGE = f"""<!doctype html><html><head><title>hostile</title></head><body>
<a href='/missing/{INJECTED}'>a broken link</a>
</body></html>
"""


@contextmanager
def hostile_site() -> Iterator[str]:
    """A site on 127.0.0.1 whose ``/`` links to a missing page with markup in its path; the rest is 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, body: bool) -> None:
            found = self.path == "/"
            data = PAGE.encode() if found else b"gone"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

    with threaded_site(Handler) as base:
        yield base


def wait_for_mail(smtp: SmtpSink, *, timeout: float = 60.0) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if smtp.messages:
            return smtp.messages[0]
        time.sleep(0.2)
    raise AssertionError(f"no alert e-mail within {timeout} s")


def parts(message: Message) -> dict[str, str]:
    """The text parts of an e-mail by content type."""
    found: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


@dataclass
class Scanned:
    """The alert e-mail of the hostile site's scan, and the dashboard's pages of it as a viewer sees them."""

    mail: Message
    pages: dict[str, str]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    home = tmp_path_factory.mktemp("serve-hostile-alerts")
    with (
        hostile_site() as base,
        smtp_sink() as smtp,
        serve_process(f"sqlite:///{home / 'linkdoctor.sqlite'}", home, "--tick", "0.5") as served,
    ):
        admin = log_in(served.base, "admin", ADMIN_PASSWORD)
        site = {
            "name": "hostile",
            "url": base,
            "every": None,
            "notify": [smtp.apprise_url],
            "alert_after": 1,
        }
        added = admin.api("POST", "/sites", json=site)
        assert added.status_code == 201, added.text
        site_id = added.json()["id"]
        scan = admin.api("POST", f"/sites/{site_id}/scans")
        assert scan.status_code == 202, scan.text
        mail = wait_for_mail(smtp)
        added = admin.api(
            "POST", "/users", json={"username": "viewer", "password": USER_PASSWORD, "role": "viewer"}
        )
        assert added.status_code == 201, added.text
        viewer = log_in(served.base, "viewer", USER_PASSWORD)
        scan_id = scan.json()["id"]
        paths = (f"/sites/{site_id}", f"/scans/{scan_id}", f"/scans/{scan_id}?view=links&category=")
        pages = {path: viewer.client.get(path).text for path in paths}
    return Scanned(mail, pages)


def test_markup_in_a_hostile_sites_urls_reaches_an_alert_email_as_text(scanned: Scanned) -> None:
    texts = parts(scanned.mail)
    assert texts, scanned.mail.as_string()[:500]
    everything = "\n".join(texts.values())
    assert "click here" in everything, everything  # the alert names the broken link
    html = texts.get("text/html", "")
    assert "<a href" not in html and "<img" not in html, html
    if html:
        assert "&lt;img" in html, html


def test_markup_in_a_hostile_sites_urls_is_escaped_on_the_dashboard(scanned: Scanned) -> None:
    for path, page in scanned.pages.items():
        assert "click here" in page, path  # the page shows the broken link
        assert 'evil.example/pixel.png"' not in page.replace("&#34;", "&quot;"), path
        assert "<img" not in page and '<a href="//evil' not in page, path
