"""Specs for ``linkdoctor config show|path`` and for ``check`` reading the configuration file: the command
line wins, files are found from subdirectories, errors exit with code 3, secrets never show."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from linkdoctor.cli import cli


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a small local site; linkdoctor runs in it."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        '<a href="a.html">a</a>\n<a href="missing.html">missing</a>\n<a href="https://skip.invalid/">skip</a>\n'
    )
    (site / "a.html").write_text("<p>a</p>\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def show(*args: str) -> dict[str, object]:
    result = run("config", "show", *args)
    assert result.exit_code == 0, result.output
    return tomllib.loads(result.stdout)


def check_json(*args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = run("check", "--no-progress", "--format", "json-v1", *args)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, {r["url"].rpartition("/")[2]: r for r in json.loads(result.stdout)["results"]}


# --- config show ------------------------------------------------------------------------------------------------
def test_show_prints_every_key_with_the_file_values(project: Path) -> None:
    (project / "linkdoctor.toml").write_text('max_concurrency = 64\naccept = ["200..299", "429"]\n')
    shown = show()
    assert shown["max_concurrency"] == 64
    assert shown["accept"] == ["200..299", "429"]
    assert shown["retries"] == 2  # the default, since neither file nor flag set it


def test_show_lets_flags_win_over_the_file(project: Path) -> None:
    (project / "linkdoctor.toml").write_text("max_concurrency = 64\nretries = 5\nrecursive = false\n")
    shown = show("--max-concurrency", "8", "--recursive")
    assert (shown["max_concurrency"], shown["retries"], shown["recursive"]) == (8, 5, True)


def test_show_lists_what_is_not_set(project: Path) -> None:
    result = run("config", "show", "--no-config")
    assert "# not set: inputs, base_url, depth," in result.stdout


def test_show_masks_secret_headers_and_never_prints_passwords(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCS_PASSWORD", "pw-from-env")
    (project / "linkdoctor.toml").write_text(
        'header = ["X-Api-Key: key-in-file", "Accept-Language: en"]\n'
        "[[hosts]]\n"
        'match = ["docs.example"]\n'
        'headers = {Authorization = "Bearer token-in-file", X-Trace = "visible"}\n'
        'user = "bob"\n'
        'password_env = "DOCS_PASSWORD"\n'
    )
    result = run("config", "show", "--host-header", "a.example", "Cookie: session=cookie-on-cli")
    assert result.exit_code == 0, result.output
    for secret in ("key-in-file", "token-in-file", "cookie-on-cli", "pw-from-env"):
        assert secret not in result.stdout
    shown = tomllib.loads(result.stdout)
    assert shown["header"] == ["X-Api-Key: ***", "Accept-Language: en"]
    assert shown["host_header"] == [["a.example", "Cookie: ***"]]
    assert shown["hosts"] == [
        {
            "match": ["docs.example"],
            "headers": {"Authorization": "***", "X-Trace": "visible"},
            "user": "bob",
            "password_env": "DOCS_PASSWORD",
        }
    ]


def test_show_output_loads_back_as_a_config_file(project: Path) -> None:
    (project / "linkdoctor.toml").write_text(
        'exclude = ["^https://skip"]\n[remap]\n"^https://old/(.*)" = "https://new/$1"\n'
    )
    shown = run("config", "show").stdout
    (project / "again.toml").write_text(shown)
    assert show("--config", "again.toml") == tomllib.loads(shown)


def test_show_reports_a_bad_file_with_exit_code_3(project: Path) -> None:
    (project / "linkdoctor.toml").write_text("retries = [\n")
    result = run("config", "show")
    assert result.exit_code == 3
    assert f"{project / 'linkdoctor.toml'}:2:1: malformed TOML" in result.output


# --- config path --------------------------------------------------------------------------------------------------
def test_path_prints_the_file_found_from_a_subdirectory(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "linkdoctor.toml").write_text("retries = 1\n")
    monkeypatch.chdir(project / "site")
    result = run("config", "path")
    assert (result.exit_code, result.stdout) == (0, f"{project / 'linkdoctor.toml'}\n")


def test_path_says_so_when_there_is_no_file(project: Path) -> None:
    result = run("config", "path")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no linkdoctor.toml or pyproject.toml" in result.stderr


def test_path_reports_a_malformed_pyproject_table_with_exit_code_3(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.linkdoctor]\nretries = [\n")
    result = run("config", "path")
    assert result.exit_code == 3
    assert f"{project / 'pyproject.toml'}:3:1: malformed TOML" in result.output


def test_path_with_config_validates_the_file(project: Path) -> None:
    (project / "ci.toml").write_text("retires = 1\n")
    result = run("config", "path", "--config", "ci.toml")
    assert result.exit_code == 3
    assert "ci.toml: retires: unknown key (did you mean retries?)" in result.output


def test_path_finds_a_pyproject_table(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.linkdoctor]\nretries = 1\n")
    assert run("config", "path").stdout == f"{project / 'pyproject.toml'}\n"


# --- check with a config file -------------------------------------------------------------------------------------
def test_check_applies_the_file(project: Path) -> None:
    (project / "linkdoctor.toml").write_text('exclude = ["skip\\\\.invalid"]\n')
    _, results = check_json("site")
    assert results[""]["category"] == "excluded"  # https://skip.invalid/


def test_check_uses_the_inputs_key_relative_to_the_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "linkdoctor.toml").write_text('inputs = ["site"]\nexclude = ["skip"]\n')
    monkeypatch.chdir(project / "site")  # found by walking up; "site" is relative to the file
    code, results = check_json()
    assert code == 2
    assert results["missing.html"]["category"] == "broken"


def test_check_command_line_lists_replace_the_file_lists(project: Path) -> None:
    (project / "linkdoctor.toml").write_text('exclude = ["missing"]\n')
    _, results = check_json("site", "--exclude", "skip")
    assert results[""]["category"] == "excluded"
    assert results["missing.html"]["category"] == "broken"  # the file's exclude no longer applies


def test_check_command_line_boolean_wins(project: Path) -> None:
    (project / "linkdoctor.toml").write_text('exclude = ["skip"]\nfragments = false\n')
    (project / "site" / "index.html").write_text('<a href="a.html#nowhere">a</a>\n')
    assert check_json("site")[0] == 0
    assert check_json("site", "--fragments")[0] == 2


def test_check_with_no_config_ignores_the_file(project: Path) -> None:
    (project / "linkdoctor.toml").write_text("this is not TOML\n")
    result = run("check", "--no-config", "--no-progress", "--format", "json", "--exclude", "skip", "site")
    assert result.exit_code == 2, result.output


def test_check_with_an_explicit_config(project: Path) -> None:
    (project / "linkdoctor.toml").write_text("this is not TOML\n")
    (project / "ci.toml").write_text('exclude = ["skip", "missing"]\n')
    assert check_json("--config", "ci.toml", "site")[0] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("retries = 1\nretries = 2\n", "linkdoctor.toml:2:"),
        (
            'max_concurrency = "ten"\n',
            'linkdoctor.toml: max_concurrency: must be a positive integer, got "ten"',
        ),
        ('format = "yaml"\n', "linkdoctor.toml: format: unknown format 'yaml'"),
    ],
)
def test_check_refuses_a_bad_file_with_exit_code_3(project: Path, text: str, message: str) -> None:
    (project / "linkdoctor.toml").write_text(text)
    result = run("check", "--no-progress", "site")
    assert result.exit_code == 3, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_check_reads_basic_auth_passwords_from_the_environment_only_when_set(project: Path) -> None:
    (project / "linkdoctor.toml").write_text(
        '[[hosts]]\nmatch = ["x.example"]\nuser = "bob"\npassword_env = "LD_TEST_UNSET_VARIABLE"\n'
    )
    result = run("check", "--no-progress", "site")
    assert result.exit_code == 3
    assert (
        "hosts[0].password_env: the environment variable LD_TEST_UNSET_VARIABLE is not set" in result.output
    )
