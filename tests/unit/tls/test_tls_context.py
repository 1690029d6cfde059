"""The SSL context factory: credentials are checked before any request, verification stays on unless the
run is insecure, and each host gets its own client certificate and trust store."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from tests.support.pki import PKI

from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Secret
from linkdoctor.errors import CertificateError, ConfigError
from linkdoctor.tls.certs import ClientCertError
from linkdoctor.tls.context import TLSContextFactory, prompt_or_env_password, ssl_context_for


def spec(pki: PKI, name: str, *hosts: str) -> ClientCert:
    files = pki.client(name)
    return ClientCert(cert=files.cert, key=files.key, hosts=hosts)


def ca_subjects(context: ssl.SSLContext) -> list[object]:
    return [cert["subject"] for cert in context.get_ca_certs()]


def test_a_bad_client_certificate_fails_when_the_factory_is_built(pki: PKI) -> None:
    files = pki.client_encrypted_key("ctx-bad-password")
    config = CheckConfig(client_certs=(ClientCert(cert=files.cert, key=files.key, password=Secret("nope")),))

    with pytest.raises(ClientCertError, match="the key password is wrong"):
        TLSContextFactory(config)


def test_a_missing_ca_file_fails_when_the_factory_is_built(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"

    with pytest.raises(CertificateError, match=f"CA file not found: {missing}"):
        TLSContextFactory(CheckConfig(cacert=missing))


def test_a_per_host_ca_file_without_certificates_fails_when_the_factory_is_built(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n")
    config = CheckConfig(host_settings=(HostSettings(hosts=("a.example",), cacert=empty),))

    with pytest.raises(CertificateError, match="holds no usable PEM certificate"):
        TLSContextFactory(config)


def test_contexts_verify_servers_by_default() -> None:
    context = TLSContextFactory(CheckConfig()).context_for("example.com")

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_only_an_insecure_run_disables_verification() -> None:
    context = TLSContextFactory(CheckConfig(insecure=True)).context_for("example.com")

    assert context.verify_mode == ssl.CERT_NONE
    assert not context.check_hostname


def test_the_configured_ca_file_replaces_the_system_trust(pki: PKI) -> None:
    context = TLSContextFactory(CheckConfig(cacert=pki.root.cert)).context_for("example.com")

    assert len(ca_subjects(context)) == 1
    assert "linkdoctor Test Root CA" in str(ca_subjects(context))


def test_a_per_host_ca_file_wins_over_the_global_one(pki: PKI) -> None:
    config = CheckConfig(
        cacert=pki.root.cert,
        host_settings=(HostSettings(hosts=("*.corp.example",), cacert=pki.rogue.cert),),
    )
    factory = TLSContextFactory(config)

    assert "Rogue CA" in str(ca_subjects(factory.context_for("api.corp.example")))
    assert "Rogue CA" not in str(ca_subjects(factory.context_for("example.com")))


def test_the_client_certificate_goes_only_to_its_hosts(pki: PKI) -> None:
    config = CheckConfig(client_certs=(spec(pki, "ctx-scoped", "*.corp.example"),))
    factory = TLSContextFactory(config)

    loaded = factory.client_cert_for("API.corp.example.")
    assert loaded is not None
    assert loaded.cert_path == pki.directory / "ctx-scoped.pem"
    assert factory.client_cert_for("example.com") is None
    assert factory.context_for("api.corp.example") is not factory.context_for("example.com")


def test_the_first_matching_client_certificate_wins(pki: PKI) -> None:
    config = CheckConfig(client_certs=(spec(pki, "ctx-first", "a.example"), spec(pki, "ctx-catch-all")))
    factory = TLSContextFactory(config)

    first, catch_all = factory.client_certs
    assert factory.client_cert_for("a.example") is first
    assert factory.client_cert_for("b.example") is catch_all


def test_hosts_with_the_same_settings_share_one_context(pki: PKI) -> None:
    factory = TLSContextFactory(CheckConfig(client_certs=(spec(pki, "ctx-shared"),)))

    assert factory.context_for("a.example") is factory.context_for("b.example")


def test_close_drops_the_cached_contexts(pki: PKI) -> None:
    with TLSContextFactory(CheckConfig(client_certs=(spec(pki, "ctx-close"),))) as factory:
        before = factory.context_for("a.example")
    assert factory.context_for("a.example") is not before


def test_a_context_with_a_client_certificate_answers_post_handshake_requests(pki: PKI) -> None:
    factory = TLSContextFactory(CheckConfig(client_certs=(spec(pki, "ctx-direct"),)))
    loaded = factory.client_cert_for("any.example")

    context = ssl_context_for(loaded, cafile=pki.root.cert)

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.post_handshake_auth  # answers certificate requests made after a TLS 1.3 handshake


# --- key passwords for the CLI ------------------------------------------------------------------------


def test_the_password_comes_from_the_named_environment_variable() -> None:
    secret = prompt_or_env_password("KEY_PASS", None, environ={"KEY_PASS": "s3cret"})

    assert secret == Secret("s3cret")
    assert "s3cret" not in repr(secret)


def test_a_named_but_unset_environment_variable_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="KEY_PASS"):
        prompt_or_env_password("KEY_PASS", None, environ={})


def test_the_environment_wins_over_the_prompt() -> None:
    def prompt(_: str) -> str:
        raise AssertionError("must not prompt")

    assert prompt_or_env_password("KEY_PASS", prompt, environ={"KEY_PASS": "x"}) == Secret("x")


def test_without_a_variable_the_injected_prompt_is_asked() -> None:
    asked: list[str] = []

    def prompt(question: str) -> str:
        asked.append(question)
        return "typed"

    secret = prompt_or_env_password(None, prompt, environ={}, what="client.key")

    assert (secret, asked) == (Secret("typed"), ["Password for client.key: "])


def test_without_variable_or_prompt_there_is_no_password() -> None:
    assert prompt_or_env_password(None, None, environ={"KEY_PASS": "x"}) is None
