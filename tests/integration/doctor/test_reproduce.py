"""The ``curl`` and ``openssl s_client`` lines that end every verdict really reproduce it: run as printed
(from the folder the paths are relative to, with the password variable set), they show the same outcome."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from tests.integration.doctor.conftest import ClientCerts, DoctorSite, client_cert, run_doctor
from tests.support.pki import PKI

from linkdoctor.doctor import Verdict

pytestmark = pytest.mark.nginx

PASSWORD_ENV = "DOCTOR_REPRODUCE_PASSWORD"


def shell(line: str, pki: PKI, env: dict[str, str] | None = None) -> str:
    """Run ``line`` with bash in the PKI folder; stdout and stderr together."""
    if shutil.which("curl") is None:
        pytest.fail("curl is required to check the reproduction commands")
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=pki.directory,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20,
        stdin=subprocess.DEVNULL,
    )
    return done.stdout + done.stderr


def command(verdict: Verdict, label: str) -> str:
    return next(c.line for c in verdict.reproduce if c.label == label)


def test_curl_line_reproduces_the_496_without_a_certificate(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("on"))
    output = shell(command(verdict, "curl"), doctor_pki)
    assert "HTTP/1.1 400" in output
    assert "400 No required SSL certificate was sent" in output


def test_curl_line_with_an_encrypted_key_reads_the_password_variable(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    locked = certs.encrypted
    assert locked.password is not None
    client = client_cert(locked)
    verdict = run_doctor(doctor_pki, doctor_site.url("on"), client, password_env=PASSWORD_ENV)
    line = command(verdict, "curl")
    assert locked.password not in line
    output = shell(line, doctor_pki, env={PASSWORD_ENV: locked.password})
    assert "HTTP/1.1 200" in output


def test_openssl_line_shows_the_acceptable_cas_and_the_refusal(
    doctor_pki: PKI, doctor_site: DoctorSite
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("on"))
    output = shell(command(verdict, "openssl s_client"), doctor_pki)
    assert "Acceptable client certificate CA names" in output
    assert "linkdoctor Test Root CA" in output
    assert "400 No required SSL certificate was sent" in output


def test_openssl_line_sends_the_chain_and_reproduces_the_depth_rejection(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("depth"), client_cert(certs.deep, send_chain=True))
    line = command(verdict, "openssl s_client")
    assert "-cert_chain doctor-deep-chain.pem" in line
    assert "400 The SSL certificate error" in shell(line, doctor_pki)
