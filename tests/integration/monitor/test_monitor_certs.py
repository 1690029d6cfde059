"""Server certificates near expiry as findings of a scan, on a real nginx (three TLS origins: a certificate
expiring in 5 days, one valid for a year, one expired) and a real database (SQLite and PostgreSQL), in
server mode (SSRF guard allowing 127.0.0.1 only): the stored finding, the diff, the site page, the alert
(one message per scan, once per certificate state) and the guard's say over where probes go."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from ipaddress import ip_network
from pathlib import Path
from threading import Lock

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from fastapi.testclient import TestClient
from harness.nginx import NginxFactory, quote
from harness.ports import free_ports
from tests.integration.web.conftest import log_in
from tests.support.alert_sinks import WebhookSink, webhook_sink
from tests.support.pki import DEFAULT_SANS, PKI, CertFiles

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.models import Category
from linkdoctor.monitor.certs import CertExpiry
from linkdoctor.monitor.model import ScanState, SiteOptions, SiteSpec
from linkdoctor.monitor.service import Monitor
from linkdoctor.tls.probe import ProbeResult, probe
from linkdoctor.web.app import create_app
from linkdoctor.web.settings import ServeSettings

pytestmark = pytest.mark.nginx

LOOPBACK = ip_network("127.0.0.1/32")
CODE = "tls.server-cert-expired"


@dataclass(frozen=True)
class Origins:
    """Three https origins on one nginx, all serving the same pages."""

    pki: PKI
    ports: dict[str, int]
    soon_expiry: datetime

    def url(self, name: str, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.ports[name]}{path}"


@pytest.fixture(scope="module")
def origins(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Origins:
    pki = PKI(tmp_path_factory.mktemp("monitor-certs-pki"))
    root = tmp_path_factory.mktemp("monitor-certs-site")
    ports = dict(zip(("year", "soon", "expired"), free_ports(3), strict=True))

    def page(name: str, links: list[str]) -> None:
        (root / name).write_text("".join(f'<a href="{link}">{link}</a>\n' for link in links))

    soon = f"https://127.0.0.1:{ports['soon']}"
    expired = f"https://127.0.0.1:{ports['expired']}"
    page("index.html", [f"{soon}/page.html", "/page.html"])
    page("year-only.html", ["/page.html"])
    page("with-expired.html", [f"{expired}/page.html"])
    page("broken-and-soon.html", [f"{soon}/page.html", "/missing.html"])
    page("outside-guard.html", [f"https://127.0.0.2:{ports['soon']}/page.html", f"{soon}/page.html"])
    page("page.html", [])

    expiry = pki.now + timedelta(days=5)

    def server(name: str, not_after: datetime, not_before: datetime | None = None) -> CertFiles:
        return pki.issue(
            name,
            issuer=pki.root,
            sans=DEFAULT_SANS,
            eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
            not_before=not_before,
            not_after=not_after,
        )

    certs = {
        "year": server("certs-year", pki.now + timedelta(days=365)),
        "soon": server("certs-soon", expiry),
        "expired": server("certs-expired", pki.now - timedelta(days=2), pki.now - timedelta(days=90)),
    }
    blocks = "\n".join(
        f"server {{ listen 127.0.0.1:{ports[name]} ssl; server_name localhost; root {quote(root)};\n"
        f"ssl_certificate {quote(cert.chain)}; ssl_certificate_key {quote(cert.key)}; }}"
        for name, cert in certs.items()
    )
    nginx_factory(blocks, "monitor-certs")
    return Origins(pki, ports, expiry)


class RecordingProbe:
    """The real probe, remembering every (host, port) it was asked to reach."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._lock = Lock()

    def __call__(
        self,
        host: str,
        port: int,
        *,
        sni: str | None = None,
        timeout: float = 5.0,
        cafile: Path | None = None,
    ) -> ProbeResult:
        with self._lock:
            self.calls.append((host, port))
        return probe(host, port, sni=sni, timeout=timeout, cafile=cafile)


@pytest.fixture
def probes() -> RecordingProbe:
    return RecordingProbe()


@pytest.fixture
def monitor(db_url: str, probes: RecordingProbe) -> Iterator[Monitor]:
    guard = SSRFGuard(allow=[LOOPBACK])
    m = Monitor.open(db_url, guard=guard, scan_guard=guard, certs=CertExpiry(probe=probes))
    yield m
    m.close()


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        yield sink


def add(
    monitor: Monitor,
    origins: Origins,
    start: str,
    *,
    notify: tuple[str, ...] = (),
    warning_days: int | None = None,
) -> int:
    options = SiteOptions(
        cacert_path=str(origins.pki.root.cert), respect_robots=False, cert_warning_days=warning_days
    )
    spec = SiteSpec(
        name="shop", url=origins.url("year", f"/{start}"), every=None, options=options, notify=notify
    )
    return monitor.add_site(spec).id


def scan(monitor: Monitor, site_id: int) -> int:
    done = monitor.run_scan(monitor.request_scan(site_id).id, owner="test")
    assert done.state is ScanState.DONE, done.error
    return done.id


def test_a_certificate_expiring_in_5_days_is_a_warning_on_its_origin(
    monitor: Monitor, origins: Origins
) -> None:
    scan_id = scan(monitor, add(monitor, origins, "index.html"))
    [notice] = monitor.certificates(scan_id)
    assert (notice.origin, notice.url) == (origins.url("soon").rstrip("/"), origins.url("soon", "/page.html"))
    assert (notice.code, notice.severity) == (CODE, "warning")
    assert f"expires on {origins.soon_expiry:%Y-%m-%d}" in notice.summary
    carrier = {r.url: r for r in monitor.results(scan_id)}[notice.url]
    assert carrier.category is Category.OK  # still valid: the link works, the certificate is the finding
    assert [(f.code, f.severity) for f in carrier.findings] == [(CODE, "warning")]


def test_a_certificate_valid_for_a_year_gives_no_finding(monitor: Monitor, origins: Origins) -> None:
    scan_id = scan(monitor, add(monitor, origins, "year-only.html"))
    assert monitor.certificates(scan_id) == []
    assert all(not r.findings for r in monitor.results(scan_id))


def test_an_expired_certificate_is_an_error(monitor: Monitor, origins: Origins) -> None:
    scan_id = scan(monitor, add(monitor, origins, "with-expired.html"))
    [notice] = monitor.certificates(scan_id)
    assert (notice.origin, notice.severity) == (origins.url("expired").rstrip("/"), "error")
    assert "expired on" in notice.summary
    link = {r.url: r for r in monitor.results(scan_id)}[origins.url("expired", "/page.html")]
    assert link.category is Category.BROKEN  # the check itself refuses the expired certificate


def test_a_site_warning_window_of_3_days_leaves_the_5_day_certificate_alone(
    monitor: Monitor, origins: Origins
) -> None:
    scan_id = scan(monitor, add(monitor, origins, "index.html", warning_days=3))
    assert monitor.certificates(scan_id) == []


def test_the_diff_lists_the_certificates_and_the_site_page_shows_them(
    monitor: Monitor, origins: Origins, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_id = add(monitor, origins, "index.html")
    scan_id = scan(monitor, site_id)
    diff = monitor.diff(scan_id)
    assert [n.origin for n in diff.certificates] == [origins.url("soon").rstrip("/")]
    monkeypatch.setenv("LINKDOCTOR_ADMIN_PASSWORD", "correct horse battery")
    settings = ServeSettings(db_url=db_url, allow_private=(LOOPBACK,), tick=0)
    with TestClient(create_app(settings, service=monitor, announce=lambda _: None)) as client:
        log_in(client, "correct horse battery")
        page = client.get(f"/sites/{site_id}").text
        api = client.get(f"/api/v1/scans/{scan_id}/diff").json()
    assert "<h2>Certificates (1)</h2>" in page
    assert f"<code>{origins.url('soon').rstrip('/')}</code>" in page
    assert [c["origin"] for c in api["certificates"]] == [origins.url("soon").rstrip("/")]


def test_the_alert_mentions_the_certificate_once(
    monitor: Monitor, origins: Origins, hook: WebhookSink
) -> None:
    site_id = add(monitor, origins, "index.html", notify=(hook.apprise_url,))
    scan(monitor, site_id)
    assert len(hook.payloads) == 1
    assert "server certificate expiring" in hook.payloads[0]["title"]
    message = hook.payloads[0]["message"]
    assert f"The server certificate of {origins.url('soon').rstrip('/')} expires on" in message
    scan(monitor, site_id)
    assert len(hook.payloads) == 1  # the same certificate in the same state does not alert again


def test_broken_links_and_a_certificate_share_one_message(
    monitor: Monitor, origins: Origins, hook: WebhookSink
) -> None:
    site_id = add(monitor, origins, "broken-and-soon.html", notify=(hook.apprise_url,))
    monitor.update_site(site_id, replace(monitor.site(site_id).spec, alert_after=1))
    scan(monitor, site_id)
    assert len(hook.payloads) == 1
    message = hook.payloads[0]["message"]
    assert "missing.html" in message
    assert "Server certificates:" in message and origins.url("soon").rstrip("/") in message


def test_probes_go_only_where_the_guard_lets_scans_go(
    monitor: Monitor, origins: Origins, probes: RecordingProbe
) -> None:
    scan_id = scan(monitor, add(monitor, origins, "outside-guard.html"))
    outside = {r.url: r for r in monitor.results(scan_id)}[
        f"https://127.0.0.2:{origins.ports['soon']}/page.html"
    ]
    assert outside.category is Category.BROKEN  # the scan was refused by the guard too
    assert sorted(set(probes.calls)) == sorted(("127.0.0.1", origins.ports[n]) for n in ("soon", "year"))
    assert [n.origin for n in monitor.certificates(scan_id)] == [origins.url("soon").rstrip("/")]


def test_a_monitor_without_the_expiry_check_probes_nothing(db_url: str, origins: Origins) -> None:
    guard = SSRFGuard(allow=[LOOPBACK])
    m = Monitor.open(db_url, guard=guard, scan_guard=guard, certs=None)
    try:
        scan_id = scan(m, add(m, origins, "index.html"))
        assert m.certificates(scan_id) == []
    finally:
        m.close()
