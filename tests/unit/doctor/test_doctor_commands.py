"""The reproduction commands: the user's paths, quoted for the shell, and never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkdoctor.config import ClientCert, Secret
from linkdoctor.doctor.commands import Target, reproduce
from linkdoctor.errors import ConfigError


def lines(target: str, client: ClientCert | None, **kwargs: object) -> tuple[str, str]:
    curl, s_client = reproduce(Target.parse(target), client=client, cafile=None, **kwargs)  # type: ignore[arg-type]
    return curl.line, s_client.line


@pytest.mark.parametrize("url", ["http://example.test/", "ftp://example.test/", "example.test/path"])
def test_only_https_urls_are_accepted(url: str) -> None:
    with pytest.raises(ConfigError, match="needs an https:// URL"):
        Target.parse(url)


def test_a_bad_port_is_bad_input() -> None:
    with pytest.raises(ConfigError, match="not a valid URL"):
        Target.parse("https://example.test:99999/")


def test_target_keeps_the_query_and_defaults_the_port() -> None:
    target = Target.parse("https://example.test/a?b=1")
    assert (target.host, target.port, target.path, target.sni) == (
        "example.test",
        443,
        "/a?b=1",
        "example.test",
    )


def test_ip_addresses_get_no_sni() -> None:
    assert Target.parse("https://127.0.0.1:8443/").sni == ""


def test_without_a_certificate() -> None:
    curl, s_client = lines("https://example.test/", None)
    assert curl == "curl -sS -i https://example.test/"
    assert s_client == (
        "printf 'GET / HTTP/1.1\\r\\nHost: example.test\\r\\nConnection: close\\r\\n\\r\\n' | "
        "openssl s_client -connect example.test:443 -servername example.test -showcerts -ign_eof"
    )


def test_paths_with_spaces_are_quoted() -> None:
    client = ClientCert(cert=Path("my certs/client.pem"), key=Path("my certs/client.key"))
    curl, s_client = lines("https://example.test/", client)
    assert "--cert 'my certs/client.pem' --key 'my certs/client.key'" in curl
    assert "-cert 'my certs/client.pem' -key 'my certs/client.key'" in s_client


def test_a_password_is_referenced_by_its_variable_never_by_value() -> None:
    client = ClientCert(pkcs12=Path("client.p12"), password=Secret("hunter2"))
    curl, s_client = lines("https://example.test/", client, password_env="P12_PASS")
    assert curl == 'curl -sS -i --cert-type P12 --cert client.p12 --pass "$P12_PASS" https://example.test/'
    assert "-cert client.p12 -pass env:P12_PASS" in s_client
    assert "hunter2" not in curl + s_client


def test_an_odd_variable_name_is_left_out_rather_than_injected() -> None:
    client = ClientCert(cert=Path("c.pem"), key=Path("c.key"))
    curl, s_client = lines("https://example.test/", client, password_env="X; rm -rf /")
    assert "rm -rf" not in curl + s_client


def test_a_pem_file_with_intermediates_is_sent_as_a_chain() -> None:
    client = ClientCert(cert=Path("chain.pem"), key=Path("c.key"))
    _, s_client = lines("https://example.test/", client, client_has_chain=True)
    assert "-cert chain.pem -key c.key -cert_chain chain.pem" in s_client
