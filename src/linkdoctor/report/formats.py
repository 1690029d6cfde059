"""The registry of report formats: each name with its writer, file extensions and streaming writer.

Every format renders the same :class:`~linkdoctor.models.Report` through a :data:`Writer`. ``jsonl``
also has a per-result writer, so it streams as results arrive. ``json`` is the version 2 document;
``json-v1`` keeps version 1 for one release.

    >>> format_named("sarif").extensions
    ('.sarif',)
    >>> format_for_path(Path("out/report.xml")).name
    'junit'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, TextIO

from linkdoctor.errors import ConfigError
from linkdoctor.models import CheckResult, Report
from linkdoctor.report.context import RenderContext
from linkdoctor.report.json import write_json, write_jsonl_result

Writer = Callable[[Report, TextIO, RenderContext], None]
ResultWriter = Callable[[CheckResult, TextIO, RenderContext], None]


@dataclass(frozen=True, slots=True)
class Format:
    """One output format. ``write_result`` is set for formats that stream one result at a time."""

    name: str
    write: Writer
    extensions: tuple[str, ...]
    description: str
    write_result: ResultWriter | None = None


def _lazy(target: str) -> Writer:
    """A writer imported on first use, so a run pays only for the formats it writes (jinja2, rich …)."""
    module_name, _, attribute = target.partition(":")

    def write(report: Report, out: TextIO, context: RenderContext) -> None:
        writer: Writer = getattr(importlib.import_module(module_name), attribute)
        writer(report, out, context)

    return write


def _json_v1(report: Report, out: TextIO, context: RenderContext) -> None:
    write_json(report, out)


def _jsonl_result(result: CheckResult, out: TextIO, context: RenderContext) -> None:
    write_jsonl_result(result, out)
    out.flush()


def _jsonl(report: Report, out: TextIO, context: RenderContext) -> None:
    for result in report.results:
        write_jsonl_result(result, out)


_ALL: Final = (
    Format(
        "console",
        _lazy("linkdoctor.report.console_file:write_console"),
        (".txt",),
        "human-readable text; colour on a terminal",
    ),
    Format(
        "json",
        _lazy("linkdoctor.report.json_v2:write_json_v2_report"),
        (".json",),
        "one JSON document (schema report-v2): pages once, results grouped by target, the problems",
    ),
    Format(
        "json-v1",
        _json_v1,
        (),
        "the version 1 JSON document (schema report-v1), kept for one release: use json",
    ),
    Format("jsonl", _jsonl, (".jsonl",), "one JSON result per line, streamed", _jsonl_result),
    Format(
        "csv",
        _lazy("linkdoctor.report.csv_report:write_csv"),
        (".csv",),
        "one row per broken link and referring page",
    ),
    Format(
        "junit",
        _lazy("linkdoctor.report.junit:write_junit"),
        (".xml", ".junit"),
        "JUnit XML: a test suite per page, a test per link",
    ),
    Format(
        "markdown",
        _lazy("linkdoctor.report.markdown:write_markdown"),
        (".md", ".markdown"),
        "GitHub job summaries and issue bodies",
    ),
    Format(
        "sarif", _lazy("linkdoctor.report.sarif:write_sarif"), (".sarif",), "SARIF 2.1.0 for code scanning"
    ),
    Format(
        "html",
        _lazy("linkdoctor.report.html:write_html"),
        (".html", ".htm"),
        "one self-contained page to filter and sort",
    ),
    Format(
        "github", _lazy("linkdoctor.report.github:write_github"), (), "GitHub Actions ::error annotations"
    ),
)

FORMATS: Final[Mapping[str, Format]] = MappingProxyType({f.name: f for f in _ALL})
EXTENSIONS: Final[Mapping[str, str]] = MappingProxyType({ext: f.name for f in _ALL for ext in f.extensions})
FORMAT_NAMES: Final = tuple(FORMATS)


def format_named(name: str) -> Format:
    """The format called ``name``; a :class:`ConfigError` naming the known formats otherwise."""
    try:
        return FORMATS[name.lower()]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name.lower(), FORMAT_NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(
            f"unknown format {name!r}{hint}; known formats: {', '.join(FORMAT_NAMES)}"
        ) from None


def format_for_path(path: Path) -> Format:
    """The format a file's extension stands for; a :class:`ConfigError` for an unknown extension."""
    name = EXTENSIONS.get(path.suffix.lower())
    if name is None:
        known = ", ".join(f"{ext} ({fmt})" for ext, fmt in EXTENSIONS.items())
        raise ConfigError(
            f"-o {path}: cannot tell the format from the extension {path.suffix or '(none)'!r}; "
            f"use --format NAME:{path} or one of {known}"
        )
    return FORMATS[name]
