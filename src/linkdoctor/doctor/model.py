"""The doctor's result model: what was seen on each side of the connection, and the verdict.

Everything here is a frozen value built by :func:`linkdoctor.doctor.diagnose`; the report modules
(``report/doctor_console.py``, ``report/doctor_json.py``) only render it. Nothing here holds a private
key or a password: client credentials appear as file paths and certificate fields only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from linkdoctor.config import ExitCode
from linkdoctor.models import Finding, Severity


class ClientAuthMode(StrEnum):
    """Whether the server asks for a client certificate, and whether the resource needs one.

    ``none``: no CertificateRequest. ``optional``: a certificate is requested, but the resource answers
    without one. ``required``: without a certificate the server refuses, in the handshake (an alert) or
    over HTTP (nginx's 496 page). ``unknown``: a certificate is requested, but no outcome was readable.
    """

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CertSummary:
    """The readable fields of one certificate, as ``openssl x509 -noout -subject -issuer -dates`` shows them."""

    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    is_ca: bool
    self_issued: bool
    # It names where its issuer's certificate is published (AIA caIssuers): see classify.tls.
    publishes_issuer: bool = False


@dataclass(frozen=True, slots=True)
class ServerExam:
    """The server side of the handshake, probed without a client certificate.

    ``verify_code`` is OpenSSL's first ``X509_V_ERR_*`` (0: the chain is trusted; None: no chain seen).
    ``chain_complete`` and ``hostname_matches`` are None when they cannot be judged.
    """

    host: str
    port: int
    sni: str
    tls_version: str | None
    cipher: str | None
    chain: tuple[CertSummary, ...]
    verify_code: int | None
    verify_text: str
    chain_complete: bool | None
    hostname_matches: bool | None
    days_to_expiry: int | None
    handshake_error: str | None


@dataclass(frozen=True, slots=True)
class HandshakeOutcome:
    """One probe connection: whether the handshake held, the alert, and the HTTP answer behind it."""

    with_certificate: bool
    completed: bool
    tls_version: str | None
    alert: str | None
    http_status: int | None
    precise_status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class ClientAuthExam:
    """Client authentication as the server does it: the mode, how it refuses, and the CAs it accepts."""

    mode: ClientAuthMode
    requested: bool
    enforced_by: str
    acceptable_ca_names: tuple[str, ...]
    without_certificate: HandshakeOutcome
    with_certificate: HandshakeOutcome | None


@dataclass(frozen=True, slots=True)
class ClientCertExam:
    """The local client certificate (never its key): where it came from and what it says."""

    file: Path
    key_file: Path | None
    source: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    extended_key_usage: str
    intermediates: tuple[str, ...]
    loaded: bool


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """The real request to the URL (as ``check`` makes it), without or with the client certificate."""

    with_certificate: bool
    status: int | None
    precise_status: int | None
    category: str
    diagnosis_code: str | None
    diagnosis_summary: str
    error: str
    redirected: bool = False  # answered by where the URL redirects to, not by its own host and port


@dataclass(frozen=True, slots=True)
class Command:
    """A shell command line that reproduces the verdict by hand (file paths only, never secrets)."""

    label: str
    line: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The doctor's answer for one URL: the ordered findings and everything they were concluded from."""

    url: str
    checked_at: datetime
    headline: str
    findings: tuple[Finding, ...]
    server: ServerExam
    client_auth: ClientAuthExam
    client_cert: ClientCertExam | None
    requests: tuple[RequestOutcome, ...]
    reproduce: tuple[Command, ...]

    @property
    def healthy(self) -> bool:
        """No finding of severity ``error`` (warnings and notes may remain)."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def exit_code(self) -> ExitCode:
        """0 when healthy, 2 when a problem was found (bad input never gets this far: it raises)."""
        return ExitCode.OK if self.healthy else ExitCode.BROKEN
