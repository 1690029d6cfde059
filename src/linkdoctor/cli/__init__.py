"""The ``linkdoctor`` command line: thin click commands that build a config, call the library, and exit.

Errors the user can fix (:class:`~linkdoctor.errors.LinkdoctorError`) print one clear line and exit with
their code (3 for usage and config); anything else is a bug and exits 1.
"""

from __future__ import annotations

import sys

import click

from linkdoctor import __version__
from linkdoctor.config import ExitCode
from linkdoctor.errors import ConfigError, LinkdoctorError


class UsageError(click.ClickException):
    """A :class:`~linkdoctor.errors.ConfigError` on its way out of a command: one line, exit code 3."""

    exit_code = ExitCode.CONFIG

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="linkdoctor")
def cli() -> None:
    """Find every broken link on a website, and say exactly why it broke and how to fix it."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run ``cli`` and map errors to exit codes."""
    try:
        rv = cli.main(args=argv, prog_name="linkdoctor", standalone_mode=False)
    except LinkdoctorError as exc:
        click.echo(f"linkdoctor: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("linkdoctor: aborted", err=True)
        sys.exit(ExitCode.UNEXPECTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.CONFIG)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)


def _register() -> None:
    # Imported here so that ``linkdoctor --help`` stays fast and the group has no import cycle.
    from linkdoctor.cli.check import check
    from linkdoctor.cli.config import config
    from linkdoctor.cli.diagnose import diagnose
    from linkdoctor.cli.explain import explain
    from linkdoctor.cli.nginx import nginx
    from linkdoctor.cli.serve import serve
    from linkdoctor.cli.sites import sites

    for command in (check, config, diagnose, explain, nginx, serve, sites):
        cli.add_command(command)


_register()
