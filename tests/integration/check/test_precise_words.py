"""Real connection failures read as sentences with their codes, never as a library's internals, and a
private root is told from a missing intermediate: ``check`` and ``diagnose`` against a real nginx."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.x509.oid import ExtendedKeyUsageOID
from harness.nginx import NginxFactory, quote
from harness.ports import free_ports
from tests.support.pki import PKI, CertFiles

from linkdoctor.cli import cli
from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import CheckResult

pytestmark = pytest.mark.nginx

# What aiohttp and the ssl module put in their messages, which no report may carry.
INTERNALS = ("0x", "ssl:default", "SSLContext", "Connect call failed", "ssl:<", "object at")


@dataclass(frozen=True)
class Site:
    pki: PKI
    ports: dict[str, int]

    def url(self, name: str, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.ports[name]}/"


@pytest.fixture(scope="module")
def site(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> Site:
    pki = PKI(tmp_path_factory.mktemp("words-pki"))
    root = tmp_path_factory.mktemp("words-site")
    (root / "index.html").write_text("<p>ok</p>\n")
    names = ("private_leaf", "private_with_root", "nochain", "plain")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    # "Private": a self-signed root of its own (pki.rogue) that the checker is not told to trust.
    private = pki.issue(
        "words-private", issuer=pki.rogue, sans=("127.0.0.1",), eku=(ExtendedKeyUsageOID.SERVER_AUTH,)
    )
    with_root = pki.directory / "words-private-with-root.pem"
    with_root.write_bytes(private.cert.read_bytes() + pki.rogue.cert.read_bytes())
    via = pki.server_via_intermediate("words-via-intermediate")

    def tls(name: str, cert: CertFiles, chain: Path) -> str:
        return (
            f"server {{ listen 127.0.0.1:{ports[name]} ssl; root {quote(root)};\n"
            f"ssl_certificate {quote(chain)}; ssl_certificate_key {quote(cert.key)}; }}\n"
        )

    blocks = (
        tls("private_leaf", private, private.cert)
        + tls("private_with_root", private, with_root)
        + tls("nochain", via, via.cert)  # the leaf without its intermediate
        + f"server {{ listen 127.0.0.1:{ports['plain']}; root {quote(root)}; }}\n"
    )
    nginx_factory(blocks, "precise-words")
    return Site(pki, ports)


async def check(urls: list[str], pki: PKI) -> dict[str, CheckResult]:
    config = CheckConfig(retries=0, cacert=pki.root.cert, respect_robots=False, recursive=False)
    report = await check_async(config, collect_inputs([], url_lists=[("list", urls)]))
    return {r.url: r for r in report.results}


def code(result: CheckResult) -> str | None:
    return result.diagnosis.code if result.diagnosis else None


@pytest.mark.parametrize("name", ["private_leaf", "private_with_root"])
async def test_a_private_root_is_untrusted_with_the_client_fix_first(site: Site, name: str) -> None:
    result = (await check([site.url(name)], site.pki))[site.url(name)]

    assert code(result) == "tls.server-cert-untrusted"
    assert result.diagnosis is not None and "--cacert" in result.diagnosis.fix[0]


async def test_a_leaf_without_its_intermediate_is_an_incomplete_chain(site: Site) -> None:
    result = (await check([site.url("nochain")], site.pki))[site.url("nochain")]

    assert code(result) == "tls.server-cert-incomplete-chain"


async def test_real_connection_failures_are_sentences_with_codes(site: Site, closed_port: int) -> None:
    refused = f"http://127.0.0.1:{closed_port}/"
    plain = site.url("plain")  # https:// to a port that speaks plain HTTP
    results = await check([refused, plain, site.url("private_leaf")], site.pki)

    assert code(results[refused]) == "net.refused"
    assert (
        results[refused].error_message
        == f"connection refused by 127.0.0.1:{closed_port}: nothing listens on that port"
    )
    assert code(results[plain]) == "tls.handshake-failed"
    assert "not TLS" in results[plain].error_message
    assert results[site.url("private_leaf")].error_message.startswith("certificate verification failed: ")


def test_no_library_internals_anywhere_in_the_json_report(site: Site, closed_port: int) -> None:
    urls = [
        f"http://127.0.0.1:{closed_port}/",
        site.url("plain"),
        site.url("private_leaf"),
        site.url("nochain"),
    ]
    args = [
        "check",
        "--no-progress",
        "--retries",
        "0",
        "--no-recursive",
        "--ignore-robots",
        "--format",
        "json",
    ]
    result = CliRunner().invoke(cli, [*args, "--cacert", str(site.pki.root.cert), *urls])

    text = result.stdout
    json.loads(text)
    assert result.exit_code == 2
    for code_ in (
        "net.refused",
        "tls.handshake-failed",
        "tls.server-cert-untrusted",
        "tls.server-cert-incomplete-chain",
    ):
        assert code_ in text
    for internal in INTERNALS:
        assert internal not in text, internal


@pytest.mark.parametrize(
    ("name", "expected"),
    [("private_leaf", "tls.server-cert-untrusted"), ("nochain", "tls.server-cert-incomplete-chain")],
)
def test_diagnose_tells_a_private_root_from_a_missing_intermediate(
    site: Site, name: str, expected: str
) -> None:
    args = ["diagnose", site.url(name), "--cacert", str(site.pki.root.cert), "--format", "json"]
    result = CliRunner().invoke(cli, args)

    document = json.loads(result.stdout)
    finding = document["findings"][0]
    assert finding["code"] == expected
    if expected == "tls.server-cert-untrusted":
        assert "--cacert" in finding["fix"][0]
    else:
        assert "fullchain" in " ".join(finding["fix"])
    for internal in INTERNALS:
        assert internal not in result.stdout, internal
