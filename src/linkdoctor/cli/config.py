"""``linkdoctor config``: which configuration file a run uses (``config path``) and the effective settings
(``config show``, as TOML with secrets masked). The merge of the file into the flags, which ``check`` uses
too, lives in :mod:`linkdoctor.cli.merge`.

    linkdoctor config path
    linkdoctor config show --max-concurrency 8 https://example.org/
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import tomli_w

from linkdoctor.cli import UsageError
from linkdoctor.cli.check import check
from linkdoctor.cli.merge import merge_config_file
from linkdoctor.config import ClientCert
from linkdoctor.config_file import (
    OPTION_KEYS,
    FileConfig,
    HostEntry,
    discover,
    find_and_load,
)
from linkdoctor.errors import ConfigError
from linkdoctor.options import file_keys

MASK = "***"
_SENSITIVE_HEADER = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "key",
    "passw",
    "session",
    "signature",
    "auth",
)


# --- the commands ---------------------------------------------------------------------------------------------
@click.group("config")
def config() -> None:
    """Show which configuration file applies and the settings a check would use."""


@config.command("path")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="This file.")
def path_command(config_path: Path | None) -> None:
    """Print the configuration file a check started here would use (linkdoctor.toml or pyproject.toml)."""
    cwd = Path.cwd()
    try:
        loaded = find_and_load(config_path, no_config=False, cwd=cwd) if config_path else None
        found = loaded.path if loaded is not None else discover(cwd)
    except ConfigError as exc:
        raise UsageError(exc) from exc
    if found is None:
        click.echo(f"no linkdoctor.toml or pyproject.toml with [tool.linkdoctor] in {cwd} or above", err=True)
        return
    click.echo(str(found))


@config.command("show", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("check_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def show_command(ctx: click.Context, check_args: tuple[str, ...]) -> None:
    """Print the effective configuration as TOML: the file merged with these `check` flags (all of them
    work here, --config too), every key with its value, secrets masked.

    \b
    linkdoctor config show
    linkdoctor config show --config ci.toml --max-concurrency 8
    """
    with check.make_context("check", list(check_args), parent=ctx) as check_ctx:
        opts = dict(check_ctx.params)
        inputs = tuple(opts.pop("inputs", ()))
        try:
            inputs, file = merge_config_file(check_ctx, inputs, opts)
        except ConfigError as exc:
            raise UsageError(exc) from exc
    click.echo(render_toml({**opts, "inputs": inputs or None}, file), nl=False)


# --- rendering ------------------------------------------------------------------------------------------------
def mask_header(header: str) -> str:
    """``"Authorization: Bearer x"`` → ``"Authorization: ***"``; harmless headers stay as they are."""
    name, sep, _ = header.partition(":")
    secret = any(word in name.lower() for word in _SENSITIVE_HEADER)
    return f"{name}: {MASK}" if sep and secret else header


def render_toml(options: Mapping[str, Any], file: FileConfig | None) -> str:
    """The effective configuration as a TOML config file: every key with its value (``options`` maps
    ``check`` parameter names to values), then the file's sections. Header values that look secret are
    masked; passwords are never known here, only the environment variables that hold them."""
    document: dict[str, Any] = {}
    unset: list[str] = []
    for key, dest in OPTION_KEYS.items():
        value = options.get(dest)
        if value is None:
            unset.append(key)
            continue
        if key == "header":
            value = [mask_header(h) for h in value]
        elif key == "host_header":
            value = [(host, mask_header(h)) for host, h in value]
        document[key] = _plain(value)
    if file is not None:
        if file.hosts:
            document["hosts"] = [_host_table(entry) for entry in file.hosts]
        if file.client_certs:
            document["tls"] = {"client": [_client_table(entry) for entry in file.client_certs]}
        if file.remap:
            document["remap"] = {rule.pattern.pattern: rule.replacement for rule in file.remap}
        if file.fix:  # `linkdoctor fix`'s table, in the schema's order
            given = dict(file.fix)
            document["fix"] = {
                key: _plain(given[o.name]) for key, o in file_keys("fix.").items() if o.name in given
            }
    source = f"{file.path} and the command line" if file else "the command line; no configuration file"
    lines = [f"# effective configuration: {source}"]
    if unset:
        lines.append("# not set: " + ", ".join(unset))
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(document)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value.absolute())  # command-line paths are relative to the working directory
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _host_table(entry: HostEntry) -> dict[str, Any]:
    """A ``[[hosts]]`` table with its schema keys in order; header values that look secret masked."""
    table: dict[str, Any] = {}
    for key in file_keys("hosts."):
        value = getattr(entry, key)
        if key == "headers":
            value = {name: mask_header(f"{name}: {v}").partition(": ")[2] for name, v in value} or None
        elif key == "headers_env":
            value = dict(value) or None
        elif key == "match":
            value = list(value)
        if value is not None:
            table[key] = _plain(value)
    return table


def _client_table(entry: ClientCert) -> dict[str, Any]:
    """A ``[[tls.client]]`` table with its schema keys in order (empty ``hosts``, every host, left out)."""
    table: dict[str, Any] = {}
    for key in file_keys("tls.client."):
        value = getattr(entry, key)
        if value is not None and value != ():
            table[key] = _plain(value)
    return table


__all__ = ["config", "mask_header", "render_toml"]
