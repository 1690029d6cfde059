"""``[[tls.client]]`` in linkdoctor.toml against two real nginx servers doing mutual TLS, each trusting a
different client CA: ``check`` presents to each host the certificate its table names."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from harness.nginx import NginxFactory, quote
from harness.ports import free_ports
from tests.support.pki import PKI, CertFiles

from linkdoctor.cli import cli

pytestmark = pytest.mark.nginx


@dataclass(frozen=True)
class Servers:
    """``corp`` (reached as localhost) trusts the test root; ``partner`` (reached as 127.0.0.1) the rogue CA."""

    pki: PKI
    corp_client: CertFiles  # issued by the root, encrypted key
    partner_client: CertFiles  # issued by the rogue CA, as PKCS#12
    corp: str
    partner: str


@pytest.fixture(scope="module")
def servers(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Servers:
    pki = PKI(tmp_path_factory.mktemp("pki-config"))
    root = tmp_path_factory.mktemp("mtls-config-site")
    (root / "index.html").write_text('<a href="inside.html">inside</a>\n')
    (root / "inside.html").write_text("<p>only with a certificate</p>\n")
    server = pki.server("nginx-config")
    corp_port, partner_port = free_ports(2)

    def block(port: int, client_ca: Path) -> str:
        return (
            f"server {{ listen 127.0.0.1:{port} ssl; server_name localhost; root {quote(root)};\n"
            f"  ssl_certificate {quote(server.chain)}; ssl_certificate_key {quote(server.key)};\n"
            f"  ssl_client_certificate {quote(client_ca)}; ssl_verify_client on; }}\n"
        )

    nginx_factory(block(corp_port, pki.root.cert) + block(partner_port, pki.rogue.cert), "mtls-config")
    return Servers(
        pki,
        corp_client=pki.client_encrypted_key("config-corp"),
        partner_client=rogue_pkcs12(pki),
        corp=f"https://localhost:{corp_port}/",
        partner=f"https://127.0.0.1:{partner_port}/",
    )


def rogue_pkcs12(pki: PKI) -> CertFiles:
    """A PKCS#12 client certificate issued by the rogue CA (the one the partner server trusts)."""
    files = pki.client_rogue("config-partner")
    assert files.private_key is not None
    data = pkcs12.serialize_key_and_certificates(
        b"partner", files.private_key, files.certificate, None, BestAvailableEncryption(b"p12-secret")
    )
    path = files.cert.with_suffix(".p12")
    path.write_bytes(data)
    return replace(files, p12=path, password="p12-secret")


def check(project: Path, config: str, *urls: str, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    (project / "linkdoctor.toml").write_text(config)
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--config",
            str(project / "linkdoctor.toml"),
            "--no-progress",
            "--format",
            "json-v1",
            *urls,
        ],
        env=env,
    )
    assert result.exit_code in (0, 2), result.output
    return {r["url"]: r for r in json.loads(result.stdout)["results"]}


def code(result: dict[str, Any]) -> str | None:
    return result["diagnosis"]["code"] if result["diagnosis"] else None


def config_text(servers: Servers, *, corp_hosts: str, partner_hosts: str) -> str:
    corp, p12 = servers.corp_client, servers.partner_client
    return (
        f"cacert = {json.dumps(str(servers.pki.root.cert))}\nretries = 0\nignore_robots = true\n\n"
        f"[[tls.client]]\nhosts = {corp_hosts}\ncert = {json.dumps(str(corp.chain))}\n"
        f'key = {json.dumps(str(corp.key))}\npassword_env = "CORP_KEY_PASSWORD"\n\n'
        f"[[tls.client]]\nhosts = {partner_hosts}\npkcs12 = {json.dumps(str(p12.p12))}\n"
        'password_env = "PARTNER_P12_PASSWORD"\n'
    )


def env_for(servers: Servers) -> dict[str, str]:
    corp, partner = servers.corp_client, servers.partner_client
    return {"CORP_KEY_PASSWORD": corp.password or "", "PARTNER_P12_PASSWORD": partner.password or ""}


def test_each_host_gets_the_certificate_its_table_names(servers: Servers, tmp_path: Path) -> None:
    text = config_text(servers, corp_hosts='["localhost"]', partner_hosts='["127.0.0.1"]')
    results = check(tmp_path, text, servers.corp, servers.partner, env=env_for(servers))
    for base in (servers.corp, servers.partner):
        assert results[base]["category"] == "ok", results[base]
        assert results[base + "inside.html"]["category"] == "ok"  # crawled on past the protected page


def test_swapped_certificates_are_rejected_by_both_hosts(servers: Servers, tmp_path: Path) -> None:
    text = config_text(servers, corp_hosts='["127.0.0.1"]', partner_hosts='["localhost"]')
    results = check(tmp_path, text, servers.corp, servers.partner, env=env_for(servers))
    for base in (servers.corp, servers.partner):
        assert results[base]["precise_status"] == 495
        assert code(results[base]) == "tls.client-cert-untrusted-ca"


def test_a_host_no_table_matches_gets_no_certificate(servers: Servers, tmp_path: Path) -> None:
    text = config_text(servers, corp_hosts='["localhost"]', partner_hosts='["*.partner.example"]')
    results = check(tmp_path, text, servers.corp, servers.partner, env=env_for(servers))
    assert results[servers.corp]["category"] == "ok"
    assert results[servers.partner]["precise_status"] == 496
    assert code(results[servers.partner]) == "tls.client-cert-required"


def test_a_missing_key_password_variable_stops_before_any_request(servers: Servers, tmp_path: Path) -> None:
    (tmp_path / "linkdoctor.toml").write_text(
        config_text(servers, corp_hosts='["localhost"]', partner_hosts='["127.0.0.1"]')
    )
    result = CliRunner().invoke(
        cli,
        ["check", "--config", str(tmp_path / "linkdoctor.toml"), "--no-progress", servers.corp],
        env={"CORP_KEY_PASSWORD": None, "PARTNER_P12_PASSWORD": None},
    )
    assert result.exit_code == 3
    assert (
        "tls.client[0].password_env: the environment variable CORP_KEY_PASSWORD is not set" in result.output
    )
