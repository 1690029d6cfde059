"""Specs for reading a configuration (linkdoctor.nginx.parse): includes, file and line, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkdoctor.errors import ConfigError
from linkdoctor.nginx.parse import NginxParseError, parse_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_glob_includes_are_inlined_with_their_own_file_and_line(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include conf.d/*.conf;\n}\n")
    write(tmp_path / "conf.d" / "a.conf", "\n\nserver {\n    listen 443 ssl;\n}\n")
    config = parse_config(conf)
    listen = next(d for d in config.walk() if d.name == "listen")
    assert (listen.file, listen.line) == (tmp_path / "conf.d" / "a.conf", 4)
    assert listen.context == ("http", "server")


def test_directives_after_an_include_keep_the_including_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http {\n    include snippets/*.conf;\n    server {\n    }\n}\n")
    write(tmp_path / "snippets" / "x.conf", "map $a $b { default 1; }\n")
    server = next(d for d in parse_config(conf).walk() if d.name == "server")
    assert (server.file, server.line) == (tmp_path / "nginx.conf", 3)


def test_files_lists_the_main_file_and_every_included_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http { include a.conf; include b.conf; }\n")
    write(tmp_path / "a.conf", "")
    write(tmp_path / "b.conf", "")
    assert parse_config(conf).files == (conf, tmp_path / "a.conf", tmp_path / "b.conf")


def test_a_file_included_twice_is_inlined_twice(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "nginx.conf",
        "http {\n server { include tls.conf; }\n server { include tls.conf; }\n}\n",
    )
    write(tmp_path / "tls.conf", "ssl_verify_client on;\n")
    found = [d for d in parse_config(conf).walk() if d.name == "ssl_verify_client"]
    assert len(found) == 2


def test_locations_nested_in_locations_have_the_location_context(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http { server { location / { location /a { if ($x) { } } } } }\n")
    contexts = {d.name + d.args[0]: d.context for d in parse_config(conf).walk() if d.args}
    assert contexts["location/a"] == ("http", "location")
    assert contexts["if$x"] == ("http", "location")


def test_relative_paths_resolve_against_the_main_files_directory(tmp_path: Path) -> None:
    conf = write(tmp_path / "etc" / "nginx.conf", "events {}\n")
    config = parse_config(conf)
    assert config.resolve("tls/ca.pem") == tmp_path / "etc" / "tls" / "ca.pem"
    assert config.resolve("/abs/ca.pem") == Path("/abs/ca.pem")


@pytest.mark.parametrize("value", ["$ssl_server_name.pem", "data:$cert", "engine:pkcs11:key"])
def test_paths_known_only_at_request_time_resolve_to_none(tmp_path: Path, value: str) -> None:
    config = parse_config(write(tmp_path / "nginx.conf", "events {}\n"))
    assert config.resolve(value) is None


def test_a_missing_brace_is_a_parse_error_with_file_and_line(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {\n    server {\n}\n")
    with pytest.raises(NginxParseError) as caught:
        parse_config(conf)
    assert caught.value.file == conf
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{conf}:4: unexpected end of file")


def test_a_missing_include_names_the_including_line(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "events {}\nhttp {\n    include missing.conf;\n}\n")
    with pytest.raises(NginxParseError) as caught:
        parse_config(conf)
    assert (caught.value.file, caught.value.line) == (conf, 3)
    assert "missing.conf" in str(caught.value)


def test_a_glob_matching_nothing_is_not_an_error(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http {\n    include sites/*.conf;\n}\n")
    assert [d.name for d in parse_config(conf).walk()] == ["http"]


def test_a_missing_main_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No such file"):
        parse_config(tmp_path / "nope.conf")


def test_a_directive_with_the_wrong_number_of_arguments_is_a_parse_error(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http {\n    ssl_verify_client;\n}\n")
    with pytest.raises(NginxParseError, match="invalid number of arguments"):
        parse_config(conf)


def test_an_include_cycle_is_a_parse_error(tmp_path: Path) -> None:
    conf = write(tmp_path / "nginx.conf", "http { include a.conf; }\n")
    write(tmp_path / "a.conf", "include b.conf;\n")
    write(tmp_path / "b.conf", "include a.conf;\n")
    with pytest.raises(NginxParseError, match="include cycle"):
        parse_config(conf)
