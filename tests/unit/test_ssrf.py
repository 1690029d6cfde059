"""The SSRF guard's decisions: which addresses are refused, how allowlists open them, and how a site's URL
is vetted through its DNS answers (injected here; the integration tests use real sockets)."""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence
from ipaddress import ip_address, ip_network

import pytest

from linkdoctor.engine.http.ssrf import SSRFGuard, classify_address, parse_networks
from linkdoctor.errors import ConfigError


def answering(*addresses: str) -> SSRFGuard:
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return SSRFGuard(resolve=resolve)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "not globally routable"),
    ],
)
def test_non_public_addresses_are_classified_by_reason(address: str, reason: str) -> None:
    assert classify_address(ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_not_classified(address: str) -> None:
    assert classify_address(ip_address(address)) is None


def test_loopback_is_refused_without_an_allowlist() -> None:
    assert SSRFGuard().refusal(ip_address("127.0.0.1")) == "loopback"


def test_allowlisted_network_opens_only_its_own_addresses() -> None:
    guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
    assert guard.refusal(ip_address("127.0.0.1")) is None
    assert guard.refusal(ip_address("127.0.0.2")) == "loopback"
    assert guard.refusal(ip_address("::1")) == "loopback"


def test_ipv4_allowlist_covers_the_ipv4_mapped_ipv6_form() -> None:
    guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
    assert guard.refusal(ip_address("::ffff:127.0.0.1")) is None


def test_parse_networks_accepts_single_addresses_and_cidrs() -> None:
    assert parse_networks(["127.0.0.1", "10.0.0.0/8", "::1"]) == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
    )


def test_parse_networks_rejects_garbage_as_config_error() -> None:
    with pytest.raises(ConfigError, match="not an IP network"):
        parse_networks(["localhost"])


def test_literal_loopback_url_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"SSRF guard: 127\.0\.0\.1 is a loopback address"):
        SSRFGuard().check_url("http://127.0.0.1:8080/")


def test_literal_loopback_url_is_accepted_when_allowlisted() -> None:
    checked = SSRFGuard(allow=[ip_network("127.0.0.1/32")]).check_url("http://127.0.0.1:8080/a")
    assert checked.addresses == (ip_address("127.0.0.1"),)


def test_bracketed_ipv6_loopback_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        SSRFGuard().check_url("http://[::1]/")


def test_name_resolving_to_a_private_address_is_refused_and_named() -> None:
    with pytest.raises(ConfigError, match=r"intranet\.example \(10\.1\.2\.3\) is a private address"):
        answering("10.1.2.3").check_url("https://intranet.example/")


def test_name_with_any_private_answer_is_refused() -> None:
    with pytest.raises(ConfigError, match="link-local"):
        answering("93.184.216.34", "169.254.169.254").check_url("https://mixed.example/")


def test_name_resolving_to_public_addresses_is_accepted() -> None:
    checked = answering("93.184.216.34").check_url("https://example.org/docs")
    assert checked.host == "example.org"
    assert checked.addresses == (ip_address("93.184.216.34"),)


def test_unresolvable_name_is_refused() -> None:
    def fail(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(ConfigError, match=r"cannot resolve nowhere\.invalid"):
        SSRFGuard(resolve=fail).check_url("https://nowhere.invalid/")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/", "file:///etc/passwd", "javascript:alert(1)", "/relative"]
)
def test_only_http_and_https_urls_with_a_host_are_accepted(url: str) -> None:
    with pytest.raises(ConfigError, match="only http and https"):
        answering("93.184.216.34").check_url(url)


def test_socket_factory_refuses_a_loopback_address_with_eacces() -> None:
    with pytest.raises(OSError, match="SSRF guard") as caught:
        SSRFGuard().socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    assert caught.value.errno == errno.EACCES


def test_socket_factory_makes_a_socket_for_an_allowed_address() -> None:
    guard = SSRFGuard(allow=[ip_network("127.0.0.0/8")])
    sock = guard.socket_factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    try:
        assert sock.family == socket.AF_INET
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254 (cloud metadata)
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::c0a8:101", "private"),  # NAT64 of 192.168.1.1
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo whose client is 127.0.0.1
        ("2001:0:7f00:1:8000:63bf:3fff:fdd2", "loopback"),  # Teredo whose server is 127.0.0.1
    ],
)
def test_ipv4_embedded_in_6to4_teredo_and_nat64_is_judged(address: str, reason: str) -> None:
    assert classify_address(ip_address(address)) == reason
    assert SSRFGuard().refusal(ip_address(address)) == reason


@pytest.mark.parametrize("address", ["2002:808:808::1", "64:ff9b::808:808"])
def test_6to4_and_nat64_of_a_public_ipv4_address_are_public(address: str) -> None:
    assert classify_address(ip_address(address)) is None


def test_allowlisting_an_ipv4_address_does_not_open_its_6to4_or_nat64_forms() -> None:
    guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
    assert guard.refusal(ip_address("2002:7f00:1::")) == "loopback"
    assert guard.refusal(ip_address("64:ff9b::7f00:1")) == "loopback"
    assert SSRFGuard(allow=[ip_network("2002:7f00:1::/48")]).refusal(ip_address("2002:7f00:1::")) is None


def test_a_refused_embedded_address_is_named_in_the_message() -> None:
    with pytest.raises(ConfigError, match=r"2002:7f00:1:: \(6to4 of 127\.0\.0\.1\) is a loopback address"):
        SSRFGuard().check_url("http://[2002:7f00:1::]/")
    with pytest.raises(
        ConfigError, match=r"nat64\.example \(64:ff9b::a00:1, NAT64 of 10\.0\.0\.1\) is a private"
    ):
        answering("64:ff9b::a00:1").check_url("http://nat64.example/")


def test_socket_refusal_accepts_only_allowed_ip_addresses() -> None:
    guard = SSRFGuard(allow=[ip_network("127.0.0.3/32")])
    assert guard.socket_refusal(("127.0.0.3", 25)) is None
    assert guard.socket_refusal(("::1", 25, 0, 0)) is not None
    assert "not an IP address" in (guard.socket_refusal(("localhost", 25)) or "")
    assert "not an IP address" in (guard.socket_refusal("/run/dbus/system_bus_socket") or "")


def test_check_host_may_let_an_unresolved_alert_target_pass() -> None:
    def unresolvable(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert SSRFGuard(resolve=unresolvable).check_host("hooks.example", 443, unresolved_ok=True) == ()
    with pytest.raises(ConfigError, match="cannot resolve"):
        SSRFGuard(resolve=unresolvable).check_host("hooks.example", 443)
