"""``linkdoctor explain``: what an HTTP status, a diagnosis code or an nginx lint rule means, and the fix.

``linkdoctor explain 496`` reads the status registry, ``linkdoctor explain tls.client-cert-required`` the
diagnosis catalogue, and ``linkdoctor explain LDN001`` the nginx linter's rules
(:mod:`linkdoctor.nginx.rules`). ``--list`` prints every status and code; ``--format json`` prints a stable
JSON object instead of the rich console rendering, which lives in this module.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import click
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from linkdoctor.classify.codes import CODES, DiagnosisInfo
from linkdoctor.classify.statuses import STATUSES, StatusInfo, explain_status
from linkdoctor.config import ExitCode
from linkdoctor.nginx.model import Rule
from linkdoctor.nginx.rules import get_rule

FORMATS: Final = ("console", "json")
_RULE_ID: Final = re.compile(r"^LDN\d{3}$", re.IGNORECASE)
_STATUS: Final = re.compile(r"^\d+$")


class ExplainError(click.ClickException):
    """A topic that cannot be explained: printed as one line, exit code 3."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """An nginx lint rule as ``explain`` shows it: the documentation part of a
    :class:`~linkdoctor.nginx.model.Rule`."""

    id: str
    severity: str
    title: str
    explanation: str
    fix: tuple[str, ...]
    snippet: str

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        return cls(rule.id, str(rule.severity), rule.title, rule.explanation, rule.fix, rule.snippet)


Topic = StatusInfo | DiagnosisInfo | RuleInfo


@click.command("explain")
@click.argument("topic", required=False, metavar="STATUS|CODE|LDNnnn")
@click.option("--list", "list_all", is_flag=True, help="List every HTTP status and diagnosis code.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="console",
    show_default=True,
    help="Output format.",
)
def explain(topic: str | None, list_all: bool, fmt: str) -> None:
    """Explain an HTTP status (496), a diagnosis code (tls.client-cert-required) or an nginx rule (LDN001).

    Shows what it means, its usual causes, and what the client and the site's operator can do.
    """
    if list_all and topic:
        raise ExplainError("give either a topic or --list, not both")
    if not list_all and not topic:
        raise ExplainError(
            "nothing to explain: give a status (496), a diagnosis code (tls.client-cert-required), "
            "an nginx rule id (LDN001), or --list"
        )
    console = Console(file=sys.stdout, highlight=False)
    if list_all:
        if fmt == "json":
            _echo_json(listing_json())
        else:
            console.print(render_listing())
        return
    assert topic is not None  # guaranteed by the checks above; narrows the type
    found = lookup(topic)
    if fmt == "json":
        _echo_json(topic_json(found))
    else:
        console.print(render_topic(found))


# --- lookup -----------------------------------------------------------------------------------------


def lookup(topic: str) -> Topic:
    """Resolve a command-line topic to a status, a diagnosis code or an nginx rule.

    >>> lookup("404").name
    'Not Found'

    Raises :class:`ExplainError` (exit code 3) with near matches when the topic is unknown.
    """
    text = topic.strip()
    if _STATUS.match(text):
        try:
            return explain_status(int(text))
        except ValueError as exc:
            raise ExplainError(str(exc)) from None
    if _RULE_ID.match(text):
        return load_rule(text.upper())
    code = text.lower()
    if code in CODES:
        return CODES[code]
    raise ExplainError(_unknown_topic_message(text))


def load_rule(rule_id: str) -> RuleInfo:
    """The nginx lint rule ``rule_id``; :class:`ExplainError` (exit code 3) for an unknown id."""
    try:
        return RuleInfo.of(get_rule(rule_id))
    except KeyError:
        raise ExplainError(f"unknown nginx lint rule {rule_id!r} (see 'linkdoctor explain --list')") from None


def _unknown_topic_message(text: str) -> str:
    needle = text.lower()
    containing = [code for code in CODES if needle in code]
    close = difflib.get_close_matches(needle, list(CODES), n=5, cutoff=0.6)
    near = list(dict.fromkeys([*close, *containing]))[:5]
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    return (
        f"unknown status or diagnosis code {text!r}{hint} "
        "(statuses are 100-999; see 'linkdoctor explain --list' for every code)"
    )


def related_codes(status: int) -> tuple[str, ...]:
    """Diagnosis codes whose catalogue entry names ``status`` as related."""
    return tuple(code for code, entry in CODES.items() if status in entry.related_status)


# --- JSON ---------------------------------------------------------------------------------------------


def topic_json(topic: Topic) -> dict[str, Any]:
    """The stable JSON object for one topic: a ``kind`` plus the entry's fields."""
    fields = dataclasses.asdict(topic)
    if isinstance(topic, StatusInfo):
        return {"kind": "status", **fields, "related_codes": list(related_codes(topic.code))}
    if isinstance(topic, DiagnosisInfo):
        return {"kind": "diagnosis", **fields}
    return {"kind": "nginx-rule", **fields}


def listing_json() -> dict[str, Any]:
    """Every status (code, name, origin, reference) and every diagnosis code (code, title, actor, summary)."""
    return {
        "kind": "list",
        "statuses": [
            {"code": s.code, "name": s.name, "origin": str(s.origin), "reference": s.reference}
            for s in STATUSES.values()
        ],
        "diagnoses": [
            {"code": d.code, "title": d.title, "actor": d.actor, "summary": d.summary}
            for d in sorted(CODES.values(), key=lambda d: d.code)
        ],
    }


def _echo_json(document: Mapping[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


# --- console rendering -----------------------------------------------------------------------------


def render_topic(topic: Topic) -> RenderableType:
    """The rich renderable for one topic."""
    if isinstance(topic, StatusInfo):
        return _render_status(topic)
    if isinstance(topic, DiagnosisInfo):
        return _render_diagnosis(topic)
    return _render_rule(topic)


def render_listing() -> RenderableType:
    """Two tables: every HTTP status, then every diagnosis code."""
    statuses = Table(title="HTTP statuses", title_justify="left", expand=False)
    statuses.add_column("Status", no_wrap=True, justify="right")
    statuses.add_column("Name", overflow="fold")
    statuses.add_column("Origin", no_wrap=True)
    for s in STATUSES.values():
        statuses.add_row(str(s.code), Text(s.name), str(s.origin))
    diagnoses = Table(title="Diagnosis codes", title_justify="left", expand=False)
    diagnoses.add_column("Code", no_wrap=True)
    diagnoses.add_column("Title", overflow="fold")
    diagnoses.add_column("Actor", no_wrap=True)
    for d in sorted(CODES.values(), key=lambda d: d.code):
        diagnoses.add_row(d.code, Text(d.title), d.actor)
    hint = Text(
        "Run 'linkdoctor explain STATUS|CODE' for details; nginx lint rules: 'linkdoctor explain LDNnnn'."
    )
    return Group(statuses, Text(), diagnoses, Text(), hint)


def _render_status(info: StatusInfo) -> RenderableType:
    parts: list[RenderableType] = [
        Text.assemble((f"{info.code} {info.name}", "bold")),
        Text.assemble(("Origin: ", "dim"), str(info.origin), ("   Reference: ", "dim"), info.reference),
        *_section("Meaning", [Text(info.meaning)]),
    ]
    if info.causes:
        parts += _section("Causes", [_bullets(info.causes)])
    parts += _section("Fix for the client", [_bullets(info.client_fix or ("Nothing to do.",))])
    parts += _section("Fix for the operator", [_bullets(info.operator_fix or ("Nothing to do.",))])
    if info.example:
        parts += _section("Example", [_code(info.example)])
    related = related_codes(info.code)
    if related:
        parts += _section("Related diagnosis codes", [Text(", ".join(related))])
    return Group(*parts)


def _render_diagnosis(info: DiagnosisInfo) -> RenderableType:
    parts: list[RenderableType] = [
        Text.assemble((info.code, "bold"), " — ", info.title),
        Text.assemble(("Who acts: ", "dim"), info.actor),
        *_section("Summary", [Text(info.summary)]),
        *_section("Why", [Text(info.explanation)]),
        *_section("Fix", [_bullets(info.fix)]),
    ]
    if info.related_status:
        names = [f"{code} {explain_status(code).name}" for code in info.related_status]
        parts += _section("Related statuses", [_bullets(names)])
    return Group(*parts)


def _render_rule(info: RuleInfo) -> RenderableType:
    parts: list[RenderableType] = [
        Text.assemble((info.id, "bold"), " — ", info.title),
        Text.assemble(("Severity: ", "dim"), info.severity),
        *_section("Why", [Text(info.explanation)]),
        *_section("Fix", [_bullets(info.fix)]),
    ]
    if info.snippet:
        parts += _section("Example", [_code(info.snippet)])
    return Group(*parts)


def _section(title: str, body: list[RenderableType]) -> list[RenderableType]:
    return [
        Text(),
        Text(title, style="bold underline"),
        *(Padding(item, (0, 0, 0, 2), expand=False) for item in body),
    ]


def _bullets(items: Iterable[str]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for item in items:
        grid.add_row("•", Text(item))
    return grid


def _code(snippet: str) -> Syntax:
    lexer = "nginx" if "{" in snippet else "bash"
    return Syntax(snippet, lexer, theme="ansi_dark", background_color="default", word_wrap=True)
