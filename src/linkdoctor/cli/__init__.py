"""The ``linkdoctor`` command line: thin click commands that build a config, call the library, and exit.

Errors the user can fix (:class:`~linkdoctor.errors.LinkdoctorError`) print one clear line and exit with
their code (3 for usage and config); anything else is a bug and exits 1.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

import click

from linkdoctor._version import __version__
from linkdoctor.config import ExitCode
from linkdoctor.errors import ConfigError, LinkdoctorError
from linkdoctor.printable import shown

ERROR_PREFIX = "linkdoctor: error: "


def error_line(message: str) -> str:
    """The one line every command prints for an error, whichever raised it.

    >>> error_line("cannot read x.conf")
    'linkdoctor: error: cannot read x.conf'
    >>> error_line("cannot read \x1b[2J.conf")
    'linkdoctor: error: cannot read \\x1b[2J.conf'
    """
    return ERROR_PREFIX + shown(message)


class UsageError(click.ClickException):
    """A :class:`~linkdoctor.errors.ConfigError` on its way out of a command: one line, exit code 3."""

    exit_code = ExitCode.CONFIG

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))

    def show(self, file: Any = None) -> None:
        for line in self.format_message().splitlines():  # several errors (a config's parse errors): one each
            click.echo(error_line(line), file=file, err=True)


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used, so ``linkdoctor check`` never pays for the
    web service's or the nginx linter's imports (start-up time is part of every CI run)."""

    def __init__(self, *args: Any, lazy: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy and cmd_name not in self.commands:
            module_name, _, attribute = self._lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


# Subcommand name → "module:attribute"; keep sorted.
SUBCOMMANDS: Mapping[str, str] = {
    "check": "linkdoctor.cli.check:check",
    "config": "linkdoctor.cli.config:config",
    "diagnose": "linkdoctor.cli.diagnose:diagnose",
    "explain": "linkdoctor.cli.explain:explain",
    "fix": "linkdoctor.cli.fix:fix",
    "nginx": "linkdoctor.cli.nginx:nginx",
    "serve": "linkdoctor.cli.serve:serve",
    "sites": "linkdoctor.cli.sites:sites",
    "users": "linkdoctor.cli.users:users",
    "worker": "linkdoctor.cli.worker:worker",
}


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="linkdoctor")
def cli() -> None:
    """Find every broken link on a website, and say exactly why it broke and how to fix it."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run ``cli`` and map errors to exit codes."""
    try:
        rv = cli.main(args=argv, prog_name="linkdoctor", standalone_mode=False)
    except LinkdoctorError as exc:
        for line in str(exc).splitlines():
            click.echo(error_line(line), err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("linkdoctor: aborted", err=True)
        sys.exit(ExitCode.UNEXPECTED)
    # A value out of range or of the wrong type: one line, like a ConfigError.
    except click.BadParameter as exc:
        click.echo(error_line(exc.format_message()), err=True)
        sys.exit(ExitCode.CONFIG)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None:  # a missing argument: usage first
            click.echo(exc.ctx.get_usage(), err=True)
        for line in exc.format_message().splitlines():
            click.echo(error_line(line), err=True)
        sys.exit(ExitCode.CONFIG)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)
