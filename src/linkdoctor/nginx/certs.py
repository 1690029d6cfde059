"""The certificate, key and CRL files a configuration names: reading them once per run, and the facts
rules need about them (is it a CA, who issued it, how many intermediates a CA file holds, does a key fit).

Reading never raises: a file that is missing, unreadable or holds nothing usable comes back with a
``problem`` sentence, because that is itself a finding::

    files = FileReader()
    ca = files.certificates(Path("/etc/nginx/client-ca.pem"))
    if ca.problem:
        print(ca.path, ca.problem)        # "does not exist"

Private keys and passphrases are only ever compared, never shown.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

_KEY_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL)
_CRL_BLOCK = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
# The largest certificate, key or CRL file read. The biggest honest one, a distribution's CA bundle, is
# about 220 KB; a path naming /dev/zero or a disk image must not be read into memory.
MAX_FILE_BYTES = 16 * 1024 * 1024
# How many certificates named like a certificate's issuer are tried as that issuer (see _Issuers).
MAX_SAME_NAME = 8


@dataclass(frozen=True, slots=True)
class CertFile:
    """The PEM certificates of one file, in file order, or the ``problem`` that kept us from reading it."""

    path: Path
    certificates: tuple[x509.Certificate, ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class CrlFile:
    """The PEM CRLs of one file, or the ``problem`` that kept us from reading it."""

    path: Path
    crls: tuple[x509.CertificateRevocationList, ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A private key (``key`` is ``None`` when ``problem`` says why it could not be loaded)."""

    path: Path
    key: PrivateKeyTypes | None = None
    problem: str | None = None
    encrypted: bool = False


class FileReader:
    """Reads and caches the files one lint run looks at; ``read_bytes`` is injectable for tests."""

    def __init__(self, read_bytes: Callable[[Path], bytes] | None = None) -> None:
        self._read_bytes = read_bytes or read_regular_file
        self._raw: dict[Path, bytes | str] = {}
        self._certs: dict[Path, CertFile] = {}
        self._crls: dict[Path, CrlFile] = {}

    def raw(self, path: Path) -> bytes | str:
        """The file's bytes, or a sentence saying why it cannot be read."""
        if path not in self._raw:
            try:
                self._raw[path] = self._read_bytes(path)
            except OSError as exc:
                self._raw[path] = _os_problem(exc)
            except ValueError:  # a NUL byte in the name: no file can have it
                self._raw[path] = "cannot be read (its name holds a NUL byte)"
        return self._raw[path]

    def certificates(self, path: Path) -> CertFile:
        if path not in self._certs:
            data = self.raw(path)
            if isinstance(data, str):
                self._certs[path] = CertFile(path, problem=data)
            else:
                try:
                    with _quiet():
                        loaded = tuple(x509.load_pem_x509_certificates(data))
                    self._certs[path] = CertFile(path, loaded)
                except ValueError:
                    self._certs[path] = CertFile(path, problem="holds no PEM certificate")
        return self._certs[path]

    def crls(self, path: Path) -> CrlFile:
        if path not in self._crls:
            data = self.raw(path)
            if isinstance(data, str):
                self._crls[path] = CrlFile(path, problem=data)
            else:
                self._crls[path] = _load_crls(path, data)
        return self._crls[path]

    def key(self, path: Path, passwords: Sequence[bytes] = ()) -> KeyFile:
        """Load the first private key in ``path``, trying each of ``passwords`` if it is encrypted."""
        data = self.raw(path)
        if isinstance(data, str):
            return KeyFile(path, problem=data)
        match = _KEY_BLOCK.search(data)
        if match is None:
            return KeyFile(path, problem="holds no PEM private key")
        block = match.group(0)
        try:
            return KeyFile(path, serialization.load_pem_private_key(block, password=None))
        except TypeError:
            pass  # encrypted: try the passphrases below
        except (ValueError, UnsupportedAlgorithm):
            return KeyFile(path, problem="holds a private key that cannot be parsed")
        for password in passwords:
            try:
                return KeyFile(
                    path, serialization.load_pem_private_key(block, password=password), encrypted=True
                )
            except (ValueError, TypeError, UnsupportedAlgorithm):
                continue
        reason = "none of the passphrases in ssl_password_file opens it" if passwords else "no passphrase"
        return KeyFile(path, problem=f"holds an encrypted private key and {reason}", encrypted=True)

    def password_lines(self, path: Path) -> tuple[bytes, ...] | str:
        """The passphrases of an ``ssl_password_file`` (one a line), or why it cannot be read."""
        data = self.raw(path)
        if isinstance(data, str):
            return data
        return tuple(line for line in data.splitlines() if line)


class NotARegularFileError(OSError):
    """A path names a FIFO, a device, a socket or a file too large to be a certificate."""


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes.

    The file is opened without blocking (a FIFO with no writer would wait for ever) and judged by what was
    opened, so it cannot be swapped between the check and the read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise NotARegularFileError("not a regular file (a FIFO, a device or a socket)")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotARegularFileError(f"larger than {limit // (1024 * 1024)} MiB")
    return data


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence cryptography's warnings about old trust-store roots (negative serial numbers)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        yield


def _load_crls(path: Path, data: bytes) -> CrlFile:
    crls: list[x509.CertificateRevocationList] = []
    for block in _CRL_BLOCK.findall(data):
        try:
            crls.append(x509.load_pem_x509_crl(block))
        except ValueError:
            return CrlFile(path, problem="holds a CRL that cannot be parsed")
    if not crls:
        return CrlFile(path, problem="holds no PEM CRL")
    return CrlFile(path, tuple(crls))


def _os_problem(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "does not exist"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "is not readable (permission denied)"
    if isinstance(exc, NotARegularFileError):
        return f"cannot be read: {exc}"
    return f"cannot be read ({exc.strerror or exc})"


def describe(name: x509.Name) -> str:
    """A short human name: the CN (with O when there is one), else the whole RFC 4514 string."""
    cn = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    org = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if cn:
        text = f'"{cn[0].value!s}"'
        return f"{text} ({org[0].value!s})" if org and org[0].value != cn[0].value else text
    return f'"{name.rfc4514_string()}"'


def organization(cert: x509.Certificate) -> str:
    org = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(org[0].value) if org else cert.subject.rfc4514_string()


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer and issued_by(cert, cert)


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Whether ``parent`` signed ``child`` (names match and the signature verifies)."""
    if child.issuer != parent.subject:
        return False
    return _signed_by(child, parent)


# Rules ask again for every server block naming the same file: a config of 300 servers sharing one CA
# bundle of 800 certificates would check 240,000 signatures. A pure function of two certificates.
@functools.lru_cache(maxsize=65_536)
def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def crl_issued_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    if crl.issuer != ca.subject:
        return False
    try:
        return crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False


@functools.lru_cache(maxsize=65_536)  # asked for again by every server block naming the same file
def is_ca(cert: x509.Certificate) -> bool:
    """A CA by its basic constraints; OpenSSL also accepts an old v1 self-signed certificate as one."""
    try:
        with _quiet():
            return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.version is x509.Version.v1 and is_self_signed(cert)


def not_after(cert: x509.Certificate) -> datetime:
    return cert.not_valid_after_utc


def not_before(cert: x509.Certificate) -> datetime:
    return cert.not_valid_before_utc


def fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


def key_matches(cert: x509.Certificate, key: PrivateKeyTypes) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    try:
        return cert.public_key().public_bytes(*_SPKI) == key.public_key().public_bytes(*_SPKI)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def intermediate_levels(certs: Iterable[x509.Certificate]) -> int:
    """The longest run of intermediate CAs (not self-signed) that chain up to a root in ``certs``.

    A client certificate issued by the lowest of them needs ``ssl_verify_depth`` at least this high:
    OpenSSL 1.1 and later count the intermediates between the client certificate and the trusted root.
    Each certificate's issuer is looked up once, so a file of a thousand CAs costs a thousand lookups.
    """
    cas = [c for c in certs if is_ca(c)]
    issuer = _Issuers(cas)
    levels: dict[int, int | None] = {}  # id(cert) -> intermediates from it up to a root (None: no root)
    for start in cas:
        path: list[x509.Certificate] = []
        on_path: set[int] = set()
        current: x509.Certificate | None = start
        while True:
            if current is None or id(current) in on_path:
                base = None  # no issuer in the file, or a loop of CAs issuing each other: no root
                break
            if id(current) in levels:
                base = levels[id(current)]
                break
            if issuer.self_signed(current):
                base = 0
                break
            path.append(current)
            on_path.add(id(current))
            current = issuer.of(current)
        for steps, cert in enumerate(reversed(path), start=1):
            levels[id(cert)] = None if base is None else base + steps
    return max((n for n in levels.values() if n is not None), default=0)


def missing_issuers(
    certs: Sequence[x509.Certificate], others: Sequence[x509.Certificate] = ()
) -> tuple[x509.Certificate, ...]:
    """The intermediates in ``certs`` whose issuer is in neither ``certs`` nor ``others`` (OpenSSL needs
    the root too)."""
    issuer = _Issuers([*certs, *others])
    return tuple(c for c in certs if is_ca(c) and not issuer.self_signed(c) and issuer.of(c) is None)


class _Issuers:
    """Finds a certificate's issuer among ``pool``: the certificates named like its issuer, in file order.

    Only the first :data:`MAX_SAME_NAME` of them have their signature checked: honest files hold one or
    two certificates of a name (a renewed CA), and a hostile one of thousands, all named alike, would
    otherwise cost a signature check for every pair.
    """

    def __init__(self, pool: Sequence[x509.Certificate]) -> None:
        self._named: dict[x509.Name, list[x509.Certificate]] = {}
        for cert in {id(c): c for c in pool}.values():  # each once, in order
            self._named.setdefault(cert.subject, []).append(cert)
        self._self_signed: dict[int, bool] = {}

    def of(self, child: x509.Certificate) -> x509.Certificate | None:
        named = (p for p in self._named.get(child.issuer, ()) if p is not child)
        # the names match already (they are the dictionary's key): only the signature is left to check
        return next((p for p in itertools.islice(named, MAX_SAME_NAME) if _signed_by(child, p)), None)

    def self_signed(self, cert: x509.Certificate) -> bool:
        if id(cert) not in self._self_signed:
            self._self_signed[id(cert)] = is_self_signed(cert)
        return self._self_signed[id(cert)]
