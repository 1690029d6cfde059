"""Fixtures for the doctor's integration tests: one nginx with a server block per client-auth mode and per
server-certificate problem, ``openssl s_server -Verify 1`` on TLS 1.3 and 1.2, and a certificate for
every case the doctor must get right.

* ``doctor_pki`` — a :class:`~tests.support.pki.PKI` (session), with :class:`ClientCerts` in ``certs``.
* ``doctor_site`` — the running nginx and its ports by mode name (session).
* ``verdicts`` — runs the doctor for a named :class:`Case` once per session, from inside the PKI folder so
  that certificate paths (and so the golden files) are short and stable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness.nginx import NginxFactory, NginxServer, quote
from harness.ports import free_ports
from tests.integration.tls.tls_servers import OpenSSLServer, start_openssl_server
from tests.support.pki import CA, PKI, CertFiles

from linkdoctor.config import ClientCert, Secret
from linkdoctor.doctor import DoctorOptions, Verdict, diagnose


@dataclass(frozen=True)
class ClientCerts:
    """One certificate per case, issued once per session."""

    good: CertFiles
    encrypted: CertFiles
    expired: CertFiles
    not_yet_valid: CertFiles
    rogue: CertFiles
    server_auth_only: CertFiles
    mismatched: CertFiles
    via_intermediate: CertFiles
    deep: CertFiles
    pkcs12: CertFiles
    pkcs12_without_key: CertFiles


@dataclass(frozen=True)
class DoctorSite:
    server: NginxServer
    ports: dict[str, int]

    def url(self, name: str, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.ports[name]}{path}"


@dataclass(frozen=True)
class Case:
    """One verdict the doctor must get right: which server, which certificate, and what must lead."""

    name: str
    server: str
    cert: str | None  # a ClientCerts field; the leaf file alone unless ``send_chain``
    lead: str | None  # the leading finding's code (None: no finding at all)
    actor: str | None
    fix: str  # a fragment of the leading finding's fix steps
    path: str = "/"
    send_chain: bool = False


CASES: tuple[Case, ...] = (
    Case("no-certificate", "on", None, "tls.client-cert-required", "client", "issued by one of: CN=linkdoctor Test Root CA"),
    Case("expired", "on", "expired", "tls.client-cert-expired", "client", "Renew the certificate"),
    Case("not-yet-valid", "on", "not_yet_valid", "tls.client-cert-not-yet-valid", "client", "clocks are right"),
    Case("untrusted-ca", "on", "rogue", "tls.client-cert-untrusted-ca", "client", "from one of: CN=linkdoctor Test Root CA"),
    Case("eku-missing", "on", "server_auth_only", "tls.client-cert-wrong-usage", "client", "extendedKeyUsage = clientAuth"),
    Case("key-mismatch", "on", "mismatched", "tls.client-cert-key-mismatch", "client", "openssl pkey -pubout"),
    Case("intermediate-missing", "on", "via_intermediate", "tls.client-cert-chain-incomplete", "client", "intermediate.pem >"),
    Case("chain-too-deep", "depth", "deep", "tls.client-cert-chain-too-deep", "operator", "ssl_verify_depth 3;", send_chain=True),
    Case("optional-public", "optional", None, "tls.client-auth-not-enforced", "operator", "ssl_verify_client on;"),
    Case("server-expired", "expired", None, "tls.server-cert-expired", "operator", "ssl_certificate "),
    Case("server-wrong-host", "wronghost", None, "tls.server-cert-hostname-mismatch", "operator", "subjectAltName includes 127.0.0.1"),
    Case("server-incomplete-chain", "nochain", None, "tls.server-cert-incomplete-chain", "operator", "fullchain.pem"),
    Case("server-self-signed", "selfsigned", None, "tls.server-cert-self-signed", "operator", "trusted CA"),
    Case("never-requested", "plain", None, "tls.client-cert-never-requested", "operator", "ssl_verify_client optional;", path="/admin/"),
    Case("never-requested-with-cert", "plain", "good", "tls.client-cert-never-requested", "operator", "rule LDN008", path="/admin/"),
    # a host that asks for nothing redirecting to one that requires a certificate: the 496 is the target's
    Case("redirect-to-mtls", "sso", None, "tls.client-cert-required", "client", "--cert/--key"),
    Case("redirect-to-mtls-with-cert", "sso", "good", None, None, ""),
    Case("healthy", "on", "good", None, None, ""),
)  # fmt: skip


def client_cert(files: CertFiles, *, send_chain: bool = False) -> ClientCert:
    """The --cert/--key pair for ``files``, as paths relative to the PKI folder."""
    password = Secret(files.password) if files.password else None
    cert = files.chain if send_chain else files.cert
    return ClientCert(cert=Path(cert.name), key=Path(files.key.name), password=password)


def _sub_ca(pki: PKI, name: str, common_name: str, parent: CA, path_length: int | None) -> CA:
    """An intermediate CA that may itself issue CAs (the PKI's own intermediates may not)."""
    key = ec.generate_private_key(ec.SECP256R1())
    ski = parent.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    subject = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, pki.org),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name),
        ]
    )
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(parent.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.now - timedelta(days=30))
        .not_valid_after(pki.now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(parent.private_key, hashes.SHA256())
    )
    cert_path = pki.directory / f"{name}.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path = pki.directory / f"{name}.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return CA(name, cert_path, key_path, certificate, key, parent)


@pytest.fixture(scope="session")
def doctor_pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("doctor-pki"))


@pytest.fixture(scope="session")
def certs(doctor_pki: PKI) -> ClientCerts:
    pki = doctor_pki
    upper = _sub_ca(pki, "deep-upper", "linkdoctor Deep Upper CA", pki.root, path_length=1)
    lower = _sub_ca(pki, "deep-lower", "linkdoctor Deep Lower CA", upper, path_length=0)
    return ClientCerts(
        good=pki.client("doctor-good"),
        encrypted=pki.client_encrypted_key("doctor-encrypted"),
        expired=pki.client_expired("doctor-expired"),
        not_yet_valid=pki.client_not_yet_valid("doctor-not-yet-valid"),
        rogue=pki.client_rogue("doctor-rogue"),
        server_auth_only=pki.client_server_auth_only("doctor-server-auth-only"),
        mismatched=pki.client_mismatched_key("doctor-mismatched"),
        via_intermediate=pki.client_via_intermediate("doctor-via"),
        deep=pki.issue("doctor-deep", issuer=lower),
        pkcs12=pki.client_pkcs12("doctor-p12"),
        pkcs12_without_key=pki.client_pkcs12_without_key("doctor-p12-nokey"),
    )


@pytest.fixture(scope="session")
def doctor_site(nginx_factory: NginxFactory, doctor_pki: PKI) -> DoctorSite:
    pki = doctor_pki
    good = pki.server("doctor-server")
    via = pki.server_via_intermediate("doctor-server-via")
    names = (
        "on",
        "depth",
        "optional",
        "t12",
        "t13",
        "plain",
        "expired",
        "wronghost",
        "selfsigned",
        "nochain",
        "sso",
    )
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    ca = f"ssl_client_certificate {quote(pki.root.cert)};"

    def block(
        name: str, extra: str, cert: CertFiles = good, chain: Path | None = None, tls: str = "TLSv1.2 TLSv1.3"
    ) -> str:
        return f"""
        server {{
            listen 127.0.0.1:{ports[name]} ssl; server_name localhost;
            ssl_certificate {quote(chain or cert.chain)}; ssl_certificate_key {quote(cert.key)};
            ssl_protocols {tls};
            {extra}
            location / {{ default_type text/plain; return 200 "ok\\n"; }}
            location /admin/ {{
                default_type text/plain;
                if ($ssl_client_verify != SUCCESS) {{ return 496; }}
                return 200 "admin\\n";
            }}
        }}"""

    blocks = "".join(
        (
            block("on", f"{ca} ssl_verify_client on; ssl_verify_depth 2;"),
            block("depth", f"{ca} ssl_verify_client on;"),  # nginx's default ssl_verify_depth 1
            block("optional", f"{ca} ssl_verify_client optional; ssl_verify_depth 2;"),
            block("t12", f"{ca} ssl_verify_client on;", tls="TLSv1.2"),
            block("t13", f"{ca} ssl_verify_client on;", tls="TLSv1.3"),
            block("plain", ""),
            block("expired", "", pki.server_expired("doctor-server-expired")),
            block("wronghost", "", pki.server_wrong_host("doctor-server-wronghost")),
            block("selfsigned", "", pki.server_self_signed("doctor-server-selfsigned")),
            block("nochain", "", via, chain=via.cert),
            block("sso", f"return 302 https://127.0.0.1:{ports['on']}$request_uri;"),
        )
    )  # fmt: skip
    return DoctorSite(nginx_factory(blocks, "doctor"), ports)


@pytest.fixture(params=["1.3", "1.2"])
def openssl_mtls(request: pytest.FixtureRequest, doctor_pki: PKI) -> Iterator[OpenSSLServer]:
    """``openssl s_server -Verify 1 -verify_return_error`` trusting the test root, on one TLS version."""
    server = start_openssl_server(
        doctor_pki.server(f"doctor-s-server-{request.param}"),
        client_ca=doctor_pki.root.cert,
        tls=request.param,
    )
    try:
        yield server
    finally:
        server.close()


def run_doctor(
    pki: PKI, url: str, client: ClientCert | None = None, *, password_env: str | None = None
) -> Verdict:
    """The doctor's verdict for ``url``, run from the PKI folder (paths in ``client`` are relative to it)."""
    with contextlib.chdir(pki.directory):
        options = DoctorOptions(
            client=client, cafile=Path("root.pem"), timeout=5.0, password_env=password_env
        )
        return asyncio.run(diagnose(url, options))


@dataclass
class VerdictCache:
    """Each case's verdict, computed on first use and shared by the tests that read it."""

    run: Callable[[Case], Verdict]
    seen: dict[str, Verdict] = field(default_factory=dict)

    def __call__(self, case: Case) -> Verdict:
        if case.name not in self.seen:
            self.seen[case.name] = self.run(case)
        return self.seen[case.name]


@pytest.fixture(scope="session")
def verdicts(doctor_pki: PKI, certs: ClientCerts, doctor_site: DoctorSite) -> VerdictCache:
    def run(case: Case) -> Verdict:
        client = None
        if case.cert is not None:
            client = client_cert(getattr(certs, case.cert), send_chain=case.send_chain)
        return run_doctor(doctor_pki, doctor_site.url(case.server, case.path), client)

    return VerdictCache(run)
