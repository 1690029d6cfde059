"""The rules' claims, checked against a running nginx: what the linter says breaks does break for a
real client, and what it lets pass works. Each spec starts nginx on a free 127.0.0.1 port, sends one
HTTPS request (with or without a client certificate) and lints the very configuration nginx runs."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.nginx import NginxPool, NginxServer, quote
from harness.ports import free_port
from tests.nginx.materials import Materials, issue_client
from tests.support.pki import CertFiles

from linkdoctor.nginx import lint_config

REQUEST_TIMEOUT = 5.0

pytestmark = pytest.mark.nginx


@dataclass(frozen=True)
class Client:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Site:
    """Starts nginx around one TLS server block and answers requests to it."""

    pool: NginxPool
    materials: Materials
    directory: Path

    @property
    def server_cert(self) -> CertFiles:
        return self.materials.pki.server("runtime-server")

    def start(self, body: str, *, extra_http: str = "") -> NginxServer:
        cert = self.server_cert
        block = (
            f"server {{\n listen 127.0.0.1:{free_port()} ssl;\n"
            f" ssl_certificate {quote(cert.chain)};\n ssl_certificate_key {quote(cert.key)};\n"
            f"{body}\n"
            ' location / { return 200 "verify=$ssl_client_verify"; }\n}'
        )
        return self.pool.start(block, "site", extra_http=extra_http)

    def file(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        return path

    def get(self, server: NginxServer, client: Client | None = None, path: str = "/") -> int:
        context = ssl.create_default_context(cafile=str(self.materials.pki.root.cert))
        if client is not None:
            context.load_cert_chain(str(client.cert), str(client.key))
        assert server.tls_port is not None
        conn = http.client.HTTPSConnection(
            "127.0.0.1", server.tls_port, context=context, timeout=REQUEST_TIMEOUT
        )
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


@pytest.fixture
def site(nginx_bin: str, materials: Materials, tmp_path: Path) -> Iterator[Site]:
    with NginxPool(nginx_bin, tmp_path / "nginx") as pool:
        yield Site(pool, materials, tmp_path)


def rules_for(server: NginxServer) -> set[str]:
    return {f.rule_id for f in lint_config(server.conf_path, nginx_version="1.22.1").findings}


def root_client(site: Site) -> Client:
    files = site.materials.client
    assert files.key is not None
    return Client(files.cert, files.key)


def intermediate_client(site: Site) -> Client:
    files = site.materials.pki.client_via_intermediate("runtime-client-int")
    assert files.key is not None
    return Client(files.chain, files.key)


def test_two_intermediates_need_ssl_verify_depth_2(site: Site) -> None:
    issuing = site.materials.deep_chain[-1]
    cert, key = issue_client(issuing, "deep client", site.materials.now)
    client = Client(site.file("deep-client.pem", cert), site.file("deep-client.key", key))
    ca = site.file("deep-ca.pem", site.materials.get("client-ca-deep"))
    default = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on;")
    deeper = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on; ssl_verify_depth 2;")
    assert (site.get(default, client), "LDN004" in rules_for(default)) == (400, True)
    assert (site.get(deeper, client), "LDN004" in rules_for(deeper)) == (200, False)


def test_one_intermediate_passes_with_the_default_depth(site: Site) -> None:
    ca = site.file("chain.pem", site.materials.get("client-ca-chain"))
    server = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on;")
    assert site.get(server, intermediate_client(site)) == 200
    assert "LDN004" not in rules_for(server)


def test_an_intermediate_without_its_root_rejects_its_clients(site: Site) -> None:
    ca = site.file("int.pem", site.materials.get("client-intermediate-only"))
    server = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on;")
    assert site.get(server, intermediate_client(site)) == 400
    assert "LDN002" in rules_for(server)


def test_an_expired_crl_rejects_valid_clients(site: Site) -> None:
    ca = site.file("ca.pem", site.materials.get("client-ca"))
    expired = site.file("expired.crl", site.materials.get("crl-expired"))
    current = site.file("current.crl", site.materials.get("crl-root"))
    broken = site.start(
        f"ssl_client_certificate {quote(ca)}; ssl_verify_client on; ssl_crl {quote(expired)};"
    )
    working = site.start(
        f"ssl_client_certificate {quote(ca)}; ssl_verify_client on; ssl_crl {quote(current)};"
    )
    assert (site.get(broken, root_client(site)), "LDN011" in rules_for(broken)) == (400, True)
    assert (site.get(working, root_client(site)), "LDN011" in rules_for(working)) == (200, False)


def test_a_crl_missing_for_an_intermediate_rejects_its_clients(site: Site) -> None:
    ca = site.file("chain.pem", site.materials.get("client-ca-chain"))
    crl = site.file("root.crl", site.materials.get("crl-root"))
    server = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on; ssl_crl {quote(crl)};")
    assert site.get(server, intermediate_client(site)) == 400
    assert "LDN011" in rules_for(server)


def test_a_check_in_a_server_that_never_asks_fails_every_client(site: Site) -> None:
    server = site.start("location /admin/ { if ($ssl_client_verify != SUCCESS) { return 403; } return 200; }")
    assert site.get(server, root_client(site), "/admin/") == 403
    assert "LDN008" in rules_for(server)


def test_optional_verification_without_a_check_serves_clients_without_a_certificate(site: Site) -> None:
    ca = site.file("ca.pem", site.materials.get("client-ca"))
    server = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client optional;")
    assert site.get(server) == 200
    assert "LDN005" in rules_for(server)


def test_error_page_496_to_200_hides_the_missing_certificate(site: Site) -> None:
    ca = site.file("ca.pem", site.materials.get("client-ca"))
    masked = site.start(
        f"ssl_client_certificate {quote(ca)}; ssl_verify_client on;\n"
        " error_page 496 =200 /ok;\n location = /ok { return 200; }"
    )
    plain = site.start(f"ssl_client_certificate {quote(ca)}; ssl_verify_client on;")
    assert (site.get(masked), "LDN007" in rules_for(masked)) == (200, True)
    assert (site.get(plain), "LDN007" in rules_for(plain)) == (400, False)
