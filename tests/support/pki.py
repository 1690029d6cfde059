"""A test certificate factory: CAs, server and client certificates written to files, built with cryptography.

One :class:`PKI` per directory creates a root CA, an intermediate CA under it and an unrelated "rogue" CA,
and issues leaf certificates on demand. Every leaf comes back as a frozen :class:`CertFiles` holding the
paths a test (or a server config) needs::

    pki = PKI(tmp_path)
    server = pki.server()                      # valid for 127.0.0.1 and localhost, issued by the root
    client = pki.client()                      # clientAuth, issued by the root
    locked = pki.client_encrypted_key()        # key file encrypted with locked.password
    bundle = pki.client_pkcs12()               # client.p12 protected by bundle.password

    nginx: ssl_certificate {server.chain}; ssl_certificate_key {server.key};
           ssl_client_certificate {pki.root.cert};

Keys are EC P-256 so that a test session can mint dozens of them quickly. Files are named after the
``name`` given to each factory method, so one directory can hold many certificates side by side.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

DEFAULT_PASSWORD = "correct horse battery staple"
DEFAULT_SANS = ("localhost", "127.0.0.1")

_PEM = serialization.Encoding.PEM


@dataclass(frozen=True)
class CA:
    """A certificate authority: its certificate (PEM file and object) and its signing key."""

    name: str
    cert: Path
    key: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    parent: CA | None = None

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The CA certificates between this CA and its root, this one first (empty for a root)."""
        if self.parent is None:
            return ()
        return (self.certificate, *self.parent.intermediates)


@dataclass(frozen=True)
class CertFiles:
    """One issued certificate and the files written for it.

    ``cert`` is the leaf alone (PEM); ``key`` its private key (PEM, encrypted when ``password`` is set and
    ``p12`` is None); ``chain`` the leaf followed by its intermediates; ``der`` the leaf in DER;
    ``combined`` the leaf, its intermediates and the key in one PEM file; ``p12`` a PKCS#12 bundle
    protected by ``password``.
    """

    name: str
    cert: Path
    key: Path
    chain: Path
    der: Path
    combined: Path
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey | None = field(repr=False)
    issuer: CA | None
    p12: Path | None = None
    password: str | None = field(default=None, repr=False)


class PKI:
    """Creates CAs and issues certificates into ``directory``; ``now`` pins every validity window."""

    def __init__(
        self, directory: Path, *, now: datetime | None = None, org: str = "linkdoctor tests"
    ) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.now = now or datetime.now(UTC)
        self.org = org
        self.root = self.new_ca("root", "linkdoctor Test Root CA")
        self.intermediate = self.new_ca("intermediate", "linkdoctor Test Intermediate CA", parent=self.root)
        self.rogue = self.new_ca("rogue", "Rogue CA")

    # --- certificate authorities -------------------------------------------------------------------

    def new_ca(self, name: str, common_name: str, *, parent: CA | None = None) -> CA:
        """A CA certificate (a self-signed root, or an intermediate signed by ``parent``)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = self._name(common_name)
        builder = (
            self._base(subject, key, parent.subject if parent else subject)
            .not_valid_before(self.now - timedelta(days=3650))
            .not_valid_after(self.now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0 if parent else None), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        signer = parent.private_key if parent else key
        if parent is not None:
            builder = builder.add_extension(_aki(parent), critical=False)
        certificate = builder.sign(signer, hashes.SHA256())
        cert_path = self._write(f"{name}.pem", certificate.public_bytes(_PEM))
        key_path = self._write(f"{name}.key", _key_pem(key, None))
        return CA(name, cert_path, key_path, certificate, key, parent)

    def bundle(self, name: str, cas: Sequence[CA]) -> Path:
        """A PEM file concatenating the certificates of ``cas`` (a CA bundle)."""
        return self._write(f"{name}.pem", b"".join(ca.certificate.public_bytes(_PEM) for ca in cas))

    # --- the generic issuer ------------------------------------------------------------------------

    def issue(
        self,
        name: str,
        *,
        issuer: CA | None,
        common_name: str | None = None,
        sans: Sequence[str] = (),
        eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.CLIENT_AUTH,),
        key_usage: x509.KeyUsage | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        password: str | None = None,
    ) -> CertFiles:
        """Issue one leaf certificate signed by ``issuer`` (self-signed when None) and write its files.

        ``eku=None`` omits the extended key usage extension; ``password`` encrypts the key file.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        subject = self._name(common_name or name)
        builder = (
            self._base(subject, key, issuer.subject if issuer else subject)
            .not_valid_before(not_before or self.now - timedelta(days=1))
            .not_valid_after(not_after or self.now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage or _key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(_general_names(sans)), critical=False)
        if issuer is not None:
            builder = builder.add_extension(_aki(issuer), critical=False)
        if issuer is not None and issuer.parent is not None:
            # As public CAs do, an intermediate's leaves say where the intermediate is published: the mark
            # that tells a missing intermediate from a private root issuing directly.
            builder = builder.add_extension(_ca_issuers(issuer), critical=False)
        certificate = builder.sign(issuer.private_key if issuer else key, hashes.SHA256())

        leaf_pem = certificate.public_bytes(_PEM)
        chain_pem = leaf_pem + b"".join(
            c.public_bytes(_PEM) for c in (issuer.intermediates if issuer else ())
        )
        key_pem = _key_pem(key, password)
        return CertFiles(
            name=name,
            cert=self._write(f"{name}.pem", leaf_pem),
            key=self._write(f"{name}.key", key_pem),
            chain=self._write(f"{name}-chain.pem", chain_pem),
            der=self._write(f"{name}.der", certificate.public_bytes(serialization.Encoding.DER)),
            combined=self._write(f"{name}-combined.pem", chain_pem + key_pem),
            certificate=certificate,
            private_key=key,
            issuer=issuer,
            password=password,
        )

    # --- server certificates -----------------------------------------------------------------------

    def server(self, name: str = "server", *, sans: Sequence[str] = DEFAULT_SANS) -> CertFiles:
        """A valid server certificate for 127.0.0.1 and localhost, issued by the root."""
        return self._server(name, issuer=self.root, sans=sans)

    def server_expired(self, name: str = "server-expired") -> CertFiles:
        return self._server(
            name,
            issuer=self.root,
            not_before=self.now - timedelta(days=60),
            not_after=self.now - timedelta(days=1),
        )

    def server_not_yet_valid(self, name: str = "server-not-yet-valid") -> CertFiles:
        return self._server(
            name,
            issuer=self.root,
            not_before=self.now + timedelta(days=2),
            not_after=self.now + timedelta(days=60),
        )

    def server_wrong_host(self, name: str = "server-wrong-host") -> CertFiles:
        """Valid and trusted, but only for ``wrong.example`` (not 127.0.0.1 nor localhost)."""
        return self._server(name, issuer=self.root, sans=("wrong.example",))

    def server_self_signed(self, name: str = "server-self-signed") -> CertFiles:
        return self._server(name, issuer=None)

    def server_via_intermediate(self, name: str = "server-via-intermediate") -> CertFiles:
        """Issued by the intermediate: serve ``chain`` for a complete chain, ``cert`` (leaf only) for an
        incomplete one."""
        return self._server(name, issuer=self.intermediate)

    def _server(
        self,
        name: str,
        *,
        issuer: CA | None,
        sans: Sequence[str] = DEFAULT_SANS,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> CertFiles:
        return self.issue(
            name,
            issuer=issuer,
            sans=sans,
            eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
            not_before=not_before,
            not_after=not_after,
        )

    # --- client certificates -----------------------------------------------------------------------

    def client(self, name: str = "client", *, days_left: float = 365) -> CertFiles:
        """A valid client certificate (clientAuth) issued by the root, expiring in ``days_left`` days."""
        return self.issue(name, issuer=self.root, not_after=self.now + timedelta(days=days_left))

    def client_via_intermediate(self, name: str = "client-via-intermediate") -> CertFiles:
        """Issued by the intermediate; ``chain`` (and ``combined``) carry the intermediate, ``cert`` not."""
        return self.issue(name, issuer=self.intermediate)

    def client_expired(self, name: str = "client-expired") -> CertFiles:
        return self.issue(
            name,
            issuer=self.root,
            not_before=self.now - timedelta(days=60),
            not_after=self.now - timedelta(days=1),
        )

    def client_not_yet_valid(self, name: str = "client-not-yet-valid") -> CertFiles:
        return self.issue(
            name,
            issuer=self.root,
            not_before=self.now + timedelta(days=1),
            not_after=self.now + timedelta(days=60),
        )

    def client_rogue(self, name: str = "client-rogue") -> CertFiles:
        """A well-formed client certificate from a CA no test server trusts."""
        return self.issue(name, issuer=self.rogue)

    def client_server_auth_only(self, name: str = "client-server-auth-only") -> CertFiles:
        """Extended key usage serverAuth only: not allowed for client authentication."""
        return self.issue(name, issuer=self.root, eku=(ExtendedKeyUsageOID.SERVER_AUTH,))

    def client_no_eku(self, name: str = "client-no-eku") -> CertFiles:
        """No extended key usage extension at all (which allows any usage)."""
        return self.issue(name, issuer=self.root, eku=None)

    def client_wrong_key_usage(self, name: str = "client-wrong-key-usage") -> CertFiles:
        """Key usage keyAgreement only (no digitalSignature), so it cannot sign the handshake."""
        return self.issue(name, issuer=self.root, key_usage=_key_usage(digital_signature=False))

    def client_mismatched_key(self, name: str = "client-mismatched-key") -> CertFiles:
        """``key`` belongs to another certificate; ``private_key`` is that other (wrong) key."""
        files = self.issue(name, issuer=self.root)
        other = ec.generate_private_key(ec.SECP256R1())
        key_path = self._write(f"{name}.key", _key_pem(other, None))
        combined = self._write(f"{name}-combined.pem", files.chain.read_bytes() + _key_pem(other, None))
        return replace(files, key=key_path, combined=combined, private_key=other)

    def client_encrypted_key(
        self, name: str = "client-encrypted", password: str = DEFAULT_PASSWORD
    ) -> CertFiles:
        """The key file is encrypted with ``password`` (also returned as ``files.password``)."""
        return self.issue(name, issuer=self.root, password=password)

    def client_pkcs12(
        self,
        name: str = "client-p12",
        password: str = DEFAULT_PASSWORD,
        *,
        via_intermediate: bool = False,
    ) -> CertFiles:
        """A PKCS#12 bundle (certificate, key, and intermediates if any) protected by ``password``."""
        files = self.issue(name, issuer=self.intermediate if via_intermediate else self.root)
        assert files.issuer is not None
        data = pkcs12.serialize_key_and_certificates(
            name.encode(),
            files.private_key,
            files.certificate,
            list(files.issuer.intermediates) or None,
            _p12_encryption(password),
        )
        return replace(files, p12=self._write(f"{name}.p12", data), password=password)

    def client_pkcs12_without_key(
        self, name: str = "client-p12-nokey", password: str = DEFAULT_PASSWORD
    ) -> CertFiles:
        """A PKCS#12 bundle holding only the certificate: unusable for client authentication."""
        files = self.issue(name, issuer=self.root)
        data = pkcs12.serialize_key_and_certificates(
            name.encode(), None, files.certificate, None, _p12_encryption(password)
        )
        return replace(files, p12=self._write(f"{name}.p12", data), password=password)

    # --- helpers -----------------------------------------------------------------------------------

    def _name(self, common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.org),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    def _base(
        self, subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
        )

    def _write(self, filename: str, data: bytes) -> Path:
        path = self.directory / filename
        path.write_bytes(data)
        return path


def _key_usage(*, cert_sign: bool = False, digital_signature: bool = True) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature and not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not digital_signature,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _aki(issuer: CA) -> x509.AuthorityKeyIdentifier:
    ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _ca_issuers(issuer: CA) -> x509.AuthorityInformationAccess:
    location = x509.UniformResourceIdentifier(f"http://pki.invalid/{issuer.name}.der")
    return x509.AuthorityInformationAccess(
        [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, location)]
    )


def _general_names(sans: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for san in sans:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(san)))
        except ValueError:
            names.append(x509.DNSName(san))
    return names


def _key_pem(key: ec.EllipticCurvePrivateKey, password: str | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, encryption)


def _p12_encryption(password: str) -> serialization.KeySerializationEncryption:
    # The modern PBES2/AES profile that OpenSSL 3 writes by default (not the legacy RC2/3DES one).
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode())
    )
