"""Click options generated from the option schema (:mod:`linkdoctor.options`), so a flag's name, type, default,
help and metavar are written once, where its config-file key and validator are.

    @click.command()
    @schema_options(help_values={"formats": "console, json"})   # every `check` flag, in the schema's order
    def check(**opts: Any) -> None: ...

    @schema_options(names=("cert", "key", "pkcs12", "key_password_env"))   # a subset, for another command

    @site_options   # `sites add`: the monitored site's options, under their site flags
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from linkdoctor.options import Option, cli_options, option, site_flags

F = TypeVar("F", bound=Callable[..., Any])


class RegularFile(click.Path):
    """A file path flag: besides click's checks, a path that exists must be a regular file (``/dev/zero``
    as ``--cert`` or ``--cookie-jar`` was read until memory ran out; a FIFO would block)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        if os.path.exists(path) and not os.path.isfile(path):
            self.fail(f"{os.fsdecode(path)!r} is not a regular file (a FIFO, socket or device).", param, ctx)
        return path


def click_type(o: Option) -> Any:
    """The click parameter type of ``o`` (None: click's default, a string)."""
    if o.parts:
        return o.parts
    if o.choices:
        return click.Choice(list(o.choices))
    if o.bounds is not None:
        return click.IntRange(*o.bounds)
    if o.type is Path:
        return RegularFile(exists=o.must_exist, dir_okay=False, path_type=Path)
    if o.type in (int, float):
        return o.type
    return None


def click_option(o: Option, *, help_values: Mapping[str, str] | None = None) -> Callable[[F], F]:
    """The ``click.option`` decorator for ``o`` (which must have flags)."""
    if not o.flags:
        raise ValueError(f"the option {o.name} has no command-line flag")
    kwargs: dict[str, Any] = {}
    if o.help is not None:
        kwargs["help"] = o.help.format_map(help_values) if help_values and "{" in o.help else o.help
    if o.is_flag:
        kwargs["is_flag"] = True
    elif o.is_switch:
        kwargs.update(default=o.default, show_default=True)
    else:
        if (kind := click_type(o)) is not None:
            kwargs["type"] = kind
        if o.multiple:
            kwargs["multiple"] = True
        elif o.default is not None:
            kwargs.update(default=o.default, show_default=True)
    if o.metavar is not None:
        kwargs["metavar"] = o.metavar
    decorator: Callable[[F], F] = click.option(*o.flags, o.name, **kwargs)
    return decorator


def site_option(o: Option) -> Callable[[F], F]:
    """The ``sites add`` flag of ``o``: paths and patterns stay text (they are stored, and the server reads
    them), numbers keep their bounds."""
    if o.site_flag is None or o.site_field is None:
        raise ValueError(f"the option {o.name} has no sites add flag")
    kwargs: dict[str, Any] = {"help": o.site_help}
    if o.multiple:
        kwargs["multiple"] = True
    if o.bounds is not None:
        kwargs["type"] = click.IntRange(*o.bounds)
    decorator: Callable[[F], F] = click.option(o.site_flag, o.site_field, **kwargs)
    return decorator


def site_options(function: F) -> F:
    """Add the monitored site's option flags to ``sites add``."""
    for o in reversed(site_flags()):
        function = site_option(o)(function)
    return function


def schema_options(
    names: Iterable[str] | None = None, *, help_values: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """Add the flags of the options ``names`` (default: every flag of ``check``) to a command, listed in
    ``--help`` in that order. ``help_values`` fills ``{placeholders}`` in help texts."""
    chosen = cli_options() if names is None else tuple(option(name) for name in names)

    def decorate(function: F) -> F:
        for o in reversed(chosen):
            function = click_option(o, help_values=help_values)(function)
        return function

    return decorate
