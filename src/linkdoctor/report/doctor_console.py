"""The doctor's console report (rich): the verdict headline, then the findings with their evidence and fix
steps, then the evidence tables (server, chain, client authentication, client certificate, requests),
and last the command lines that reproduce it.

The console is injected, so output is testable against golden files::

    render_verdict(verdict, Console(file=io.StringIO(), width=100, color_system=None))

Command lines are printed unwrapped (``soft_wrap``) so they can be copied whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from linkdoctor.doctor.model import (
    ClientAuthExam,
    ClientCertExam,
    HandshakeOutcome,
    RequestOutcome,
    ServerExam,
    Verdict,
)
from linkdoctor.models import Finding, Severity
from linkdoctor.printable import shown

_SEVERITY_STYLE: Final[Mapping[Severity, str]] = MappingProxyType(
    {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
)
_RDN_SEPARATOR: Final = re.compile(r"(?<!\\),")
_ACTOR: Final[Mapping[str, str]] = MappingProxyType(
    {"client": "you must act (client side)", "operator": "the site operator must act"}
)


def _text(value: str) -> Text:
    """``value`` shown as it is: never read as rich markup, control characters as ``\\xNN``. The server
    chooses its certificates' names: ``[/b]`` in one stopped the report, an escape sequence drove the
    terminal."""
    return Text(shown(value, newlines=True))


def render_verdict(verdict: Verdict, console: Console) -> None:
    """Print the whole report for ``verdict`` to ``console``."""
    _headline(verdict, console)
    if verdict.findings:
        console.print()
        console.print(Text("Findings", style="bold underline"))
        for number, finding in enumerate(verdict.findings, start=1):
            _finding(number, finding, console)
    console.print()
    console.print(_server_table(verdict.server))
    if verdict.server.chain:
        console.print(_chain_table(verdict.server))
    console.print(_client_auth_table(verdict.client_auth))
    if verdict.client_cert is not None:
        console.print(_client_cert_table(verdict.client_cert))
    console.print(_requests_table(verdict.requests))
    console.print(Text("Reproduce by hand", style="bold underline"))
    for command in verdict.reproduce:
        console.print(Text(f"# {command.label}", style="dim"), soft_wrap=True)
        console.print(_text(command.line), soft_wrap=True)


def _headline(verdict: Verdict, console: Console) -> None:
    if not verdict.healthy:
        mark, style = "✗", "bold red"
    elif verdict.findings:
        mark, style = "!", "bold yellow"
    else:
        mark, style = "✓", "bold green"
    console.print(Text.assemble(("Diagnosis of ", "bold"), (_text(verdict.url).plain, "bold")))
    console.print(Text.assemble((f"{mark} ", style), (_text(verdict.headline).plain, style)))


def _finding(number: int, finding: Finding, console: Console) -> None:
    console.print(
        Text.assemble(
            (f"{number}. ", "bold"),
            (finding.severity.value.upper(), _SEVERITY_STYLE[finding.severity]),
            " ",
            (finding.code, "magenta"),
            ("  " + _ACTOR.get(finding.actor, finding.actor), "dim"),
        )
    )
    body = Table.grid(padding=(0, 1))
    body.add_column(no_wrap=True)
    body.add_column(overflow="fold")
    body.add_row("", _text(finding.summary))
    if finding.evidence:
        evidence = Table.grid(padding=(0, 2))
        evidence.add_column(style="dim", no_wrap=True)
        evidence.add_column(overflow="fold")
        for key, value in finding.evidence:
            evidence.add_row(_text(key), _text(value))
        body.add_row("", evidence)
    if finding.fix:
        steps = Table.grid(padding=(0, 1))
        steps.add_column(no_wrap=True, justify="right")
        steps.add_column(overflow="fold")
        for step_number, step in enumerate(finding.fix, start=1):
            steps.add_row(f"{step_number})", _text(step))
        body.add_row("", Text("Fix:", style="bold"))
        body.add_row("", steps)
    console.print(Padding(body, (0, 0, 0, 1), expand=False))


def _kv_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE, show_header=False)
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(_text(key), _text(value))
    return table


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "unknown" if value is None else yes if value else no


def _server_table(server: ServerExam) -> Table:
    rows = [
        ("Endpoint", f"{server.host}:{server.port}"),
        ("SNI", server.sni or "(none: IP address)"),
        ("Protocol", server.tls_version or "(no handshake)"),
        ("Cipher", server.cipher or "-"),
    ]
    if server.verify_code is not None:
        rows.append(("Verification", f"{server.verify_code} ({server.verify_text})"))
    rows += [
        ("Chain", _yes_no(server.chain_complete, "complete", "incomplete (intermediate missing)")),
        (
            "Host name",
            _yes_no(server.hostname_matches, f"matches {server.host}", f"does not match {server.host}"),
        ),
    ]
    if server.days_to_expiry is not None:
        days = server.days_to_expiry
        rows.append(("Expires", f"in {days} days" if days >= 0 else f"{-days} days ago"))
    if server.handshake_error:
        rows.append(("Handshake error", server.handshake_error))
    return _kv_table("Server", rows)


def _chain_table(server: ServerExam) -> Table:
    table = Table(
        title="Server chain (as sent)", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("Subject", overflow="fold")
    table.add_column("Issuer", overflow="fold")
    table.add_column("Names (SAN)", overflow="fold")
    table.add_column("Valid", no_wrap=True)
    for index, cert in enumerate(server.chain):
        valid = f"{cert.not_before:%Y-%m-%d}\n{cert.not_after:%Y-%m-%d}"
        table.add_row(
            str(index),
            _text(_spaced(cert.subject)),
            _text(_spaced(cert.issuer)),
            _text(", ".join(cert.sans) or "-"),
            valid,
        )
    return table


def _spaced(name: str) -> str:
    """An RFC 4514 name with a space after each separating comma, so a narrow column wraps between RDNs."""
    return _RDN_SEPARATOR.sub(", ", name)


def _handshake_text(outcome: HandshakeOutcome | None) -> str:
    if outcome is None:
        return "not tried"
    parts = [outcome.tls_version or "no handshake"]
    if outcome.alert:
        parts.append(f"alert {outcome.alert}")
    if outcome.http_status is not None:
        precise = outcome.precise_status
        shown = f"HTTP {outcome.http_status}"
        parts.append(f"{shown} (nginx {precise})" if precise and precise != outcome.http_status else shown)
    elif outcome.error:
        parts.append(outcome.error)
    return ", ".join(parts)


def _client_auth_table(auth: ClientAuthExam) -> Table:
    rows = [("Mode", auth.mode.value), ("Certificate requested", "yes" if auth.requested else "no")]
    if auth.enforced_by:
        rows.append(("Refused without one by", auth.enforced_by))
    if auth.requested:
        rows.append(("Acceptable CAs", "\n".join(auth.acceptable_ca_names) or "(none named)"))
    rows.append(("Handshake without cert", _handshake_text(auth.without_certificate)))
    if auth.with_certificate is not None:
        rows.append(("Handshake with cert", _handshake_text(auth.with_certificate)))
    return _kv_table("Client authentication", rows)


def _client_cert_table(cert: ClientCertExam) -> Table:
    rows = [("File", f"{cert.file} ({cert.source})")]
    if cert.key_file is not None:
        rows.append(("Key file", str(cert.key_file)))
    rows += [
        ("Subject", cert.subject),
        ("Issuer", cert.issuer),
        ("Valid", f"{cert.not_before:%Y-%m-%d %H:%M} to {cert.not_after:%Y-%m-%d %H:%M} UTC"),
        ("Extended key usage", cert.extended_key_usage),
        ("Intermediates sent", "\n".join(cert.intermediates) or "(none)"),
    ]
    if not cert.loaded:
        rows.append(("Usable", "no: the key does not match"))
    return _kv_table("Client certificate", rows)


def _requests_table(requests: Sequence[RequestOutcome]) -> Table:
    table = Table(title="The real request", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("Certificate", no_wrap=True)
    table.add_column("Wire", justify="right", no_wrap=True)
    table.add_column("Precise", justify="right", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Diagnosis", overflow="fold")
    for outcome in requests:
        table.add_row(
            "with" if outcome.with_certificate else "without",
            str(outcome.status) if outcome.status is not None else "-",
            str(outcome.precise_status) if outcome.precise_status is not None else "-",
            _text(outcome.category),
            _text(outcome.diagnosis_code or "-"),
        )
    return table
