"""``linkdoctor diagnose --format json``: the doctor's verdict as one JSON document, under the schema
shipped in ``linkdoctor/report/schemas/diagnose-v1.schema.json`` (documented in ``docs/diagnose.md``).

    write_verdict_json(verdict, sys.stdout)

Client credentials appear as file paths and certificate fields only; the verdict holds no key or password.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from linkdoctor.doctor.model import (
    CertSummary,
    ClientAuthExam,
    ClientCertExam,
    HandshakeOutcome,
    RequestOutcome,
    ServerExam,
    Verdict,
)
from linkdoctor.report.json import finding_to_dict, load_schema

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "schemas/diagnose-v1.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the ``diagnose --format json`` document."""
    return load_schema(SCHEMA_RESOURCE)


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "url": verdict.url,
        "checked_at": verdict.checked_at.isoformat(),
        "healthy": verdict.healthy,
        "exit_code": int(verdict.exit_code),
        "headline": verdict.headline,
        "findings": [finding_to_dict(f) for f in verdict.findings],
        "server": _server(verdict.server),
        "client_auth": _client_auth(verdict.client_auth),
        "client_certificate": _client_cert(verdict.client_cert) if verdict.client_cert else None,
        "requests": [_request(r) for r in verdict.requests],
        "reproduce": [{"label": c.label, "command": c.line} for c in verdict.reproduce],
    }


def write_verdict_json(verdict: Verdict, out: TextIO) -> None:
    json.dump(verdict_to_dict(verdict), out, indent=2, ensure_ascii=False)
    out.write("\n")


def _server(exam: ServerExam) -> dict[str, Any]:
    return {
        "host": exam.host,
        "port": exam.port,
        "sni": exam.sni,
        "tls_version": exam.tls_version,
        "cipher": exam.cipher,
        "verify_code": exam.verify_code,
        "verify_result": exam.verify_text,
        "chain_complete": exam.chain_complete,
        "hostname_matches": exam.hostname_matches,
        "days_to_expiry": exam.days_to_expiry,
        "handshake_error": exam.handshake_error,
        "chain": [_cert(c) for c in exam.chain],
    }


def _cert(cert: CertSummary) -> dict[str, Any]:
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "sans": list(cert.sans),
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "is_ca": cert.is_ca,
        "self_issued": cert.self_issued,
    }


def _client_auth(exam: ClientAuthExam) -> dict[str, Any]:
    return {
        "mode": exam.mode.value,
        "requested": exam.requested,
        "enforced_by": exam.enforced_by,
        "acceptable_ca_names": list(exam.acceptable_ca_names),
        "without_certificate": _handshake(exam.without_certificate),
        "with_certificate": _handshake(exam.with_certificate) if exam.with_certificate else None,
    }


def _handshake(outcome: HandshakeOutcome) -> dict[str, Any]:
    return {
        "completed": outcome.completed,
        "tls_version": outcome.tls_version,
        "alert": outcome.alert,
        "http_status": outcome.http_status,
        "precise_status": outcome.precise_status,
        "error": outcome.error,
    }


def _client_cert(exam: ClientCertExam) -> dict[str, Any]:
    return {
        "file": str(exam.file),
        "key_file": str(exam.key_file) if exam.key_file else None,
        "source": exam.source,
        "loaded": exam.loaded,
        "subject": exam.subject,
        "issuer": exam.issuer,
        "not_before": exam.not_before.isoformat(),
        "not_after": exam.not_after.isoformat(),
        "extended_key_usage": exam.extended_key_usage,
        "intermediates": list(exam.intermediates),
    }


def _request(outcome: RequestOutcome) -> dict[str, Any]:
    return {
        "with_certificate": outcome.with_certificate,
        "status": outcome.status,
        "precise_status": outcome.precise_status,
        "category": outcome.category,
        "diagnosis": (
            {"code": outcome.diagnosis_code, "summary": outcome.diagnosis_summary}
            if outcome.diagnosis_code
            else None
        ),
        "error": outcome.error,
    }
