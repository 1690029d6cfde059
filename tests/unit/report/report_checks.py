"""Schema checks shared by the report tests: the shipped JSON schema, the vendored JUnit XSD and the
SARIF 2.1.0 schema that the nginx linter's tests vendored (imported by path, not duplicated)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import xmlschema
from tests.nginx.test_nginx_output import SCHEMA_PATH as SARIF_SCHEMA_PATH

from linkdoctor.report.json import schema as report_schema
from linkdoctor.report.json_v2 import schema as report_v2_schema

JUNIT_XSD_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "report" / "schemas" / "junit-10.xsd"


@cache
def _junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(JUNIT_XSD_PATH))


@cache
def _sarif_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SARIF_SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def validate_json_report(text: str) -> dict[str, Any]:
    """A ``--format json`` document (version 2), checked against its schema and its own references."""
    document: dict[str, Any] = json.loads(text)
    jsonschema.validate(document, report_v2_schema())
    pages, results = len(document["pages"]), len(document["results"])
    for result in document["results"]:
        for link in result["links"]:
            assert all(0 <= ref[0] < pages for ref in link.get("referrers", ()))
    for problem in document["problems"]:
        assert all(loc[0] is None or 0 <= loc[0] < pages for loc in problem["locations"])
        assert "result" not in problem or 0 <= problem["result"] < results
    return document


def validate_json_v1_report(text: str) -> dict[str, Any]:
    """A ``--format json-v1`` document, checked against the version 1 schema."""
    document: dict[str, Any] = json.loads(text)
    jsonschema.validate(document, report_schema())
    return document


def validate_jsonl_report(text: str) -> list[dict[str, Any]]:
    result_schema = {**report_schema()["$defs"]["result"], "$defs": report_schema()["$defs"]}
    lines: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines()]
    for line in lines:
        jsonschema.validate(line, result_schema)
    return lines


def validate_junit(text: str) -> None:
    _junit_schema().validate(text)


def validate_sarif(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator(_sarif_schema()).validate(document)
    return document
