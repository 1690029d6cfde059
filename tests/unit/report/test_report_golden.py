"""Golden files: every format rendered from the fixed sample report must equal its stored file, and
the machine-readable ones must pass their schemas.

Regenerate after an intended change with ``LINKDOCTOR_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest
from tests.unit.report.report_checks import (
    validate_json_report,
    validate_json_v1_report,
    validate_jsonl_report,
    validate_junit,
    validate_sarif,
)
from tests.unit.report.report_sample import GOLDEN, sample_context, sample_report

from linkdoctor.report.formats import FORMAT_NAMES, FORMATS

UPDATE_ENV = "LINKDOCTOR_UPDATE_GOLDEN"
GOLDEN_FILES = {
    "console": "console.txt",
    "json": "report.json",
    "json-v1": "report-v1.json",
    "jsonl": "report.jsonl",
    "csv": "report.csv",
    "junit": "junit.xml",
    "markdown": "report.md",
    "sarif": "report.sarif",
    "html": "report.html",
    "github": "github-annotations.txt",
}
VALIDATORS: dict[str, Callable[[str], object]] = {
    "json": validate_json_report,
    "json-v1": validate_json_v1_report,
    "jsonl": validate_jsonl_report,
    "junit": validate_junit,
    "sarif": validate_sarif,
}


def render(name: str) -> str:
    out = io.StringIO()
    FORMATS[name].write(sample_report(), out, sample_context())
    return out.getvalue()


def golden(name: str, actual: str) -> str:
    """The stored expectation, rewritten first when the update variable is set."""
    path = GOLDEN / GOLDEN_FILES[name]
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_bytes(actual.encode("utf-8"))
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with {UPDATE_ENV}=1 to create it")
    return path.read_bytes().decode("utf-8")


def test_every_registered_format_has_a_golden_file() -> None:
    assert set(GOLDEN_FILES) == set(FORMAT_NAMES)


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_format_matches_its_golden_file(name: str) -> None:
    actual = render(name)
    assert actual == golden(name, actual)


@pytest.mark.parametrize("name", sorted(VALIDATORS))
def test_golden_file_passes_its_schema(name: str) -> None:
    VALIDATORS[name](golden(name, render(name)))


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_rendering_is_deterministic(name: str) -> None:
    assert render(name) == render(name)
