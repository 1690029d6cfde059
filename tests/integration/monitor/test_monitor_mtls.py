"""Scans of a site behind mutual TLS, on a real nginx (``ssl_verify_client on``) and a real database (SQLite
and PostgreSQL), in server mode (SSRF guard allowing 127.0.0.1 only): the site's configured client
certificate is presented, and the check's precise statuses and diagnosis codes are stored with the results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network

import pytest
from harness.nginx import NginxFactory, quote
from harness.ports import free_port
from tests.support.pki import PKI, CertFiles

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.models import Category
from linkdoctor.monitor.model import ScanState, SiteOptions, SiteSpec, StoredResult
from linkdoctor.monitor.orm import SiteRow
from linkdoctor.monitor.service import Monitor

pytestmark = pytest.mark.nginx


@dataclass(frozen=True)
class ProtectedSite:
    pki: PKI
    url: str

    def at(self, path: str) -> str:
        return self.url.rstrip("/") + path


@pytest.fixture(scope="module")
def protected(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> ProtectedSite:
    pki = PKI(tmp_path_factory.mktemp("monitor-mtls-pki"))
    root = tmp_path_factory.mktemp("monitor-mtls-site")
    (root / "index.html").write_text('<a href="members.html">members</a>\n')
    (root / "members.html").write_text('<a href="gone.html">gone</a>\n<a href="index.html">home</a>\n')
    server = pki.server("monitor-mtls-server")
    port = free_port()
    block = (
        f"server {{ listen 127.0.0.1:{port} ssl; server_name localhost; root {quote(root)};\n"
        f"ssl_certificate {quote(server.chain)}; ssl_certificate_key {quote(server.key)};\n"
        "ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"ssl_client_certificate {quote(pki.root.cert)}; ssl_verify_client on; }}"
    )
    nginx_factory(block, "monitor-mtls")
    return ProtectedSite(pki, f"https://127.0.0.1:{port}/")


@pytest.fixture
def monitor(db_url: str) -> Iterator[Monitor]:
    guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
    m = Monitor.open(db_url, guard=guard, scan_guard=guard)
    yield m
    m.close()


def options(site: ProtectedSite, cert: CertFiles | None) -> SiteOptions:
    return SiteOptions(
        cacert_path=str(site.pki.root.cert),
        cert_path=None if cert is None else str(cert.chain),
        key_path=None if cert is None else str(cert.key),
        respect_robots=False,
    )


def scan_results(monitor: Monitor, site: ProtectedSite, cert: CertFiles | None) -> dict[str, StoredResult]:
    added = monitor.add_site(SiteSpec(name="members", url=site.url, every=None, options=options(site, cert)))
    scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
    assert scan.state is ScanState.DONE, scan.error
    return {r.url: r for r in monitor.results(scan.id)}


def code(result: StoredResult) -> str | None:
    return None if result.diagnosis is None else result.diagnosis.code


def test_without_a_certificate_the_result_is_496_client_cert_required(
    monitor: Monitor, protected: ProtectedSite
) -> None:
    results = scan_results(monitor, protected, None)
    start = results[protected.url]
    assert (start.status, start.precise_status) == (400, 496)
    assert start.category is Category.BROKEN
    assert code(start) == "tls.client-cert-required"
    assert start.diagnosis is not None and start.diagnosis.fix
    assert list(results) == [protected.url]  # nothing behind the protected page was reached


def test_with_the_sites_certificate_the_scan_crawls_past_the_protected_page(
    monitor: Monitor, protected: ProtectedSite
) -> None:
    results = scan_results(monitor, protected, protected.pki.client("monitor-mtls-client"))
    assert results[protected.url].category is Category.OK
    assert results[protected.at("/members.html")].category is Category.OK
    gone = results[protected.at("/gone.html")]
    assert (gone.category, gone.status, code(gone)) == (Category.BROKEN, 404, "http.not-found")
    assert [r.url for r in gone.referrers] == [protected.at("/members.html")]


def test_with_an_expired_certificate_the_result_is_client_cert_expired(
    monitor: Monitor, protected: ProtectedSite
) -> None:
    results = scan_results(monitor, protected, protected.pki.client_expired("monitor-mtls-expired"))
    start = results[protected.url]
    assert start.category is Category.BROKEN
    assert code(start) == "tls.client-cert-expired"


def test_a_site_certificate_from_a_pkcs12_bundle_with_a_password_from_the_environment(
    db_url: str, protected: ProtectedSite
) -> None:
    bundle = protected.pki.client_pkcs12("monitor-mtls-p12")
    assert bundle.p12 is not None and bundle.password is not None
    guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
    monitor = Monitor.open(
        db_url, guard=guard, scan_guard=guard, env={"MEMBERS_P12_PASSWORD": bundle.password}
    )
    try:
        opts = SiteOptions(
            cacert_path=str(protected.pki.root.cert),
            pkcs12_path=str(bundle.p12),
            password_env="MEMBERS_P12_PASSWORD",
            respect_robots=False,
        )
        added = monitor.add_site(SiteSpec(name="members-p12", url=protected.url, every=None, options=opts))
        scan = monitor.run_scan(monitor.request_scan(added.id).id, owner="test")
        results = {r.url: r for r in monitor.results(scan.id)}
    finally:
        monitor.close()
    assert scan.state is ScanState.DONE, scan.error
    assert results[protected.at("/members.html")].category is Category.OK
    assert code(results[protected.at("/gone.html")]) == "http.not-found"


def test_only_paths_of_the_certificate_reach_the_database(monitor: Monitor, protected: ProtectedSite) -> None:
    cert = protected.pki.client("monitor-mtls-stored")
    opts = options(protected, cert)
    added = monitor.add_site(SiteSpec(name="members", url=protected.url, every=None, options=opts))
    with monitor.session() as s:
        stored = json.dumps(s.get(SiteRow, added.id).options)  # type: ignore[union-attr]
    assert str(cert.key) in stored
    assert "PRIVATE KEY" not in stored and "CERTIFICATE" not in stored
