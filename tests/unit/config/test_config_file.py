"""Specs for the configuration file (linkdoctor.config_file): discovery, parsing, validation with precise
errors, relative paths, secrets only through the environment, and the merge with command-line flags."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from linkdoctor.cli.check import check
from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Secret
from linkdoctor.config_file import (
    OPTION_KEYS,
    apply_sections,
    discover,
    find_and_load,
    load,
    merge_options,
)
from linkdoctor.errors import ConfigError


def write(directory: Path, text: str, name: str = "linkdoctor.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return str(caught.value)


# --- discovery ---------------------------------------------------------------------------------------------
def test_discover_finds_linkdoctor_toml_in_the_start_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\n")
    assert discover(tmp_path) == path


def test_discover_walks_up_from_a_subdirectory(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\n")
    deep = tmp_path / "docs" / "guide"
    deep.mkdir(parents=True)
    assert discover(deep) == path


def test_the_nearest_file_wins(tmp_path: Path) -> None:
    write(tmp_path, "retries = 1\n")
    nearer = write(tmp_path / "sub", "retries = 2\n")
    assert discover(tmp_path / "sub") == nearer


def test_linkdoctor_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path, "[tool.linkdoctor]\nretries = 1\n", name="pyproject.toml")
    path = write(tmp_path, "retries = 2\n")
    assert discover(tmp_path) == path


def test_a_pyproject_without_a_linkdoctor_table_is_passed_over(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\n")
    write(tmp_path / "pkg", "[project]\nname = 'x'\n", name="pyproject.toml")
    assert discover(tmp_path / "pkg") == path


def test_an_unrelated_malformed_pyproject_is_passed_over_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\n")
    write(tmp_path / "pkg", "[project\nname = \n", name="pyproject.toml")
    assert discover(tmp_path / "pkg") == path


def test_a_malformed_pyproject_that_names_linkdoctor_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.linkdoctor]\nretries = \n", name="pyproject.toml")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}:2:11: malformed TOML"):
        discover(tmp_path)


def test_discover_finds_nothing_where_there_is_no_file(tmp_path: Path) -> None:
    assert discover(tmp_path) is None


def test_pyproject_tool_table_is_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.linkdoctor]\nmax_concurrency = 7\n[tool.other]\nx = 1\n", "pyproject.toml")
    assert discover(tmp_path) == path
    assert load(path).option_values() == {"max_concurrency": 7}


def test_pyproject_errors_name_the_tool_table_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[tool.linkdoctor]\nretries = -1\n", "pyproject.toml")
    assert error_of(path) == f"{path}: tool.linkdoctor.retries: must be an integer from 0 to 20, got -1"


def test_an_explicit_pyproject_without_the_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[project]\nname = 'x'\n", "pyproject.toml")
    assert error_of(path) == f"{path}: has no [tool.linkdoctor] table"


def test_no_config_ignores_even_a_broken_file(tmp_path: Path) -> None:
    write(tmp_path, "this is not toml\n")
    assert find_and_load(None, no_config=True, cwd=tmp_path) is None


def test_config_and_no_config_together_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\n")
    with pytest.raises(ConfigError, match="exclude each other"):
        find_and_load(path, no_config=True, cwd=tmp_path)


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--config .*nope\.toml: file not found"):
        find_and_load(tmp_path / "nope.toml", no_config=False, cwd=tmp_path)


# --- malformed TOML ------------------------------------------------------------------------------------------
def test_malformed_toml_is_reported_with_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, 'retries = 1\nexclude = ["a",\n  = 3\n')
    assert re.fullmatch(rf"{re.escape(str(path))}:3:3: malformed TOML: .+", error_of(path))


def test_malformed_toml_at_the_end_points_past_the_last_character(tmp_path: Path) -> None:
    path = write(tmp_path, "retries = 1\ntimeout = ")
    assert error_of(path).startswith(f"{path}:2:11: malformed TOML: Invalid value")


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "linkdoctor.toml"
    path.write_bytes(b"retries = 1\n\xff\xfe")
    assert "not UTF-8" in error_of(path)


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "linkdoctor.toml"
    path.write_bytes(b"\xef\xbb\xbfretries = 1\n")  # as editors on Windows save it
    assert load(path).option_values() == {"retries": 1}


# --- unknown keys and bad values ---------------------------------------------------------------------------------
def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "max_concurency = 3\n")
    assert error_of(path) == f"{path}: max_concurency: unknown key (did you mean max_concurrency?)"


def test_dashed_keys_are_told_to_use_underscores(tmp_path: Path) -> None:
    path = write(tmp_path, "max-pages = 3\n")
    assert error_of(path) == f"{path}: max-pages: unknown key (keys use underscores: max_pages)"


def test_bad_host_value_names_file_table_index_key_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[hosts]]\nmatch = ["a.example"]\n\n[[hosts]]\nmatch = ["b.example"]\nmax_concurrency = "ten"\n',
    )
    assert error_of(path) == f'{path}: hosts[1].max_concurrency: must be a positive integer, got "ten"'


def test_unknown_key_inside_a_host_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[[hosts]]\nmatch = ["a"]\nheader = {X = "1"}\n')
    assert error_of(path) == f"{path}: hosts[0].header: unknown key (did you mean headers?)"


@pytest.mark.parametrize(
    ("text", "where", "fix"),
    [
        ('[[hosts]]\nmatch = ["a"]\nuser = "u"\npassword = "hunter2"\n', "hosts[0].password", "password_env"),
        (
            '[[tls.client]]\npkcs12 = "x.p12"\npassword = "hunter2"\n',
            "tls.client[0].password",
            "password_env",
        ),
        ('key_password = "hunter2"\n', "key_password", "key_password_env"),
    ],
)
def test_plain_passwords_are_refused_with_the_env_key_to_use(
    tmp_path: Path, text: str, where: str, fix: str
) -> None:
    message = error_of(write(tmp_path, text))
    assert f": {where}: passwords are not allowed in config files" in message
    assert message.endswith(f"name an environment variable with {fix}")
    assert "hunter2" not in message


def test_a_bad_regex_names_its_list_index(tmp_path: Path) -> None:
    path = write(tmp_path, 'exclude = ["ok", "(unclosed"]\n')
    assert error_of(path).startswith(f'{path}: exclude[1]: "(unclosed" is not a valid regular expression:')


def test_a_bad_status_range_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'accept = ["200..299", "299..200"]\n')
    assert error_of(path) == (
        f'{path}: accept[1]: must be a status (429) or a range (200..299) from 100 to 999, got "299..200"'
    )


def test_a_list_key_given_a_string_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'exclude = "^https://a"\n')
    assert error_of(path) == f'{path}: exclude: must be a list, got "^https://a"'


def test_booleans_are_not_integers(tmp_path: Path) -> None:
    path = write(tmp_path, "max_pages = true\n")
    assert error_of(path) == f"{path}: max_pages: must be a positive integer, got true"


def test_a_choice_outside_its_values_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'method = "post"\n')
    assert error_of(path) == f'{path}: method: must be one of auto, head, get, got "post"'


def test_a_missing_file_is_reported_with_its_resolved_path(tmp_path: Path) -> None:
    path = write(tmp_path, '[[hosts]]\nmatch = ["a"]\ncacert = "certs/ca.pem"\n')
    assert error_of(path) == f"{path}: hosts[0].cacert: file not found: {tmp_path / 'certs' / 'ca.pem'}"


def test_basic_auth_needs_user_and_password_env(tmp_path: Path) -> None:
    path = write(tmp_path, '[[hosts]]\nmatch = ["a"]\nuser = "bob"\n')
    assert error_of(path) == f"{path}: hosts[0].password_env: basic auth needs both user and password_env"


def test_a_host_table_without_match_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[hosts]]\nheaders = {X = "1"}\n')
    assert error_of(path).startswith(f"{path}: hosts[0].match: is required")


def test_a_client_certificate_needs_cert_or_pkcs12_not_both(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("x")
    (tmp_path / "c.p12").write_text("x")
    path = write(tmp_path, '[[tls.client]]\ncert = "c.pem"\npkcs12 = "c.p12"\n')
    assert "tls.client[0]: needs either cert" in error_of(path)


def test_unknown_tls_subtable_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[tls.server]\ncert = "x"\n')
    assert error_of(path) == f"{path}: tls.server: unknown key (expected one of: client)"


def test_env_names_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, 'key_password_env = "$HOME"\n')
    assert error_of(path) == (
        f'{path}: key_password_env: must name an environment variable (letters, digits and _), got "$HOME"'
    )


# --- values ----------------------------------------------------------------------------------------------------
def test_relative_paths_resolve_against_the_file_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "certs").mkdir(parents=True)
    (project / "certs" / "ca.pem").write_text("x")
    path = write(
        project, 'cacert = "certs/ca.pem"\noutput = "out/report.html"\ninputs = ["docs", "https://e.org/"]\n'
    )
    monkeypatch.chdir(tmp_path)  # paths must not depend on where linkdoctor runs
    values = load(path).option_values()
    assert values["cacert"] == project / "certs" / "ca.pem"
    assert values["output"] == (project / "out" / "report.html",)
    assert values["inputs"] == (str(project / "docs"), "https://e.org/")


def test_format_with_a_file_resolves_the_file_part(tmp_path: Path) -> None:
    path = write(tmp_path, 'format = ["console", "sarif:out/r.sarif"]\n')
    assert load(path).option_values()["fmt"] == ("console", f"sarif:{tmp_path / 'out' / 'r.sarif'}")


def test_a_single_format_needs_no_list(tmp_path: Path) -> None:
    assert load(write(tmp_path, 'format = "json"\n')).option_values()["fmt"] == ("json",)


def test_header_accepts_a_table_or_a_list(tmp_path: Path) -> None:
    table = load(write(tmp_path / "a", 'header = {X-One = "1", X-Two = "2"}\n')).option_values()
    listed = load(write(tmp_path / "b", 'header = ["X-One: 1", "X-Two: 2"]\n')).option_values()
    assert table["header"] == listed["header"] == ("X-One: 1", "X-Two: 2")


def test_accept_takes_numbers_and_ranges(tmp_path: Path) -> None:
    path = write(tmp_path, 'accept = ["200..299", 429, "496,497"]\n')
    assert load(path).option_values()["accept"] == ("200..299", "429", "496,497")


def test_remap_templates_use_dollar_groups(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[remap]\n"^https://old\\\\.example/(?P<rest>.*)" = "https://new.example/${rest}?from=$$"\n'
    )
    (rule,) = load(path).remap
    assert rule.pattern.sub(rule.template, "https://old.example/a/b") == "https://new.example/a/b?from=$"


def test_remap_to_a_missing_group_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[remap]\n"^https://old/(.*)" = "https://new/$2"\n')
    assert (
        error_of(path)
        == f'{path}: remap."^https://old/(.*)": $2 refers to a group the pattern does not have (1)'
    )


def test_remap_backslashes_in_the_replacement_are_literal(tmp_path: Path) -> None:
    path = write(tmp_path, '[remap]\n"^a(.*)" = "b\\\\n$1"\n')
    (rule,) = load(path).remap
    assert rule.pattern.sub(rule.template, "axyz") == "b\\nxyz"


# --- every flag has a key -------------------------------------------------------------------------------------
def test_every_check_option_has_a_config_key() -> None:
    # Not settings: which file to read, and --resume, which names one interrupted run to pick up.
    meta = {"config", "no_config", "help", "resume"}
    options = {p.name for p in check.params if isinstance(p, click.Option) and p.name not in meta}
    arguments = {p.name for p in check.params if isinstance(p, click.Argument)}
    assert options | arguments == set(OPTION_KEYS.values())


def test_every_config_key_is_spelled_like_its_flag() -> None:
    flags = {p.name: p.opts for p in check.params}
    for key, dest in OPTION_KEYS.items():
        if dest == "inputs":
            continue
        assert f"--{key.replace('_', '-')}" in flags[dest], key


# --- merging -----------------------------------------------------------------------------------------------------
def test_file_values_fill_only_what_the_command_line_did_not_set(tmp_path: Path) -> None:
    file = load(write(tmp_path, "max_concurrency = 64\nretries = 5\n"))
    merged = merge_options(
        {"max_concurrency": 8, "retries": 2, "timeout": 20.0},
        file,
        explicit=lambda name: name == "max_concurrency",
    )
    assert merged == {"max_concurrency": 8, "retries": 5, "timeout": 20.0}


def test_sections_add_hosts_certificates_and_remap(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("x")
    file = load(
        write(
            tmp_path,
            '[[hosts]]\nmatch = ["*.corp.example"]\nheaders = {X-A = "1"}\nheaders_env = {X-Token = "TOKEN"}\n'
            'user = "bob"\npassword_env = "BOB_PW"\nmax_concurrency = 2\ninterval = 0.5\n'
            '[[tls.client]]\nhosts = ["api.example.com"]\ncert = "c.pem"\npassword_env = "KEY_PW"\n'
            '[remap]\n"^http://old/(.*)" = "https://new/$1"\n',
        )
    )
    cli_cert = ClientCert(cert=Path("cli.pem"))
    cli_host = HostSettings(("*.corp.example",), headers=(("X-A", "cli"),))
    config = apply_sections(
        CheckConfig(client_certs=(cli_cert,), host_settings=(cli_host,)),
        file,
        environ={"TOKEN": "t0k", "BOB_PW": "pw", "KEY_PW": "kpw"},
    )
    file_host = config.host_settings[0]
    assert file_host.headers == (("X-A", "1"), ("X-Token", Secret("t0k")))  # from the environment: a secret
    assert "t0k" not in repr(config)
    assert file_host.basic_auth == ("bob", Secret("pw"))
    assert (file_host.max_concurrency, file_host.interval) == (2, 0.5)
    assert config.host_settings[1] == cli_host  # applied last, so the command line's header wins
    assert config.client_certs == (
        cli_cert,
        ClientCert(cert=tmp_path / "c.pem", password=Secret("kpw"), hosts=("api.example.com",)),
    )
    assert [(p.pattern, t) for p, t in config.remap] == [("^http://old/(.*)", "https://new/\\g<1>")]


def test_an_unset_password_variable_names_the_key(tmp_path: Path) -> None:
    file = load(write(tmp_path, '[[hosts]]\nmatch = ["a"]\nuser = "bob"\npassword_env = "NOT_SET_HERE"\n'))
    with pytest.raises(ConfigError) as caught:
        apply_sections(CheckConfig(), file, environ={})
    assert str(caught.value) == (
        f"{tmp_path / 'linkdoctor.toml'}: hosts[0].password_env: the environment variable NOT_SET_HERE is not set"
    )


@pytest.mark.parametrize("text", ["[tool]\nlinkdoctor = 5\n", 'tool = {linkdoctor = "retries = 2"}\n'])
def test_a_tool_linkdoctor_that_is_not_a_table_is_an_error_not_passed_over(tmp_path: Path, text: str) -> None:
    """Settings the user meant to give: found and refused with the reason, never silently ignored."""
    path = write(tmp_path, text, name="pyproject.toml")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: tool.linkdoctor: must be a table"):
        discover(tmp_path)
    assert error_of(path).startswith(f"{path}: tool.linkdoctor: must be a table ([tool.linkdoctor]), got ")
