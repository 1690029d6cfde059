"""``linkdoctor nginx``: ``lint`` an nginx configuration for client-certificate mistakes, and list the
``rules``. Argument handling and output only; the work is :func:`linkdoctor.nginx.lint_config`.

    linkdoctor nginx lint /etc/nginx/nginx.conf --format sarif -o nginx.sarif
    linkdoctor nginx lint        # the same file: /etc/nginx/nginx.conf is the default
    linkdoctor nginx rules
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Final, TextIO

import click
from rich.console import Console

from linkdoctor.cli import UsageError
from linkdoctor.config import ExitCode
from linkdoctor.errors import ConfigError
from linkdoctor.models import Severity
from linkdoctor.nginx import detect_nginx_version, lint_config
from linkdoctor.nginx.console import render_report, render_rules
from linkdoctor.nginx.formats import report_to_json, report_to_sarif, rule_to_json
from linkdoctor.nginx.rules import RULES

FORMATS: Final = ("text", "json", "sarif")
FAIL_ON: Final = ("info", "warning", "error", "never")
# Where nginx's packages put the main file; `nginx lint` reads it when given no path.
DEFAULT_CONFIG: Final = Path("/etc/nginx/nginx.conf")


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@click.group("nginx")
def nginx() -> None:
    """Check an nginx configuration for client-certificate (mTLS) mistakes."""


@nginx.command("lint")
@click.pass_context
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)
@click.option(
    "--nginx-version",
    metavar="X.Y.Z",
    help="The nginx version the config is for (default: ask `nginx -v` when nginx is installed).",
)
@click.option("--select", multiple=True, metavar="ID|TAG", help="Run only these rules (ids, prefixes, tags).")
@click.option("--ignore", multiple=True, metavar="ID|TAG", help="Skip these rules (ids, prefixes, tags).")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="warning",
    show_default=True,
    help="Exit with 2 when a finding is at least this severe.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to this file."
)
def lint(
    ctx: click.Context,
    config: Path | None,
    fmt: str,
    nginx_version: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str,
    output: Path | None,
) -> None:
    """Lint CONFIG (default: /etc/nginx/nginx.conf) and every file it includes.

    Exit status: 0 clean, 2 findings at or above --fail-on, 3 usage or parse errors.
    """
    if config is None:
        config = DEFAULT_CONFIG
        if not config.is_file():
            raise UsageError(
                ConfigError(
                    f"no configuration named and {DEFAULT_CONFIG} does not exist: name the main file, "
                    "e.g. linkdoctor nginx lint /usr/local/nginx/conf/nginx.conf (nginx -V shows its --conf-path)"
                )
            )
    if nginx_version is None:
        detected = detect_nginx_version()
        nginx_version = str(detected) if detected else None
    try:
        report = lint_config(
            config, nginx_version=nginx_version, select=_split(select), ignore=_split(ignore)
        )
        stream = _open_output(output)
    except ConfigError as exc:
        raise UsageError(exc) from exc
    with stream as out:
        if fmt == "json":
            out.write(json.dumps(report_to_json(report), indent=2) + "\n")
        elif fmt == "sarif":
            out.write(json.dumps(report_to_sarif(report, base=Path.cwd()), indent=2) + "\n")
        else:
            render_report(report, Console(file=out, highlight=False), base=Path.cwd())
    failed = fail_on != "never" and report.at_or_above(Severity(fail_on))
    ctx.exit(ExitCode.BROKEN if failed else ExitCode.OK)


@nginx.command("rules")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Output format.",
)
def rules(fmt: str) -> None:
    """List the nginx lint rules (use `linkdoctor explain LDN001` for one in full)."""
    if fmt == "json":
        click.echo(json.dumps([rule_to_json(r) for r in RULES], indent=2))
    else:
        render_rules(RULES, Console(file=sys.stdout, highlight=False))


def _open_output(path: Path | None) -> contextlib.AbstractContextManager[TextIO]:
    """The report's destination: ``path`` (``ConfigError`` if it cannot be written) or stdout."""
    if path is None:
        return contextlib.nullcontext(sys.stdout)
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from exc
