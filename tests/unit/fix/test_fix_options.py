"""``linkdoctor fix``'s options come from the option schema like every other: its own flags (Context.FIX)
set FixSettings' fields with its defaults, read the config file's ``[fix]`` table, and never leak into
``check``; ``fix`` also takes the check's flags that say what is checked and how."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from linkdoctor import config_file
from linkdoctor.cli import cli
from linkdoctor.cli.check import check
from linkdoctor.cli.fix import fix, settings_from
from linkdoctor.errors import ConfigError
from linkdoctor.fix.model import ArchiveMode, FixSettings
from linkdoctor.options import Context, cli_options, file_keys, fix_flags, option


def _params(command: click.Command) -> list[str]:
    return [p.name for p in command.params if p.name is not None]


def test_fix_flags_set_every_fix_setting_with_its_default() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(FixSettings)}
    declared = {o.field: o for o in fix_flags() if o.field is not None}
    assert set(declared) == set(fields)
    for name, o in declared.items():
        default = fields[name].value if isinstance(fields[name], ArchiveMode) else fields[name]
        assert o.default == default, o.name


def test_fix_flags_are_named_after_their_keys() -> None:
    for o in fix_flags():
        assert o.name.startswith("fix_") and Context.FIX in o.contexts
        long = o.flags[0].split("/")[0]
        assert long == "--" + o.name.removeprefix("fix_").replace("_", "-"), o.name
        if o.key is not None:
            assert o.key == "fix." + o.name.removeprefix("fix_"), o.name


def test_check_takes_no_fix_flag_and_fix_takes_the_check_flags_that_configure_a_check() -> None:
    assert not set(_params(check)) & {o.name for o in fix_flags()}
    params = _params(fix)
    assert {o.name for o in fix_flags()} <= set(params)
    assert {o.name for o in cli_options() if o.field is not None and o.name != "diagnose"} <= set(params)
    assert "fmt" not in params and "broker" not in params


def test_the_fix_table_holds_the_fix_keys() -> None:
    assert set(config_file._FIX_KEYS) == set(file_keys("fix."))
    assert all(option(name).key == f"fix.{key}" for key, (name, _) in config_file._FIX_KEYS.items())


def test_the_config_file_fix_table_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "linkdoctor.toml"
    path.write_text('[fix]\nredirects = false\ndeny_host = ["*.example.org"]\narchive_mode = "note"\n')
    assert dict(config_file.load(path).fix) == {
        "fix_redirects": False,
        "fix_deny_host": ("*.example.org",),
        "fix_archive_mode": "note",
    }
    path.write_text("[fix]\nredirect = false\n")
    with pytest.raises(ConfigError, match=r"fix\.redirect: unknown key \(did you mean redirects\?\)"):
        config_file.load(path)
    path.write_text('[fix]\narchive_mode = "footnote"\n')
    with pytest.raises(ConfigError, match=r"fix\.archive_mode"):
        config_file.load(path)


def test_the_fix_table_reaches_the_settings_and_the_command_line_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_text("# A\n\n[self](a.md)\n")
    (tmp_path / "linkdoctor.toml").write_text('[fix]\nmoved_files = false\nallow_host = ["docs.example"]\n')
    monkeypatch.chdir(tmp_path)
    seen: list[FixSettings] = []

    def spy(opts: dict[str, Any]) -> FixSettings:
        seen.append(settings_from(opts))
        return seen[-1]

    monkeypatch.setattr("linkdoctor.cli.fix.settings_from", spy)
    result = CliRunner().invoke(cli, ["fix", "a.md", "--moved-files"])
    assert result.exit_code == 0, result.output
    assert seen[0].moved_files is True  # the flag, over the file
    assert seen[0].allow_hosts == ("docs.example",)


def test_a_bad_archive_endpoint_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text("# A\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["fix", "a.md", "--no-config", "--archive-endpoint", "ftp://x/"])
    assert result.exit_code == 3
    assert "--archive-endpoint 'ftp://x/' must be an http:// or https:// URL" in result.output


@pytest.mark.parametrize("doc", ["README.md", "docs/fix.md"])
def test_the_documented_fix_table_is_valid_and_names_every_key(doc: str, tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[3] / doc).read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", text, flags=re.S) if "\n[fix]\n" in f"\n{b}"]
    table = "[fix]\n" + block.split("[fix]\n", 1)[1]
    path = tmp_path / "linkdoctor.toml"
    path.write_text(table, encoding="utf-8")
    assert {name.removeprefix("fix_") for name, _ in config_file.load(path).fix} == set(file_keys("fix."))


def test_config_show_prints_the_fix_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "linkdoctor.toml").write_text(
        '[fix]\narchive = true\nredirects = false\ndeny_host = ["a.example"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert '\n[fix]\nredirects = false\ndeny_host = [\n    "a.example",\n]\narchive = true\n' in result.output


def test_the_library_example_of_the_fix_docs_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    text = (Path(__file__).resolve().parents[3] / "docs" / "fix.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Index\n\n[guide](guide.md#Getting_Started)\n")
    (docs / "guide.md").write_text("# Guide\n\n## Getting started\n")
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "guide.md#Getting_Started -> guide.md#getting-started" in done.stdout
    assert (docs / "index.md").read_text() == "# Index\n\n[guide](guide.md#getting-started)\n"
