"""The TLS and mutual-TLS doctor: examine one https URL from both sides and say what is wrong, who must
fix it, and how.

    verdict = await diagnose("https://api.example.com/", DoctorOptions(client=ClientCert(cert=…, key=…)))
    verdict.headline          # '1 problem; you (client side) must act: The client certificate expired …'
    verdict.exit_code         # ExitCode.BROKEN

``attach_findings`` does the same for ``check --diagnose``, once per failing host and certificate, and
``check_diagnosed`` runs a check and attaches the findings after it.
Rendering lives in ``linkdoctor.report.doctor_console`` and ``linkdoctor.report.doctor_json``.
"""

from __future__ import annotations

from linkdoctor.classify.codes_doctor import DOCTOR_CODES
from linkdoctor.doctor.attach import attach_findings, check_diagnosed, needs_doctor
from linkdoctor.doctor.examine import (
    DEFAULT_DIAGNOSE_TIMEOUT,
    DoctorOptions,
    Prober,
    Requester,
    check_url,
    diagnose,
)
from linkdoctor.doctor.model import (
    CertSummary,
    ClientAuthExam,
    ClientAuthMode,
    ClientCertExam,
    Command,
    HandshakeOutcome,
    RequestOutcome,
    ServerExam,
    Verdict,
)

__all__ = [
    "DEFAULT_DIAGNOSE_TIMEOUT",
    "DOCTOR_CODES",
    "CertSummary",
    "ClientAuthExam",
    "ClientAuthMode",
    "ClientCertExam",
    "Command",
    "DoctorOptions",
    "HandshakeOutcome",
    "Prober",
    "RequestOutcome",
    "Requester",
    "ServerExam",
    "Verdict",
    "attach_findings",
    "check_diagnosed",
    "check_url",
    "diagnose",
    "needs_doctor",
]
