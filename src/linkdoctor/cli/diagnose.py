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
from linkdoctor.config import ClientCert, Secret
from linkdoctor.doctor import DEFAULT_DIAGNOSE_TIMEOUT, DoctorOptions
from linkdoctor.doctor import diagnose as run_doctor
from linkdoctor.errors import ConfigError
from linkdoctor.report.doctor_console import render_verdict
from linkdoctor.report.doctor_json import write_verdict_json
from linkdoctor.runner import run_sync
from linkdoctor.tls.context import prompt_or_env_password
from linkdoctor.tls.preflight import DEFAULT_WARN_DAYS

FORMATS = ("console", "json")


def _prompt(message: str) -> str:
    return str(click.prompt(message.rstrip(": "), hide_input=True, default="", show_default=False))


def _encrypted_pem(*paths: Path | None) -> bool:
    for path in paths:
        if path is None:
            continue
        try:
            with path.open("rb") as handle:
                if b"ENCRYPTED" in handle.read(65536):
                    return True
        except OSError:
            continue  # the loader reports unreadable files with a clear message
    return False


def _password(env_var: str | None, what: str, *, needed: bool) -> Secret | None:
    interactive = needed and sys.stdin.isatty()
    return prompt_or_env_password(env_var, _prompt if interactive else None, what=what)


def build_options(opts: dict[str, Any]) -> DoctorOptions:
    """Turn parsed flags into :class:`DoctorOptions` (raises ``ConfigError`` for bad combinations)."""
    client: ClientCert | None = None
    env_var: str | None = opts["key_password_env"]
    if opts["pkcs12"] is not None:
        if opts["cert"] is not None or opts["key"] is not None:
            raise ConfigError("give either --pkcs12 or --cert/--key, not both")
        password = _password(env_var, str(opts["pkcs12"]), needed=True)
        client = ClientCert(pkcs12=opts["pkcs12"], password=password)
    elif opts["cert"] is not None:
        needed = _encrypted_pem(opts["key"], opts["cert"])
        password = _password(env_var, str(opts["key"] or opts["cert"]), needed=needed)
        client = ClientCert(cert=opts["cert"], key=opts["key"], password=password)
    elif opts["key"] is not None:
        raise ConfigError("--key needs --cert")
    return DoctorOptions(
        client=client,
        cafile=opts["cacert"],
        timeout=opts["timeout"],
        warn_days=opts["warn_days"],
        password_env=env_var if client is not None else None,
    )


@click.command()
@click.argument("url")
@click.option(
    "--cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Client certificate (PEM or DER; intermediates after it in the same PEM file).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key of --cert (when not in the same file).",
)
@click.option(
    "--pkcs12", type=click.Path(dir_okay=False, path_type=Path), help="Client certificate and key as PKCS#12."
)
@click.option(
    "--key-password-env",
    metavar="VAR",
    help="Read the key (or PKCS#12) password from this environment variable.",
)
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
