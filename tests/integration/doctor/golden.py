"""Golden files for the doctor's console and JSON output, from verdicts on real servers.

Volatile values are replaced in the *verdict* before rendering, by placeholders of the same width, so
that tables lay out the same on every run: ports, timestamps, dates and the PKI folder. Regenerate after
an intended change with ``LINKDOCTOR_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import pytest
from rich.console import Console

from linkdoctor.doctor import Verdict
from linkdoctor.report.doctor_console import render_verdict
from linkdoctor.report.doctor_json import verdict_to_dict

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "doctor"
UPDATE_ENV = "LINKDOCTOR_UPDATE_GOLDEN"
PLACEHOLDER_PORT = 44300
PLACEHOLDER_TIME = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

_T = TypeVar("_T")
_SUBSTITUTIONS = (
    (re.compile(r"127\.0\.0\.1:\d+"), f"127.0.0.1:{PLACEHOLDER_PORT}"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?\+00:00"), PLACEHOLDER_TIME.isoformat()),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"), f"{PLACEHOLDER_TIME:%Y-%m-%d %H:%M}"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), f"{PLACEHOLDER_TIME:%Y-%m-%d}"),
)


def normalize(value: _T, ports: frozenset[int]) -> _T:
    """``value`` (a verdict or any part of it) with ports, times and dates replaced by placeholders."""
    return _walk(value, ports)  # type: ignore[no-any-return]


def _walk(value: Any, ports: frozenset[int]) -> Any:
    if isinstance(value, Enum | bool):
        return value
    if isinstance(value, str):
        for pattern, replacement in _SUBSTITUTIONS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, datetime):
        return PLACEHOLDER_TIME
    if isinstance(value, int) and value in ports:
        return PLACEHOLDER_PORT
    if isinstance(value, tuple):
        return tuple(_walk(item, ports) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _walk(getattr(value, f.name), ports) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def console_text(verdict: Verdict) -> str:
    out = io.StringIO()
    render_verdict(verdict, Console(file=out, width=100, color_system=None))
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def json_text(verdict: Verdict) -> str:
    return json.dumps(verdict_to_dict(verdict), indent=2, ensure_ascii=False) + "\n"


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with {UPDATE_ENV}=1 to create it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{name} differs from its golden file; run with {UPDATE_ENV}=1 and review the diff"
    )
