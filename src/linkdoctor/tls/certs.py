"""Loading client credentials for mutual TLS, before any network traffic, and handing them to ``ssl``.

This module owns reading a :class:`~linkdoctor.config.ClientCert` spec into a verified
:class:`LoadedClientCert`: PEM certificates (with their chain in the same file), DER certificates, PEM
or DER keys (encrypted or not, or inside the certificate file) and PKCS#12 bundles. Every problem is a
:class:`ClientCertError` (a :class:`~linkdoctor.errors.CertificateError`, exit code 3) whose message
names the file and the fix, and never contains key material or passwords::

    loaded = load_client_cert(ClientCert(cert=Path("client.pem"), key=Path("client.key")))
    loaded.subject_text          # 'CN=client,O=example'

Handing a key to ``ssl``: in Python 3.11 ``ssl.SSLContext.load_cert_chain`` only reads files, and
there is no in-memory variant. :func:`install_client_cert` therefore serialises the certificate,
its chain and the key — re-encrypted with a random one-time password — into an anonymous in-memory
file (``memfd_create``, reachable through ``/proc/self/fd``) that never touches a disk. Where that is
not available it uses a file in a fresh private directory (mode 0700, file 0600) that is deleted as soon
as ``load_cert_chain`` returns: the context keeps the key in memory, so nothing outlives the call.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import ssl
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from linkdoctor.classify.tls import (
    CLIENT_CERT_EXPIRED,
    CLIENT_CERT_NOT_YET_VALID,
    CLIENT_CERT_REJECTED,
    CLIENT_CERT_UNTRUSTED_CA,
    CLIENT_CERT_WRONG_USAGE,
)
from linkdoctor.classify.tls import is_ca as is_ca  # inspected here too; the check itself is pure
from linkdoctor.config import ClientCert, Secret
from linkdoctor.errors import CertificateError

Source = Literal["pem", "der", "pkcs12"]
# Key types that can sign a TLS CertificateVerify (and that OpenSSL and pyOpenSSL accept).
SigningKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | dsa.DSAPrivateKey
)

KEY_MISMATCH: Final = "tls.client-cert-key-mismatch"

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----\r?\n?", re.DOTALL)
_CERT_LABELS: Final = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"})
_HINT_PASSWORD: Final = "give it with --key-password-env VAR or the interactive prompt"


class ClientCertError(CertificateError):
    """A client certificate or key that cannot be used; ``code`` names the diagnosis when there is one."""

    def __init__(self, message: str, *, path: Path | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.code = code


@dataclass(frozen=True)
class LoadedClientCert:
    """A client certificate whose key was read and checked to match it.

    ``chain`` holds the intermediates that came with it (leaf excluded), in file order. The private key
    is kept for the TLS layer but never shown in ``repr`` and never compared.
    """

    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    cert_path: Path
    key_path: Path | None
    source: Source
    private_key: SigningKey = field(repr=False, compare=False)

    @property
    def subject_text(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def issuer_text(self) -> str:
        return self.cert.issuer.rfc4514_string()

    def key_matches(self) -> bool:
        """Whether the private key belongs to the certificate (always true for a loaded certificate)."""
        return _public_der(self.private_key) == _cert_public_der(self.cert)


def load_client_cert(spec: ClientCert) -> LoadedClientCert:
    """Read and check the certificate and key that ``spec`` names.

    Example: ``loaded = load_client_cert(ClientCert(pkcs12=Path("client.p12"), password=secret))``.

    Raises :class:`ClientCertError` for a missing or unreadable file, a file that is not a certificate,
    an encrypted key without a password, a wrong password, a key that does not match the certificate,
    or a PKCS#12 bundle without a key.
    """
    if spec.pkcs12 is not None:
        if spec.cert is not None or spec.key is not None:
            raise ClientCertError("give either a PKCS#12 file or --cert/--key, not both", path=spec.pkcs12)
        return _load_pkcs12(spec.pkcs12, spec.password)
    if spec.cert is None:
        raise ClientCertError("a client certificate needs --cert (with --key) or --pkcs12")
    return _load_cert_and_key(spec.cert, spec.key, spec.password)


def install_client_cert(context: ssl.SSLContext, client: LoadedClientCert) -> None:
    """Load ``client`` (certificate, chain, key) into ``context`` without leaving the key on disk.

    See the module docstring for why a file is needed at all and how it is protected.
    """
    one_time = secrets.token_urlsafe(32)
    key_pem = client.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time.encode()),
    )
    certs_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (client.cert, *client.chain))
    with _private_file(certs_pem + key_pem) as path:
        try:
            context.load_cert_chain(path, password=one_time)
        except ssl.SSLError as exc:
            raise ClientCertError(
                f"OpenSSL refused the client certificate {client.cert_path}: {getattr(exc, 'reason', None) or exc}",
                path=client.cert_path,
            ) from None


# --- PKCS#12 ---------------------------------------------------------------------------------------


def _load_pkcs12(path: Path, password: Secret | None) -> LoadedClientCert:
    data = _read(path, "PKCS#12 file")
    if data.lstrip().startswith(b"-----BEGIN"):
        raise ClientCertError(f"{path} is a PEM file, not PKCS#12: pass it with --cert/--key", path=path)
    bundle = _open_pkcs12(path, data, password)
    if bundle.key is None:
        # cryptography files a certificate without its key under additional_certs, not cert.
        raise ClientCertError(
            f"{path} holds a certificate but no private key; export it again with its key "
            "(openssl pkcs12 -export -in client.pem -inkey client.key -out client.p12)",
            path=path,
        )
    if bundle.cert is None:
        raise ClientCertError(f"{path} holds a private key but no matching certificate", path=path)
    cert = bundle.cert.certificate
    key = _signing_key(bundle.key, path)
    _check_match(cert, key, path, path)
    chain = tuple(c.certificate for c in bundle.additional_certs)
    return LoadedClientCert(cert, chain, path, None, "pkcs12", key)


def _open_pkcs12(path: Path, data: bytes, password: Secret | None) -> pkcs12.PKCS12KeyAndCertificates:
    # Without a password, try "none" and then the empty password: tools disagree on which one an
    # unprotected bundle uses.
    candidates = [password.reveal().encode()] if password is not None else [None, b""]
    for candidate in candidates:
        try:
            return pkcs12.load_pkcs12(data, candidate)
        except ValueError as exc:
            # cryptography says "Invalid password or PKCS12 data" when the MAC or decryption fails and
            # "Could not deserialize" when the bytes are not PKCS#12 at all.
            if "deserialize" in str(exc).lower():
                raise ClientCertError(f"{path} is not a PKCS#12 file", path=path) from None
    if password is None:
        raise ClientCertError(f"{path} is password-protected; {_HINT_PASSWORD}", path=path)
    raise ClientCertError(f"the PKCS#12 password is wrong for {path}", path=path)


# --- PEM / DER certificate and key ----------------------------------------------------------------


def _load_cert_and_key(cert_path: Path, key_path: Path | None, password: Secret | None) -> LoadedClientCert:
    data = _read(cert_path, "client certificate")
    blocks = _pem_blocks(data)
    source: Source
    if blocks:
        certs = _pem_certificates(cert_path, blocks)
        source = "pem"
    else:
        certs = [_der_certificate(cert_path, data)]
        source = "der"
    leaf, chain = certs[0], tuple(certs[1:])

    if key_path is None:
        if not any(_is_key_label(label) for label, _ in blocks):
            raise ClientCertError(
                f"no private key for {cert_path}: give --key, or append the key to the certificate file",
                path=cert_path,
            )
        key = _load_key(cert_path, _pem_key_block(blocks), password)
    else:
        key_data = _read(key_path, "client key")
        key_blocks = _pem_blocks(key_data)
        if key_blocks and not any(_is_key_label(label) for label, _ in key_blocks):
            raise ClientCertError(f"{key_path} does not contain a private key", path=key_path)
        key = _load_key(key_path, _pem_key_block(key_blocks) if key_blocks else key_data, password)
    _check_match(leaf, key, cert_path, key_path or cert_path)
    return LoadedClientCert(leaf, chain, cert_path, key_path, source, key)


def _pem_certificates(path: Path, blocks: list[tuple[bytes, bytes]]) -> list[x509.Certificate]:
    cert_blocks = [block for label, block in blocks if label in _CERT_LABELS]
    if not cert_blocks:
        if any(_is_key_label(label) for label, _ in blocks):
            raise ClientCertError(f"{path} contains a private key but no certificate", path=path)
        labels = ", ".join(sorted({label.decode() for label, _ in blocks}))
        raise ClientCertError(f"{path} is not a certificate (PEM blocks found: {labels})", path=path)
    try:
        return x509.load_pem_x509_certificates(b"".join(cert_blocks))
    except ValueError:
        raise ClientCertError(f"{path} contains a damaged PEM certificate", path=path) from None


def _der_certificate(path: Path, data: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ClientCertError(f"{path} is not a certificate (neither PEM nor DER X.509)", path=path) from None


def _load_key(path: Path, data: bytes, password: Secret | None) -> SigningKey:
    is_pem = data.startswith(b"-----BEGIN")
    encrypted = is_pem and (data.startswith(b"-----BEGIN ENCRYPTED") or b"Proc-Type: 4,ENCRYPTED" in data)
    secret = password.reveal().encode() if password is not None else None
    loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
    try:
        try:
            key = loader(data, secret)
        except TypeError:
            if secret is None:
                raise ClientCertError(
                    f"the key {path} is encrypted and no password was given; {_HINT_PASSWORD}", path=path
                ) from None
            # A password for a key that is not encrypted is harmless: load the key without it.
            key = loader(data, None)
    except ValueError:
        if encrypted:
            raise ClientCertError(f"the key password is wrong for {path}", path=path) from None
        if secret is not None and not is_pem:
            raise ClientCertError(
                f"the key password is wrong for {path}, or it is not a DER private key", path=path
            ) from None
        raise ClientCertError(f"{path} is not a readable private key (PEM or DER)", path=path) from None
    return _signing_key(key, path)


# --- inspection -----------------------------------------------------------------------------------


def allows_client_auth(cert: x509.Certificate) -> bool:
    """Whether the extended key usage and key usage (when present) permit TLS client authentication.

    No extended key usage extension means any usage; a key usage extension must allow digitalSignature,
    since the client signs the handshake (CertificateVerify).
    """
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        pass
    else:
        if not {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}.intersection(
            eku
        ):
            return False
    try:
        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return key_usage.digital_signature


def reaches_acceptable_ca(
    leaf: x509.Certificate, chain: Sequence[x509.Certificate], acceptable: Sequence[x509.Name]
) -> bool:
    """Whether ``leaf``, following issuers through ``chain``, is issued by one of the ``acceptable`` CAs.

    A chain link counts only when the intermediate's key really signed the certificate below it.
    """
    names = set(acceptable)
    current = leaf
    for _ in range(len(chain) + 1):
        if current.issuer in names:
            return True
        parent = next((c for c in chain if c.subject == current.issuer and signed_by(current, c)), None)
        if parent is None or parent is current:
            return False
        current = parent
    return False


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key really signed ``cert`` (names alone prove nothing)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def refine_client_cert_rejection(
    cert: LoadedClientCert | None, acceptable_ca_names: Sequence[x509.Name] | None, now: datetime
) -> str:
    """Name the likely reason a server rejected ``cert``, from what can be checked locally.

    Returns ``tls.client-cert-expired``, ``tls.client-cert-not-yet-valid``, ``tls.client-cert-wrong-usage``
    (an extended key usage without clientAuth, or a key usage without digitalSignature),
    ``tls.client-cert-untrusted-ca`` (no path to the CAs the server listed, when it listed any), or
    ``tls.client-cert-rejected`` when nothing local explains it.
    """
    if cert is None:
        return CLIENT_CERT_REJECTED
    leaf = cert.cert
    if leaf.not_valid_after_utc < now:
        return CLIENT_CERT_EXPIRED
    if leaf.not_valid_before_utc > now:
        return CLIENT_CERT_NOT_YET_VALID
    if not allows_client_auth(leaf):
        return CLIENT_CERT_WRONG_USAGE
    if acceptable_ca_names and not reaches_acceptable_ca(leaf, cert.chain, acceptable_ca_names):
        return CLIENT_CERT_UNTRUSTED_CA
    return CLIENT_CERT_REJECTED


# OpenSSL's short names, so evidence reads like `openssl x509 -ext extendedKeyUsage` output.
EKU_NAMES: Final[Mapping[x509.ObjectIdentifier, str]] = MappingProxyType(
    {
        ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
        ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
        ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
        ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
        ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
        ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    }
)


def eku_text(cert: x509.Certificate) -> str:
    """The extended key usages of ``cert`` by their OpenSSL names, or a note that it has none."""
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "(none: any usage)"
    return ", ".join(EKU_NAMES.get(oid, oid.dotted_string) for oid in eku)


# --- helpers -------------------------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ClientCertError(f"{what} file not found: {path}", path=path) from None
    except IsADirectoryError:
        raise ClientCertError(f"{what} path is a directory, not a file: {path}", path=path) from None
    except PermissionError:
        raise ClientCertError(f"cannot read {what} file {path}: permission denied", path=path) from None
    except OSError as exc:
        raise ClientCertError(f"cannot read {what} file {path}: {exc.strerror}", path=path) from None


def _pem_blocks(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]


def _is_key_label(label: bytes) -> bool:
    return label.endswith(b"PRIVATE KEY")


def _pem_key_block(blocks: list[tuple[bytes, bytes]]) -> bytes:
    return next(block for label, block in blocks if _is_key_label(label))


def _signing_key(key: PrivateKeyTypes, path: Path) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    raise ClientCertError(
        f"the key in {path} ({type(key).__name__}) cannot sign, so it cannot authenticate a TLS client",
        path=path,
    )


def _check_match(cert: x509.Certificate, key: SigningKey, cert_path: Path, key_path: Path) -> None:
    if _public_der(key) != _cert_public_der(cert):
        where = f"the key in {key_path}" if key_path != cert_path else f"the key in {cert_path}"
        raise ClientCertError(
            f"{where} does not match the certificate {cert_path} (it belongs to another certificate)",
            path=key_path,
            code=KEY_MISMATCH,
        )


def _public_der(key: SigningKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _cert_public_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@contextlib.contextmanager
def _private_file(data: bytes) -> Iterator[str]:
    """Yield a path whose content is ``data``, readable only by this process, gone after the block."""
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None and os.path.isdir("/proc/self/fd"):
        fd = memfd_create("linkdoctor-client-cert", os.MFD_CLOEXEC)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="linkdoctor-") as directory:  # created with mode 0700
        path = os.path.join(directory, "client.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
