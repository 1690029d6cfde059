"""``linkdoctor diagnose`` end to end through click: exit codes 0/2/3, both formats, bad input with clear
messages, and no key or password in any output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result
from harness.ports import Endpoint
from tests.integration.doctor.conftest import ClientCerts, DoctorSite
from tests.support.pki import PKI

from linkdoctor.cli import cli
from linkdoctor.report.doctor_json import schema

pytestmark = pytest.mark.nginx

PASSWORD_ENV = "DOCTOR_TEST_KEY_PASSWORD"


def diagnose(pki: PKI, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["diagnose", *args, "--cacert", str(pki.root.cert)], env=env)


def test_healthy_exits_0(doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts) -> None:
    result = diagnose(
        doctor_pki, doctor_site.url("on"), "--cert", str(certs.good.cert), "--key", str(certs.good.key)
    )
    assert result.exit_code == 0, result.output
    assert "✓ Healthy: TLSv1.3" in result.stdout


def test_a_problem_exits_2_with_the_verdict_first(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    result = diagnose(doctor_pki, doctor_site.url("on"))
    assert result.exit_code == 2
    assert result.stdout.splitlines()[1].startswith("✗ 1 problem; you (client side) must act:")


def test_json_format_validates_against_the_schema(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    result = diagnose(doctor_pki, doctor_site.url("on"), "--format", "json")
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema())
    assert (document["exit_code"], result.exit_code) == (2, 2)


def test_pkcs12_with_its_password_from_the_environment(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    bundle = certs.pkcs12
    assert bundle.p12 is not None and bundle.password is not None
    result = diagnose(
        doctor_pki,
        doctor_site.url("on"),
        "--pkcs12",
        str(bundle.p12),
        "--key-password-env",
        PASSWORD_ENV,
        env={PASSWORD_ENV: bundle.password},
    )
    assert result.exit_code == 0, result.output
    assert "--cert-type P12" in result.stdout


def test_neither_key_nor_password_appears_in_any_output(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    locked = certs.encrypted
    assert locked.password is not None
    outputs = []
    for fmt in ("console", "json"):
        result = diagnose(
            doctor_pki,
            doctor_site.url("on"),
            "--cert",
            str(locked.cert),
            "--key",
            str(locked.key),
            "--key-password-env",
            PASSWORD_ENV,
            "--format",
            fmt,
            env={PASSWORD_ENV: locked.password},
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout + result.stderr)
    for text in outputs:
        assert locked.password not in text
        assert "PRIVATE KEY" not in text
        assert f'--pass "${PASSWORD_ENV}"' in text or f"-pass env:{PASSWORD_ENV}" in text


def test_http_url_is_bad_input(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    result = diagnose(doctor_pki, doctor_site.url("on").replace("https://", "http://"))
    assert result.exit_code == 3
    assert "needs an https:// URL" in result.stderr


def test_unreachable_host_is_bad_input(doctor_pki: PKI, closed_port: int) -> None:
    result = diagnose(doctor_pki, f"https://127.0.0.1:{closed_port}/")
    assert result.exit_code == 3
    assert f"cannot reach 127.0.0.1:{closed_port}" in result.stderr


def test_a_silent_server_is_bad_input_within_the_timeout(doctor_pki: PKI, silent_server: Endpoint) -> None:
    started = time.monotonic()
    result = diagnose(doctor_pki, silent_server.url(scheme="https"), "--timeout", "1")
    assert result.exit_code == 3
    assert "sent no TLS answer within 1 s" in result.stderr
    assert time.monotonic() - started < 10


def test_a_file_that_is_not_a_certificate_is_bad_input(
    doctor_pki: PKI, doctor_site: DoctorSite, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.pem"
    bogus.write_text("these are not the certificates you are looking for\n")
    result = diagnose(doctor_pki, doctor_site.url("on"), "--cert", str(bogus), "--key", str(bogus))
    assert result.exit_code == 3
    assert f"{bogus} is not a certificate" in result.stderr


def test_a_wrong_password_is_bad_input_and_is_not_echoed(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    locked = certs.encrypted
    result = diagnose(
        doctor_pki,
        doctor_site.url("on"),
        "--cert",
        str(locked.cert),
        "--key",
        str(locked.key),
        "--key-password-env",
        PASSWORD_ENV,
        env={PASSWORD_ENV: "wrong horse battery staple"},
    )
    assert result.exit_code == 3
    assert "the key password is wrong" in result.stderr
    assert "wrong horse" not in result.output


def test_pkcs12_without_a_key_is_bad_input(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    bundle = certs.pkcs12_without_key
    assert bundle.p12 is not None and bundle.password is not None
    result = diagnose(
        doctor_pki,
        doctor_site.url("on"),
        "--pkcs12",
        str(bundle.p12),
        "--key-password-env",
        PASSWORD_ENV,
        env={PASSWORD_ENV: bundle.password},
    )
    assert result.exit_code == 3
    assert "holds a certificate but no private key" in result.stderr


def test_a_key_that_does_not_match_is_a_verdict_not_bad_input(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    pair = certs.mismatched
    result = diagnose(doctor_pki, doctor_site.url("on"), "--cert", str(pair.cert), "--key", str(pair.key))
    assert result.exit_code == 2
    assert "tls.client-cert-key-mismatch" in result.stdout
