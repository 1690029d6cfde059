"""The command line's configuration merge, shared by ``check`` and ``config show``: load the configuration
file, give every flag the command line did not set the file's value (shaped like click's), check the file's
report settings, and open the results cache a run asked for.

    inputs, file = merge_config_file(ctx, inputs, opts)   # opts: the check command's parameters, in place
    config = apply_sections(build_config(opts), file, environ=os.environ)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from linkdoctor.config import CheckConfig
from linkdoctor.config_file import OPTION_KEYS, FileConfig, file_inputs, find_and_load, merge_options
from linkdoctor.config_values import parse_duration
from linkdoctor.engine.cache import ResultCache, settings_fingerprint
from linkdoctor.errors import ConfigError
from linkdoctor.report.formats import format_for_path, format_named

_EXPLICIT = frozenset({ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT, ParameterSource.PROMPT})
_DEST_TO_KEY = {dest: key for key, dest in OPTION_KEYS.items()}


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


__all__ = ["merge_config_file", "open_cache"]
