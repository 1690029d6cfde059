"""``linkdoctor diagnose URL``: flags → :class:`~linkdoctor.doctor.DoctorOptions` → the doctor → verdict.

Exit codes: 0 healthy (no error finding), 2 problems found, 3 bad input (a URL that is not https, an
unreachable host, an unusable certificate, key or password).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from linkdoctor.cli import UsageError
from linkdoctor.cli.credentials import client_cert_from_options, client_cert_options
from linkdoctor.doctor import DEFAULT_DIAGNOSE_TIMEOUT, DoctorOptions
from linkdoctor.doctor import diagnose as run_doctor
from linkdoctor.engine.runner import run_sync
from linkdoctor.errors import ConfigError
from linkdoctor.report.doctor_console import render_verdict
from linkdoctor.report.doctor_json import write_verdict_json
from linkdoctor.tls.preflight import DEFAULT_WARN_DAYS

FORMATS = ("console", "json")


def build_options(opts: dict[str, Any]) -> DoctorOptions:
    """Turn parsed flags into :class:`DoctorOptions` (raises ``ConfigError`` for bad combinations)."""
    client = client_cert_from_options(opts)
    env_var: str | None = opts["key_password_env"]
    return DoctorOptions(
        client=client,
        cafile=opts["cacert"],
        timeout=opts["timeout"],
        warn_days=opts["warn_days"],
        password_env=env_var if client is not None else None,
    )


@click.command()
@click.argument("url")
@client_cert_options
@click.option(
    "--cacert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust this CA bundle for the server instead of the system store.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=600),
    default=DEFAULT_DIAGNOSE_TIMEOUT,
    show_default=True,
    help="Seconds each probe and request may take.",
)
@click.option(
    "--warn-days",
    type=click.IntRange(0, 3650),
    default=DEFAULT_WARN_DAYS,
    show_default=True,
    help="Warn when a certificate expires within this many days.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="console", show_default=True)
@click.pass_context
def diagnose(ctx: click.Context, /, url: str, **opts: Any) -> None:
    """Examine one https URL from both sides of TLS and say what is wrong, who must fix it, and how.

    \b
    linkdoctor diagnose https://api.example.com/orders
    linkdoctor diagnose https://api.example.com/ --cert client.pem --key client.key
    linkdoctor diagnose https://api.example.com/ --pkcs12 client.p12 --key-password-env P12_PASS
    linkdoctor diagnose https://api.example.com/ --format json

    Exit codes: 0 healthy, 2 problems found, 3 bad input (not https, unreachable, unusable certificate).
    """
    try:
        options = build_options(opts)
        verdict = run_sync(run_doctor(url, options))
    except ConfigError as exc:
        raise UsageError(exc) from exc
    if opts["fmt"] == "json":
        write_verdict_json(verdict, sys.stdout)
    else:
        render_verdict(verdict, Console(highlight=False))
    ctx.exit(verdict.exit_code)
