"""The client side: the local certificate checked before any traffic, then judged against the server's
answer — the ``openssl x509 -noout -dates -issuer`` and "compare the issuers" routine.

:func:`client_findings` combines the preflight (:func:`linkdoctor.tls.preflight.preflight`), the CA names
the server accepts, what the server answered when the certificate was presented, and a search for the
missing intermediate among the certificates next to the user's file (and in ``--cacert``). Reading those
files is the only side effect here, and it is bounded (:data:`MAX_FILES` files of at most
:data:`MAX_FILE_BYTES`); only certificate blocks are parsed, keys are never read into anything.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509

from linkdoctor.classify import codes_model
from linkdoctor.classify.codes_doctor import CLIENT_CERT_CHAIN_INCOMPLETE, CLIENT_CERT_CHAIN_TOO_DEEP
from linkdoctor.classify.tls import CLIENT_CERT_REJECTED, CLIENT_CERT_UNTRUSTED_CA
from linkdoctor.config import ClientCert
from linkdoctor.doctor.fixes import nginx_snippet
from linkdoctor.doctor.model import ClientAuthExam, ClientAuthMode, ClientCertExam, RequestOutcome
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.certs import (
    KEY_MISMATCH,
    LoadedClientCert,
    eku_text,
    is_ca,
    reaches_acceptable_ca,
    signed_by,
)

CLIENT: Final = codes_model.CLIENT
OPERATOR: Final = codes_model.OPERATOR
MAX_FILES: Final = 256
MAX_FILE_BYTES: Final = 1024 * 1024
_CERT_SUFFIXES: Final = frozenset({".pem", ".crt", ".cer", ".der", ".cert"})
_PEM_CERT = re.compile(
    rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----.+?-----END [A-Z0-9 ]+-----", re.DOTALL
)


@dataclass(frozen=True, slots=True)
class LocalCert:
    """A certificate found in a local file."""

    path: Path
    cert: x509.Certificate


@dataclass(frozen=True, slots=True)
class ServerAnswer:
    """What the server said when the client certificate was presented ('' when it accepted it)."""

    rejection: str
    accepted: bool


# --- reading ------------------------------------------------------------------------------------------


def read_certificates(path: Path) -> list[x509.Certificate]:
    """The certificates in a PEM (any number) or DER (one) file; empty when it holds none or is unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError:
        return []
    if len(data) > MAX_FILE_BYTES:
        return []
    blocks = _PEM_CERT.findall(data)
    if blocks:
        try:
            return x509.load_pem_x509_certificates(b"\n".join(blocks))
        except ValueError:
            return []
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        return []


def local_certificates(places: Iterable[Path]) -> list[LocalCert]:
    """CA certificates in the given files and in the certificate files of the given folders (bounded);
    files that also hold end-entity certificates are skipped."""
    files: list[Path] = []
    for place in places:
        if place.is_dir():
            try:
                entries = sorted(p for p in place.iterdir() if p.suffix.lower() in _CERT_SUFFIXES)
            except OSError:
                continue
            files += entries
        elif place.is_file():
            files.append(place)
    found: list[LocalCert] = []
    for path in list(dict.fromkeys(files))[:MAX_FILES]:
        certs = read_certificates(path)
        # Only files of CA certificates: appending one to the client's file must not add a leaf.
        if certs and all(is_ca(cert) for cert in certs):
            found += [LocalCert(path, cert) for cert in certs]
    return found


def describe(loaded: LoadedClientCert) -> ClientCertExam:
    """The report's view of a loaded client certificate."""
    return _exam(loaded.cert, loaded.cert_path, loaded.key_path, loaded.source, loaded.chain, loaded=True)


def describe_unloadable(spec: ClientCert) -> ClientCertExam | None:
    """The report's view of a certificate whose key could not be used with it (read without the key)."""
    path = spec.pkcs12 or spec.cert
    if path is None or spec.pkcs12 is not None:
        return None
    certs = read_certificates(path)
    if not certs:
        return None
    with path.open("rb") as handle:
        source = "pem" if handle.read(64).lstrip().startswith(b"-----") else "der"
    return _exam(certs[0], path, spec.key, source, tuple(certs[1:]), loaded=False)


# --- judging ------------------------------------------------------------------------------------------


def missing_intermediates(
    loaded: LoadedClientCert, accepted: Sequence[x509.Name], candidates: Sequence[LocalCert]
) -> tuple[LocalCert, ...]:
    """The local intermediates that would link the sent chain to an accepted CA; empty when none do.

    Follows issuers from the last certificate the client sends, accepting a candidate only when its key
    really signed the certificate below it, at most five steps.
    """
    if not accepted or reaches_acceptable_ca(loaded.cert, loaded.chain, accepted):
        return ()
    names = set(accepted)
    current = (loaded.cert, *loaded.chain)[-1]
    path: list[LocalCert] = []
    for _ in range(5):
        parent = next(
            (c for c in candidates if c.cert.subject == current.issuer and signed_by(current, c.cert)), None
        )
        if parent is None or parent.cert.subject == parent.cert.issuer or parent in path:
            return ()  # nothing found, or a root the server does not accept
        path.append(parent)
        if parent.cert.issuer in names:
            return tuple(path)
        current = parent.cert
    return ()


def issuer_file(loaded: LoadedClientCert, candidates: Sequence[LocalCert]) -> LocalCert | None:
    """The local file holding the certificate of the client certificate's issuer, if any."""
    leaf = loaded.cert
    return next((c for c in candidates if c.cert.subject == leaf.issuer and signed_by(leaf, c.cert)), None)


def client_findings(
    loaded: LoadedClientCert,
    local: Sequence[Finding],
    *,
    auth: ClientAuthExam,
    accepted: Sequence[x509.Name],
    answer: ServerAnswer,
    candidates: Sequence[LocalCert],
) -> list[Finding]:
    """Judge the client certificate: local problems first, then what only the server's answer explains."""
    findings = [_explain_untrusted(f, loaded, accepted, candidates) for f in local]
    if auth.mode is ClientAuthMode.NONE:
        return [_downgrade(f, "this server does not ask for a certificate") for f in findings]
    if answer.rejection:
        if not any(f.severity is Severity.ERROR for f in findings):
            findings.append(
                _too_deep(loaded, auth, answer) if loaded.chain else _rejected(loaded, auth, answer)
            )
        lead = next(i for i, f in enumerate(findings) if f.severity is Severity.ERROR)
        findings[lead] = _with_evidence(findings[lead], ("server_answer", answer.rejection))
    elif answer.accepted and auth.mode is ClientAuthMode.OPTIONAL:
        reason = "this server accepted it, and serves the resource without one anyway"
        findings = [_downgrade(f, reason) for f in findings]
    return findings


def key_mismatch(spec: ClientCert, message: str) -> Finding:
    """The finding for a key that does not belong to the certificate (it cannot be presented at all)."""
    cert = spec.cert or spec.pkcs12
    key = spec.key or cert
    show_cert = f"openssl x509 -noout -pubkey -in {shlex.quote(str(cert))} | openssl sha256"
    show_key = f"openssl pkey -pubout -in {shlex.quote(str(key))} | openssl sha256"
    return Finding(
        code=KEY_MISMATCH,
        severity=Severity.ERROR,
        actor=CLIENT,
        summary="The private key does not belong to the client certificate, so it cannot be presented",
        evidence=(("certificate_file", str(cert)), ("key_file", str(key)), ("loader", message)),
        fix=(
            f"Compare the public keys; both commands must print the same hash: {show_cert} and {show_key}",
            "Pass the key generated with this certificate's signing request (--key), or reissue both.",
        ),
    )


def server_answer(
    with_probe_alert: str | None,
    with_probe_precise: int | None,
    request_with: RequestOutcome | None,
) -> ServerAnswer:
    """Read the server's verdict on the presented certificate from the probe and the real request."""
    if with_probe_alert and with_probe_alert != "close_notify":
        return ServerAnswer(f"handshake: alert {with_probe_alert}", accepted=False)
    if with_probe_precise in (495, 496):
        return ServerAnswer(f"HTTP: nginx {with_probe_precise} page behind a wire 400", accepted=False)
    if request_with is not None:
        if request_with.precise_status in (495, 496):
            return ServerAnswer(f"HTTP: nginx {request_with.precise_status} page", accepted=False)
        code = request_with.diagnosis_code or ""
        if code.startswith("tls.client-cert"):
            return ServerAnswer(f"request: {request_with.diagnosis_summary}", accepted=False)
        status = request_with.status
        return ServerAnswer("", accepted=status is not None and 200 <= status < 400)
    return ServerAnswer("", accepted=with_probe_precise is not None and 200 <= with_probe_precise < 400)


# --- findings ---------------------------------------------------------------------------------------


def _explain_untrusted(
    finding: Finding, loaded: LoadedClientCert, accepted: Sequence[x509.Name], candidates: Sequence[LocalCert]
) -> Finding:
    """Turn the preflight's 'issuer not accepted' into 'intermediate missing' when a local file proves it,
    and add what the operator could change."""
    if finding.code != CLIENT_CERT_UNTRUSTED_CA:
        return finding
    names = "; ".join(n.rfc4514_string() for n in accepted)
    path = missing_intermediates(loaded, accepted, candidates)
    if path:
        return _chain_incomplete(loaded, path, names)
    found = issuer_file(loaded, candidates)
    evidence = finding.evidence
    if found is not None:
        kind = "a root CA" if found.cert.subject == found.cert.issuer else "a CA"
        evidence += (("issuer_certificate", f"{found.path} ({kind} the server does not accept)"),)
    operator = "Operator, if this CA should be accepted: add it to the client CA bundle and reload.\n" + (
        nginx_snippet(
            "in the server block",
            "ssl_client_certificate /etc/nginx/client-cas.pem;   # append the issuing CA's certificate",
            "ssl_verify_client on;",
        )
    )
    return dataclasses.replace(finding, evidence=evidence, fix=(*finding.fix, operator))


def _chain_incomplete(loaded: LoadedClientCert, path: Sequence[LocalCert], names: str) -> Finding:
    cert_file = loaded.cert_path
    chain_file = cert_file.with_name(f"{cert_file.stem}-chain.pem")
    files = " ".join(shlex.quote(str(p)) for p in (cert_file, *(c.path for c in path)))
    issuer = loaded.cert.issuer.rfc4514_string()
    depth = len(loaded.chain) + len(path) + 1
    return Finding(
        code=CLIENT_CERT_CHAIN_INCOMPLETE,
        severity=Severity.ERROR,
        actor=CLIENT,
        summary=f"The certificate is issued by the intermediate CA {issuer}, which the client does not "
        f"send: the server accepts only {names} and cannot build the chain",
        evidence=(
            ("subject", loaded.subject_text),
            ("issuer", issuer),
            ("acceptable_cas", names),
            ("intermediates_sent", str(len(loaded.chain))),
            (
                "missing_intermediate",
                "; ".join(f"{c.cert.subject.rfc4514_string()} ({c.path})" for c in path),
            ),
        ),
        fix=(
            f"Send the intermediate after the certificate: cat {files} > {shlex.quote(str(chain_file))}",
            f"Then pass --cert {shlex.quote(str(chain_file))} (with the same --key).",
            "Operator (alternative): let nginx complete the chain itself.\n"
            + nginx_snippet(
                "in the server block",
                "ssl_trusted_certificate /etc/nginx/client-intermediates.pem;   # the intermediate CA",
                f"ssl_verify_depth {depth};",
            ),
        ),
    )


def _too_deep(loaded: LoadedClientCert, auth: ClientAuthExam, answer: ServerAnswer) -> Finding:
    intermediates = len(loaded.chain)
    depth = intermediates + 1
    chain = " > ".join(c.subject.rfc4514_string() for c in (loaded.cert, *loaded.chain))
    return Finding(
        code=CLIENT_CERT_CHAIN_TOO_DEEP,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server rejects a valid client chain with {intermediates} intermediate CA"
        f"{'s' if intermediates != 1 else ''}: its verification depth (nginx ssl_verify_depth) is "
        "most likely too low for it",
        evidence=(
            ("chain_sent", chain),
            ("acceptable_cas", "; ".join(auth.acceptable_ca_names) or "(not named)"),
            ("server_answer", answer.rejection),
        ),
        fix=(
            "Operator: confirm in the nginx error log ('certificate chain too long'), then allow the "
            "chain's depth and reload.\n"
            + nginx_snippet("in the server block", f"ssl_verify_depth {depth};"),
            "Client (alternative): ask for a certificate issued directly by one of the accepted CAs.",
        ),
    )


def _rejected(loaded: LoadedClientCert, auth: ClientAuthExam, answer: ServerAnswer) -> Finding:
    return Finding(
        code=CLIENT_CERT_REJECTED,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary="The server rejected the client certificate although nothing is wrong with it locally "
        "(dates, key usage, issuer)",
        evidence=(
            ("subject", loaded.subject_text),
            ("issuer", loaded.issuer_text),
            ("acceptable_cas", "; ".join(auth.acceptable_ca_names) or "(not named)"),
            ("server_answer", answer.rejection),
        ),
        fix=(
            "Operator: the nginx error log names the reason ('client SSL certificate verify error: "
            "(N:reason)'): a revoked certificate (ssl_crl), a CA missing from the bundle, or a depth limit.",
            nginx_snippet(
                "the directives that decide it",
                "ssl_client_certificate /etc/nginx/client-cas.pem;",
                "ssl_verify_client on;",
                "ssl_verify_depth 2;",
            ),
        ),
    )


def _with_evidence(finding: Finding, pair: tuple[str, str]) -> Finding:
    if any(key == pair[0] for key, _ in finding.evidence):
        return finding
    return dataclasses.replace(finding, evidence=(*finding.evidence, pair))


def _downgrade(finding: Finding, reason: str) -> Finding:
    if finding.severity is not Severity.ERROR:
        return finding
    return dataclasses.replace(finding, severity=Severity.WARNING, summary=f"{finding.summary} ({reason})")


# --- helpers ------------------------------------------------------------------------------------------


def _exam(
    cert: x509.Certificate,
    path: Path,
    key: Path | None,
    source: str,
    chain: Sequence[x509.Certificate],
    *,
    loaded: bool,
) -> ClientCertExam:
    return ClientCertExam(
        file=path,
        key_file=key,
        source=source,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        extended_key_usage=eku_text(cert),
        intermediates=tuple(c.subject.rfc4514_string() for c in chain),
        loaded=loaded,
    )
