"""Certificate, key and CRL files for the nginx lint fixtures, generated once per test session.

A fixture's ``fixture.toml`` names the files its config needs and the *material* each one holds::

    [files]
    "tls/server.pem" = "server-cert"
    "tls/client-ca.pem" = "client-ca"

:class:`Materials` knows every material name (see :data:`MATERIALS`); ``materialize`` copies a fixture
folder to a temporary directory and writes the files it names. The certificates come from the shared
test PKI (``tests/support/pki.py``) plus the few shapes it does not make: deep CA chains, CRLs, and a
bundle of many public-looking roots.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.support.pki import CA, PKI, CertFiles

FIXTURES: Final = Path(__file__).parent / "fixtures"
SANDBOX: Final = FIXTURES / "sandbox.conf"
PASSPHRASE: Final = "fixture passphrase"
DIRECTORY: Final = "directory"  # a material that is a directory, i.e. a path nginx cannot read as a file
PUBLIC_ROOTS: Final = 25

_PEM = serialization.Encoding.PEM


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(_PEM) for c in certs)


def key_pem(key: ec.EllipticCurvePrivateKey, password: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, encryption)


@dataclass(frozen=True)
class Authority:
    """A CA made here (the shared PKI constrains intermediates to path length 0)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)


def make_ca(
    common_name: str,
    *,
    issuer: Authority | None = None,
    org: str = "linkdoctor fixtures",
    not_before: datetime,
    not_after: datetime,
) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    return Authority(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


def issue_client(issuer: Authority, common_name: str, now: datetime) -> tuple[bytes, bytes]:
    """A client certificate (PEM) and its key (PEM) issued by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer.key, hashes.SHA256())
    )
    return pem(cert), key_pem(key)


def make_crl(
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    last_update: datetime,
    next_update: datetime,
) -> bytes:
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(last_update)
        .next_update(next_update)
        .sign(issuer_key, hashes.SHA256())
    )
    return crl.public_bytes(_PEM)


class Materials:
    """Every material, made on first use from one PKI (so CRLs and CAs belong together)."""

    def __init__(self, directory: Path, now: datetime | None = None) -> None:
        self.directory = directory
        self.now = now or datetime.now(UTC)
        self._made: dict[str, bytes] = {}

    @cached_property
    def pki(self) -> PKI:
        return PKI(self.directory / "pki", now=self.now)

    def _pki_at(self, name: str, now: datetime) -> PKI:
        return PKI(self.directory / name, now=now, org=f"linkdoctor {name}")

    @cached_property
    def server(self) -> CertFiles:
        return self.pki.server_self_signed("server")

    @cached_property
    def server_via_intermediate(self) -> CertFiles:
        return self.pki.server_via_intermediate("server-via-intermediate")

    def _server_dated(self, name: str, not_before: datetime, not_after: datetime) -> CertFiles:
        return self.pki.issue(
            name, issuer=None, sans=("localhost",), not_before=not_before, not_after=not_after
        )

    @cached_property
    def server_expired(self) -> CertFiles:
        return self._server_dated(
            "server-expired", self.now - timedelta(days=90), self.now - timedelta(days=1)
        )

    @cached_property
    def server_expiring(self) -> CertFiles:
        return self._server_dated(
            "server-expiring", self.now - timedelta(days=80), self.now + timedelta(days=10)
        )

    @cached_property
    def client(self) -> CertFiles:
        return self.pki.client("client")

    @cached_property
    def upstream_client(self) -> CertFiles:
        return self.pki.client("upstream-client")

    @cached_property
    def deep_chain(self) -> tuple[Authority, Authority, Authority]:
        """root → policy CA → issuing CA (two intermediate levels)."""
        start, end = self.now - timedelta(days=30), self.now + timedelta(days=3650)
        root = make_ca("Deep Root CA", not_before=start, not_after=end)
        policy = make_ca("Deep Policy CA", issuer=root, not_before=start, not_after=end)
        issuing = make_ca("Deep Issuing CA", issuer=policy, not_before=start, not_after=end)
        return root, policy, issuing

    @cached_property
    def public_bundle(self) -> bytes:
        start, end = self.now - timedelta(days=30), self.now + timedelta(days=3650)
        roots = [
            make_ca(f"Public Root {i}", org=f"Public Trust Org {i}", not_before=start, not_after=end).cert
            for i in range(PUBLIC_ROOTS)
        ]
        return pem(*roots)

    def crl(self, ca: CA, *, expired: bool = False) -> bytes:
        if expired:
            return make_crl(
                ca.certificate,
                ca.private_key,
                last_update=self.now - timedelta(days=10),
                next_update=self.now - timedelta(days=3),
            )
        return make_crl(
            ca.certificate,
            ca.private_key,
            last_update=self.now - timedelta(hours=1),
            next_update=self.now + timedelta(days=7),
        )

    def get(self, name: str) -> bytes:
        if name not in self._made:
            if name not in MATERIALS:
                raise KeyError(f"unknown fixture material {name!r}; known: {', '.join(sorted(MATERIALS))}")
            self._made[name] = MATERIALS[name](self)
        return self._made[name]


def _read(path: Path | None) -> bytes:
    assert path is not None
    return path.read_bytes()


def _other_key(_: Materials) -> bytes:
    return key_pem(ec.generate_private_key(ec.SECP256R1()))


def _encrypted_server_key(m: Materials) -> bytes:
    assert m.server.private_key is not None
    return key_pem(m.server.private_key, PASSPHRASE)


MATERIALS: Final[dict[str, Callable[[Materials], bytes]]] = {
    # server certificates and keys
    "server-cert": lambda m: _read(m.server.cert),
    "server-key": lambda m: _read(m.server.key),
    "server-key-encrypted": _encrypted_server_key,
    "password-file": lambda _: f"not this one\n{PASSPHRASE}\n".encode(),
    "wrong-password-file": lambda _: b"not this one\nnor this\n",
    "server-fullchain": lambda m: _read(m.server_via_intermediate.chain),
    "server-leaf-only": lambda m: _read(m.server_via_intermediate.cert),
    "server-fullchain-key": lambda m: _read(m.server_via_intermediate.key),
    "server-cert-expired": lambda m: _read(m.server_expired.cert),
    "server-key-expired": lambda m: _read(m.server_expired.key),
    "server-cert-expiring": lambda m: _read(m.server_expiring.cert),
    "server-key-expiring": lambda m: _read(m.server_expiring.key),
    "other-key": _other_key,
    # client CAs
    "client-ca": lambda m: _read(m.pki.root.cert),
    "client-ca-chain": lambda m: pem(m.pki.intermediate.certificate, m.pki.root.certificate),
    "client-intermediate-only": lambda m: _read(m.pki.intermediate.cert),
    "client-ca-deep": lambda m: pem(*(a.cert for a in reversed(m.deep_chain))),
    "client-ca-expired": lambda m: _read(m._pki_at("expired-ca", m.now - timedelta(days=3660)).root.cert),
    "client-ca-not-yet-valid": lambda m: _read(
        m._pki_at("future-ca", m.now + timedelta(days=3660)).root.cert
    ),
    "client-leaf": lambda m: _read(m.client.cert),
    "public-bundle": lambda m: m.public_bundle,
    "garbage": lambda _: b"this is not a certificate\n",
    # CRLs (issued by the client CA of "client-ca" / "client-ca-chain" unless named otherwise)
    "crl-root": lambda m: m.crl(m.pki.root),
    "crl-root-and-intermediate": lambda m: m.crl(m.pki.root) + m.crl(m.pki.intermediate),
    "crl-intermediate": lambda m: m.crl(m.pki.intermediate),
    "crl-expired": lambda m: m.crl(m.pki.root, expired=True),
    "crl-rogue": lambda m: m.crl(m.pki.rogue),
    # TLS towards an upstream
    "upstream-ca": lambda m: _read(m.pki.rogue.cert),
    "upstream-client-cert": lambda m: _read(m.upstream_client.cert),
    "upstream-client-key": lambda m: _read(m.upstream_client.key),
}


@dataclass(frozen=True)
class NginxTest:
    """What ``nginx -t`` said about a configuration."""

    ok: bool
    output: str


@dataclass(frozen=True)
class FixtureSpec:
    """A fixture folder and its ``fixture.toml``."""

    rule: str  # "LDN001", or "" for fixtures that belong to no rule (the README example)
    name: str
    folder: Path
    description: str
    expect: str  # "trigger" or "clean"
    nginx_t: str | None  # "ok" / "fail": what `nginx -t` says, checked against the real nginx
    also: tuple[str, ...]  # other rules this fixture may trigger
    nginx_version: str
    files: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.rule or 'example'}/{self.name}"


def load_fixture(folder: Path) -> FixtureSpec:
    data: dict[str, Any] = tomllib.loads((folder / "fixture.toml").read_text(encoding="utf-8"))
    rule = folder.parent.name if folder.parent.name.startswith("LDN") else ""
    expect = data.get("expect", "clean")
    assert expect in ("trigger", "clean"), f"{folder}: expect must be trigger or clean"
    return FixtureSpec(
        rule=rule,
        name=folder.name,
        folder=folder,
        description=data.get("description", ""),
        expect=expect,
        nginx_t=data.get("nginx_t"),
        also=tuple(data.get("also", ())),
        nginx_version=data.get("nginx_version", "1.22.1"),
        files=dict(data.get("files", {})),
    )


def expected_locations(folder: Path) -> frozenset[tuple[str, int]]:
    """``(file name, line)`` of every line marked ``# expect`` in the fixture's config files."""
    return frozenset(
        (conf.relative_to(folder).as_posix(), number)
        for conf in sorted(folder.glob("**/*.conf"))
        for number, line in enumerate(conf.read_text(encoding="utf-8").splitlines(), start=1)
        if "# expect" in line
    )


def all_fixtures() -> tuple[FixtureSpec, ...]:
    return tuple(load_fixture(p.parent) for p in sorted(FIXTURES.glob("**/fixture.toml")))


def materialize(spec: FixtureSpec, materials: Materials, target: Path) -> Path:
    """Copy the fixture to ``target`` with its materials and the sandbox include; return its nginx.conf.

    The sandbox (``access_log off`` and temp paths under the prefix) is added on the ``http {`` line
    itself, so every line number stays as written in the fixture.
    """
    shutil.copytree(spec.folder, target, ignore=shutil.ignore_patterns("fixture.toml"))
    shutil.copy(SANDBOX, target / SANDBOX.name)
    (target / "temp").mkdir()
    conf = target / "nginx.conf"
    text = conf.read_text(encoding="utf-8")
    if "http {" in text:
        text = text.replace("http {", f"http {{ include {SANDBOX.name};", 1)
    conf.write_text(text, encoding="utf-8")
    for relative, material in spec.files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if material == DIRECTORY:
            path.mkdir(exist_ok=True)
        else:
            path.write_bytes(materials.get(material))
    return conf
