"""``check`` against a real nginx doing mutual TLS, and other TLS servers: the precise status behind the
wire 400, the refined diagnosis, and crawling on past a protected page with a valid certificate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.nginx import NginxFactory, NginxServer, quote
from harness.ports import free_ports
from tests.integration.tls.tls_servers import start_openssl_server
from tests.support.pki import PKI, CertFiles

from linkdoctor.config import CheckConfig, ClientCert, Secret
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.errors import CertificateError
from linkdoctor.models import Category, CheckResult, Report

pytestmark = pytest.mark.nginx


@dataclass(frozen=True)
class MTLSSite:
    server: NginxServer
    pki: PKI
    ports: dict[str, int]

    def url(self, name: str, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.ports[name]}{path}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def site(nginx_factory: NginxFactory, pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> MTLSSite:
    root = tmp_path_factory.mktemp("mtls-site")
    (root / "index.html").write_text('<a href="secret.html">secret</a>\n<a href="admin/">admin</a>\n')
    (root / "secret.html").write_text('<a href="missing.html">gone</a>\n')
    (root / "admin").mkdir()
    (root / "admin" / "index.html").write_text("<p>admin</p>\n")
    good = pki.server("nginx-good")
    ca = pki.bundle("client-cas", [pki.root])
    names = ("on", "optional", "no_ca", "mapped", "close", "expired", "wronghost", "selfsigned", "nochain")
    ports = dict(zip(names, free_ports(len(names)), strict=True))

    def tls(name: str, cert: CertFiles, chain: Path | None = None) -> str:
        return (
            f"listen 127.0.0.1:{ports[name]} ssl; server_name localhost; root {quote(root)};\n"
            f"ssl_certificate {quote(chain or cert.chain)}; ssl_certificate_key {quote(cert.key)};\n"
            "ssl_protocols TLSv1.2 TLSv1.3;\n"
        )

    via_intermediate = pki.server_via_intermediate("nginx-via-intermediate")
    blocks = f"""
    server {{ {tls("on", good)} ssl_client_certificate {quote(ca)}; ssl_verify_client on; ssl_verify_depth 2; }}
    server {{ {tls("optional", good)} ssl_client_certificate {quote(ca)}; ssl_verify_client optional;
        location /admin/ {{ if ($ssl_client_verify != SUCCESS) {{ return 496; }} }} }}
    server {{ {tls("no_ca", good)} ssl_client_certificate {quote(ca)}; ssl_verify_client optional_no_ca; }}
    server {{ {tls("mapped", good)} ssl_client_certificate {quote(ca)}; ssl_verify_client on;
        error_page 495 496 =496 /cert-error.html; location = /cert-error.html {{ internal; return 496 "certificate needed"; }} }}
    server {{ {tls("close", good)} location /closed {{ return 444; }} }}
    server {{ {tls("expired", pki.server_expired("nginx-expired"))} }}
    server {{ {tls("wronghost", pki.server_wrong_host("nginx-wronghost"))} }}
    server {{ {tls("selfsigned", pki.server_self_signed("nginx-selfsigned"))} }}
    server {{ {tls("nochain", via_intermediate, chain=via_intermediate.cert)} }}
    """
    return MTLSSite(nginx_factory(blocks, "mtls-check"), pki, ports)


def config(pki: PKI, cert: CertFiles | None = None, **extra: object) -> CheckConfig:
    certs: tuple[ClientCert, ...] = ()
    if cert is not None:
        password = Secret(cert.password) if cert.password else None
        certs = (ClientCert(cert=cert.chain, key=cert.key, password=password),)
    return CheckConfig(retries=0, cacert=pki.root.cert, client_certs=certs, respect_robots=False, **extra)  # type: ignore[arg-type]


async def crawl(url: str, cfg: CheckConfig) -> dict[str, CheckResult]:
    report: Report = await check_async(cfg, collect_inputs([url]))
    return {r.url: r for r in report.results}


def code(result: CheckResult) -> str | None:
    return result.diagnosis.code if result.diagnosis else None


async def test_no_certificate_is_496_client_cert_required(site: MTLSSite) -> None:
    results = await crawl(site.url("on"), config(site.pki))
    start = results[site.url("on")]
    assert (start.status, start.precise_status) == (400, 496)
    assert start.category is Category.BROKEN
    assert code(start) == "tls.client-cert-required"
    assert "needs a client certificate (nginx 496)" in start.diagnosis.summary  # type: ignore[union-attr]


async def test_a_certificate_for_other_hosts_is_named_in_the_496_message(site: MTLSSite) -> None:
    cert = site.pki.client("check-client-elsewhere")
    other = ClientCert(cert=cert.chain, key=cert.key, hosts=("partner.example", "*.corp.example"))
    cfg = CheckConfig(retries=0, cacert=site.pki.root.cert, client_certs=(other,), respect_robots=False)
    start = (await crawl(site.url("on"), cfg))[site.url("on")]
    assert code(start) == "tls.client-cert-required"
    assert start.diagnosis is not None
    assert "configured, but for other hosts only (--cert-host partner.example, *.corp.example)" in (
        start.diagnosis.summary
    )
    assert "none was sent" not in start.diagnosis.summary
    assert start.diagnosis.fix[0].startswith("Add 127.0.0.1 to --cert-host")


async def test_accept_496_counts_it_as_ok(site: MTLSSite) -> None:
    results = await crawl(site.url("on"), config(site.pki, accept=frozenset({496})))
    assert results[site.url("on")].category is Category.OK


async def test_valid_certificate_is_ok_and_the_crawl_goes_on(site: MTLSSite) -> None:
    results = await crawl(site.url("on"), config(site.pki, site.pki.client("check-client")))
    assert results[site.url("on")].category is Category.OK
    assert results[site.url("on", "/secret.html")].category is Category.OK
    missing = results[site.url("on", "/missing.html")]
    assert code(missing) == "http.not-found"
    assert missing.referrers[0].url == site.url("on", "/secret.html")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (PKI.client_expired, "tls.client-cert-expired"),
        (PKI.client_rogue, "tls.client-cert-untrusted-ca"),
        (PKI.client_server_auth_only, "tls.client-cert-wrong-usage"),
        (PKI.client_not_yet_valid, "tls.client-cert-not-yet-valid"),
    ],
)
async def test_rejected_certificate_is_495_with_the_refined_code(
    site: MTLSSite, make: object, expected: str
) -> None:
    cert = make(site.pki, f"check-{expected}")  # type: ignore[operator]
    result = (await crawl(site.url("on"), config(site.pki, cert)))[site.url("on")]
    assert (result.status, result.precise_status) == (400, 495)
    assert code(result) == expected


async def test_untrusted_ca_names_the_accepted_cas(site: MTLSSite) -> None:
    result = (await crawl(site.url("on"), config(site.pki, site.pki.client_rogue("check-rogue-names"))))[
        site.url("on")
    ]
    assert "linkdoctor Test Root CA" in result.diagnosis.summary  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["via-intermediate", "encrypted-key", "pkcs12"])
async def test_every_credential_kind_authenticates(site: MTLSSite, kind: str) -> None:
    pki = site.pki
    if kind == "via-intermediate":
        cfg = config(pki, pki.client_via_intermediate("check-via-int"))
    elif kind == "encrypted-key":
        cfg = config(pki, pki.client_encrypted_key("check-enc"))
    else:
        p12 = pki.client_pkcs12("check-p12")
        cfg = CheckConfig(
            retries=0,
            cacert=pki.root.cert,
            client_certs=(ClientCert(pkcs12=p12.p12, password=Secret(p12.password or "")),),
        )
    results = await crawl(site.url("on"), cfg)
    assert results[site.url("on")].category is Category.OK


async def test_key_that_does_not_match_fails_before_any_request(site: MTLSSite) -> None:
    with pytest.raises(CertificateError, match="does not match"):
        await check_async(
            config(site.pki, site.pki.client_mismatched_key("check-mismatch")),
            collect_inputs([site.url("on")]),
        )


async def test_optional_mode_location_returning_496(site: MTLSSite) -> None:
    results = await crawl(site.url("optional"), config(site.pki))
    assert results[site.url("optional")].category is Category.OK
    admin = results[site.url("optional", "/admin/")]
    assert admin.precise_status == 496
    assert code(admin) == "tls.client-cert-required"


async def test_optional_no_ca_serves_without_a_certificate(site: MTLSSite) -> None:
    results = await crawl(site.url("no_ca"), config(site.pki))
    assert results[site.url("no_ca")].category is Category.OK


async def test_error_page_mapped_to_a_real_496_status_line(site: MTLSSite) -> None:
    result = (await crawl(site.url("mapped"), config(site.pki)))[site.url("mapped")]
    assert result.status == 496
    assert result.precise_status == 496
    assert code(result) == "tls.client-cert-required"


async def test_return_444_is_precise_444(site: MTLSSite) -> None:
    results = await crawl(site.url("close", "/closed"), config(site.pki))
    result = results[site.url("close", "/closed")]
    assert result.status is None
    assert result.precise_status == 444
    assert code(result) == "http.connection-closed-no-response"


async def test_plain_http_to_the_tls_port_is_497(site: MTLSSite) -> None:
    url = f"http://127.0.0.1:{site.ports['close']}/"
    result = (await crawl(url, config(site.pki)))[url]
    assert (result.status, result.precise_status) == (400, 497)
    assert code(result) == "http.plain-http-to-https-port"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("expired", "tls.server-cert-expired"),
        ("wronghost", "tls.server-cert-hostname-mismatch"),
        ("selfsigned", "tls.server-cert-self-signed"),
        ("nochain", "tls.server-cert-incomplete-chain"),
    ],
)
async def test_server_certificate_problems(site: MTLSSite, name: str, expected: str) -> None:
    result = (await crawl(site.url(name), config(site.pki)))[site.url(name)]
    assert result.category is Category.BROKEN
    assert code(result) == expected


@pytest.fixture(params=["1.3", "1.2"])
def openssl_mtls(request: pytest.FixtureRequest, pki: PKI) -> Iterator[str]:
    server = start_openssl_server(
        pki.server(f"s-server-{request.param}"), client_ca=pki.root.cert, tls=request.param
    )
    try:
        yield f"https://127.0.0.1:{server.port}/"
    finally:
        server.close()


async def test_non_nginx_server_refusing_in_the_handshake(openssl_mtls: str, pki: PKI) -> None:
    result = (await crawl(openssl_mtls, config(pki)))[openssl_mtls]
    assert result.category is Category.BROKEN
    assert code(result) == "tls.client-cert-required"


async def test_non_nginx_server_with_a_rogue_certificate(openssl_mtls: str, pki: PKI) -> None:
    result = (await crawl(openssl_mtls, config(pki, pki.client_rogue("s-server-rogue"))))[openssl_mtls]
    assert code(result) == "tls.client-cert-untrusted-ca"


def test_cli_encrypted_key_password_from_the_environment(site: MTLSSite) -> None:
    from click.testing import CliRunner

    from linkdoctor.cli import cli

    cert = site.pki.client_encrypted_key("cli-enc")
    args = ["check", "--no-progress", "--retries", "0", "--cacert", str(site.pki.root.cert)]
    args += [
        "--cert",
        str(cert.chain),
        "--key",
        str(cert.key),
        "--key-password-env",
        "CLIENT_KEY_PASS",
        site.url("on"),
    ]
    ok = CliRunner().invoke(cli, args, env={"CLIENT_KEY_PASS": cert.password or ""})
    assert ok.exit_code == 2, ok.output  # the crawl gets in and finds /missing.html
    assert "missing.html" in ok.stdout
    wrong = CliRunner().invoke(cli, args, env={"CLIENT_KEY_PASS": "not-the-password"})
    assert wrong.exit_code == 3
    assert "password" in wrong.stderr
    assert "not-the-password" not in wrong.output + wrong.stderr
    unset = CliRunner().invoke(cli, args, env={"CLIENT_KEY_PASS": None})
    assert unset.exit_code == 3
    assert "CLIENT_KEY_PASS" in unset.stderr
