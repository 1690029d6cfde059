"""``linkdoctor config``: which configuration file a run uses (``config path``) and the effective settings
(``config show``, as TOML with secrets masked); plus the glue ``check`` uses to merge the file into its flags
and to open the results cache.

    linkdoctor config path
    linkdoctor config show --max-concurrency 8 https://example.org/
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
import tomli_w
from click.core import ParameterSource

from linkdoctor.cli import UsageError
from linkdoctor.config import CheckConfig
from linkdoctor.config_file import (
    OPTION_KEYS,
    ClientCertEntry,
    FileConfig,
    HostEntry,
    discover,
    file_inputs,
    find_and_load,
    merge_options,
)
from linkdoctor.engine.cache import ResultCache, parse_duration, settings_fingerprint
from linkdoctor.errors import ConfigError
from linkdoctor.report.formats import format_for_path, format_named

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
_EXPLICIT = frozenset({ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT})
_DEST_TO_KEY = {dest: key for key, dest in OPTION_KEYS.items()}


# --- used by `check` ---------------------------------------------------------------------------------------
def merge_config_file(
    ctx: click.Context, inputs: tuple[str, ...], opts: dict[str, Any]
) -> tuple[tuple[str, ...], FileConfig | None]:
    """Load the configuration file (``--config FILE``, none with ``--no-config``, else the nearest
    ``linkdoctor.toml`` / ``pyproject.toml``) and, in place, give every option of ``opts`` that the command
    line did not set the file's value. Returns the inputs to check (the file's ``inputs`` when the command
    line names none) and the file, for :func:`~linkdoctor.config_file.apply_sections`."""
    file = find_and_load(opts.pop("config"), no_config=opts.pop("no_config"), cwd=Path.cwd())
    merged = merge_options(opts, file, explicit=lambda name: ctx.get_parameter_source(name) in _EXPLICIT)
    if file is not None:
        _fit_to_parameters(ctx.command, merged, file)
        _check_reports(merged, file, given=lambda name: ctx.get_parameter_source(name) not in _EXPLICIT)
    opts.update(merged)
    return inputs or file_inputs(file), file


def _fit_to_parameters(command: click.Command, opts: dict[str, Any], file: FileConfig) -> None:
    """Shape file values like click's for each parameter (one value or a tuple) and check choices."""
    given = {dest for dest, _ in file.options}
    for param in command.params:
        name = param.name
        if name not in given or name is None or opts.get(name) is None:
            continue
        value = opts[name]
        multiple = getattr(param, "multiple", False)
        if multiple and not isinstance(value, tuple):
            value = (value,)
        elif not multiple and isinstance(value, tuple):
            raise file.error(_DEST_TO_KEY.get(name, name), "takes one value, not a list")
        if isinstance(param.type, click.Choice):
            for item in value if multiple else (value,):
                if item not in param.type.choices:
                    raise file.error(
                        _DEST_TO_KEY.get(name, name),
                        f"must be one of {', '.join(map(str, param.type.choices))}, got {item!r}",
                    )
        opts[name] = value


def _check_reports(opts: Mapping[str, Any], file: FileConfig, given: Callable[[str], bool]) -> None:
    """Report formats and output files from the file are checked here, so errors name the file and key."""
    values = file.option_values()
    try:
        if "fmt" in values and given("fmt"):
            for spec in opts["fmt"]:
                format_named(spec.partition(":")[0])
    except ConfigError as exc:
        raise file.error("format", str(exc)) from None
    try:
        if "output" in values and given("output"):
            for path in opts["output"]:
                format_for_path(path)
    except ConfigError as exc:
        raise file.error("output", str(exc).replace("-o ", "", 1)) from None


def open_cache(opts: Mapping[str, Any], config: CheckConfig) -> ResultCache | None:
    """The results cache when ``--cache`` (or ``cache = true``) asked for one."""
    if not opts.get("cache"):
        return None
    try:
        max_age = parse_duration(opts["max_cache_age"])
    except ValueError as exc:
        raise ConfigError(f"--max-cache-age: {exc}") from None
    return ResultCache.open(
        Path(opts["cache_file"]),
        max_age=max_age,
        fingerprint=settings_fingerprint(config),
        warn=lambda message: click.echo(f"linkdoctor: warning: {message}", err=True),
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
    from linkdoctor.cli.check import check  # the `check` module imports this one

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
    table: dict[str, Any] = {"match": list(entry.match)}
    if entry.headers:
        table["headers"] = {name: mask_header(f"{name}: {v}").partition(": ")[2] for name, v in entry.headers}
    if entry.headers_env:
        table["headers_env"] = dict(entry.headers_env)
    for name in ("user", "password_env", "cacert", "max_concurrency", "interval"):
        value = getattr(entry, name)
        if value is not None:
            table[name] = _plain(value)
    return table


def _client_table(entry: ClientCertEntry) -> dict[str, Any]:
    table: dict[str, Any] = {"hosts": list(entry.hosts)} if entry.hosts else {}
    for name in ("cert", "key", "pkcs12", "password_env"):
        value = getattr(entry, name)
        if value is not None:
            table[name] = _plain(value)
    return table


__all__ = ["config", "mask_header", "merge_config_file", "open_cache", "render_toml"]
