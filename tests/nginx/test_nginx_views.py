"""Specs for how the linter sees servers (linkdoctor.nginx.views): inheritance, listen addresses and
which variables a server really checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkdoctor.nginx.parse import parse_config
from linkdoctor.nginx.views import ServerView, normalize_address, protocol_block, servers


def only_server(tmp_path: Path, text: str) -> ServerView:
    conf = tmp_path / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    (server,) = servers(parse_config(conf))
    return server


def test_a_server_inherits_ssl_verify_client_from_http(tmp_path: Path) -> None:
    server = only_server(tmp_path, "http { ssl_verify_client optional; server { listen 443 ssl; } }")
    assert server.verify_mode == "optional"
    assert server.anchor(server.verify_directive) is server.block


def test_a_server_setting_overrides_http(tmp_path: Path) -> None:
    server = only_server(tmp_path, "http { ssl_verify_client on; server { ssl_verify_client off; } }")
    assert server.verify_mode == "off"
    assert server.anchor(server.verify_directive) is server.verify_directive


def test_verification_is_off_by_default(tmp_path: Path) -> None:
    assert only_server(tmp_path, "http { server { } }").verify_mode == "off"


def test_repeatable_directives_come_from_the_innermost_block_that_has_any(tmp_path: Path) -> None:
    server = only_server(
        tmp_path,
        "http { ssl_certificate a.pem; ssl_certificate b.pem; server { ssl_certificate c.pem; } }",
    )
    assert [d.args[0] for d in server.get_all("ssl_certificate")] == ["c.pem"]


def test_location_scopes_see_location_then_server_then_http_settings(tmp_path: Path) -> None:
    server = only_server(
        tmp_path,
        "http { proxy_ssl_verify on; server { location / { proxy_ssl_verify off; if ($x) { return 403; } } } }",
    )
    scopes = {d.name: scope for scope, d in server.walk()}
    assert scopes["return"].value("proxy_ssl_verify", "") == "off"
    assert scopes["location"].value("proxy_ssl_verify", "") == "on"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("443", "*:443"),
        ("*:443", "*:443"),
        ("0.0.0.0:443", "*:443"),
        ("127.0.0.1:8443", "127.0.0.1:8443"),
        ("127.0.0.1", "127.0.0.1:80"),
        ("[::]:443", "[::]:443"),
        ("unix:/run/nginx.sock", "unix:/run/nginx.sock"),
    ],
)
def test_listen_addresses_are_normalized(raw: str, normalized: str) -> None:
    assert normalize_address(raw) == normalized


def test_a_server_without_listen_listens_on_port_80(tmp_path: Path) -> None:
    (listen,) = only_server(tmp_path, "http { server { } }").listens
    assert (listen.address, listen.ssl) == ("*:80", False)


def test_a_check_through_map_and_set_is_found(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "http {\n"
        "  map $ssl_client_verify $verified { default 0; SUCCESS 1; }\n"
        "  server {\n"
        "    set $ok $verified;\n"
        "    if ($ok = 0) { return 403; }\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    config = parse_config(conf)
    (server,) = servers(config)
    (check,) = server.checks(("ssl_client_verify",), protocol_block(config, "http"))
    assert (check.name, check.line) == ("if", 5)


def test_echoing_a_variable_back_to_the_client_is_not_a_check(tmp_path: Path) -> None:
    server = only_server(
        tmp_path,
        'http { server { add_header X-Verify $ssl_client_verify; return 200 "$ssl_client_verify"; } }',
    )
    assert server.checks(("ssl_client_verify",)) == ()
