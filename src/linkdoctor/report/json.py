"""JSON and JSON Lines output, under the schema shipped in ``linkdoctor/report/schemas/``.

``json`` writes one document at the end; ``jsonl`` writes one result per line as results arrive.

This is the public, versioned report schema (``SCHEMA_VERSION``): users parse it, so its shape changes only
with a new version. What linkdoctor stores or sends for itself (the saved frontier, the cache, the
workers' pages, the monitor's rows) goes through :mod:`linkdoctor.codec` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from json.encoder import encode_basestring
from typing import Any, TextIO

from linkdoctor.models import CheckResult, Diagnosis, Finding, LeftOut, Redirect, Referrer, Report, Summary
from linkdoctor.report import json_pieces
from linkdoctor.scratch import pieces

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "schemas/report-v1.schema.json"


def load_schema(resource: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``linkdoctor/report/schemas/``."""
    # Imported here: a check writes its report without reading the schema.
    from importlib import resources

    text = resources.files("linkdoctor.report").joinpath(resource).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the ``--format json`` document."""
    return load_schema(SCHEMA_RESOURCE)


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """One finding of the TLS doctor, as in ``check --diagnose`` and ``diagnose --format json``."""
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "actor": finding.actor,
        "summary": finding.summary,
        "evidence": dict(finding.evidence),
        "fix": list(finding.fix),
    }


def result_to_dict(result: CheckResult) -> dict[str, Any]:
    diagnosis = result.diagnosis
    data = {
        "url": result.url,
        "final_url": result.final_url or result.url,
        "status": result.status,
        "reason": result.reason,
        "precise_status": result.precise_status,
        "category": result.category.value,
        "diagnosis": _diagnosis(diagnosis) if diagnosis else None,
        "referrers": [_referrer(r) for r in result.referrers],
        "redirects": [_redirect(r) for r in result.redirects],
        "elapsed_ms": result.elapsed_ms,
        "error": result.error.value if result.error else None,
        "error_message": result.error_message,
        "findings": [finding_to_dict(f) for f in result.findings],
    }
    if result.referrer_count is not None:  # an ok link's referrers, only counted
        data["referrer_count"] = result.referrer_count
    return data


def _referrer(referrer: Referrer) -> dict[str, Any]:
    return {"url": referrer.url, "line": referrer.line, "text": referrer.text}


def _diagnosis(diagnosis: Diagnosis) -> dict[str, Any]:
    return {"code": diagnosis.code, "summary": diagnosis.summary, "fix": list(diagnosis.fix)}


def _redirect(redirect: Redirect) -> dict[str, Any]:
    return {"url": redirect.url, "status": redirect.status}


def summary_to_dict(summary: Summary) -> dict[str, Any]:
    return {
        "total": summary.total,
        "ok": summary.ok,
        "redirected": summary.redirected,
        "broken": summary.broken,
        "excluded": summary.excluded,
        "unverified": summary.unverified,
        "pages_crawled": summary.pages_crawled,
        "elapsed_s": summary.elapsed_s,
        "warnings": list(summary.warnings),
        "left_out": [left_out_to_dict(item) for item in summary.left_out],
    }


def left_out_to_dict(item: LeftOut) -> dict[str, Any]:
    """One group of what the run left out: its code, how many, why, and a few examples."""
    return {"code": item.code, "count": item.count, "detail": item.detail, "examples": list(item.examples)}


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "summary": summary_to_dict(report.summary),
        "results": [result_to_dict(r) for r in report.results],
    }


def write_json(report: Report, out: TextIO) -> None:
    """The report document: the header indented, then one result per line.

    Each line is exactly ``json.dumps(result_to_dict(result), ensure_ascii=False, separators=(", ", ": "))``
    (the tests hold it to that), written without building the dicts: on a site of 2,000 pages (8,400
    results, 60,000 referrers) the dicts and the encoder's per-call set-up cost 0.1 s. Referrers' strings,
    which repeat (a page's URL, a link text), are encoded once while they stay in a bounded memo. Referrers
    kept outside memory (a distributed crawl's link on every page) are written a piece at a time.
    """
    head = json.dumps(
        {"version": SCHEMA_VERSION, "summary": summary_to_dict(report.summary)}, indent=2, ensure_ascii=False
    )
    out.write(head[:-2] + ',\n  "results": [')
    encoded: dict[str, str] = {}
    separator = "\n    "
    for result in report.results:
        out.write(separator)
        json_pieces.write(out, _result_json(result, encoded))
        separator = ",\n    "
    out.write("\n  ]\n}\n" if report.results else "]\n}\n")


def _result_json(result: CheckResult, encoded: dict[str, str]) -> str | Iterator[str]:
    diagnosis = result.diagnosis
    head = (
        f'{{"url": {encode_basestring(result.url)}, "final_url": {encode_basestring(result.final_url or result.url)}, '
        f'"status": {_number(result.status)}, "reason": {encode_basestring(result.reason)}, '
        f'"precise_status": {_number(result.precise_status)}, "category": "{result.category.value}", '
        f'"diagnosis": {"null" if diagnosis is None else _encode(_diagnosis(diagnosis))}, '
        '"referrers": ['
    )
    count = "" if result.referrer_count is None else f', "referrer_count": {result.referrer_count}'
    tail = (
        f'], "redirects": {_encode([_redirect(r) for r in result.redirects]) if result.redirects else "[]"}, '
        f'"elapsed_ms": {_number(result.elapsed_ms)}, '
        f'"error": {"null" if result.error is None else encode_basestring(result.error.value)}, '
        f'"error_message": {encode_basestring(result.error_message)}, '
        f'"findings": {_encode([finding_to_dict(f) for f in result.findings]) if result.findings else "[]"}'
        f"{count}}}"
    )
    if json_pieces.held(result.referrers):
        return head + _referrers_json(result.referrers, encoded) + tail
    return _in_pieces(head, result.referrers, encoded, tail)


def _in_pieces(head: str, referrers: Sequence[Referrer], encoded: dict[str, str], tail: str) -> Iterator[str]:
    yield head
    separator = ""
    for piece in pieces(referrers):
        yield separator + _referrers_json(piece, encoded)
        separator = ", "
    yield tail


def _referrers_json(referrers: Sequence[Referrer], encoded: dict[str, str]) -> str:
    return ", ".join(
        [
            f'{{"url": {_once(r.url, encoded)}, "line": {_number(r.line)}, "text": {_once(r.text, encoded)}}}'
            for r in referrers
        ]
    )


_ENCODED_LIMIT = 4096
_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _once(text: str, encoded: dict[str, str]) -> str:
    """``text`` encoded, from ``encoded`` when it was seen lately (bounded: a big report has a million)."""
    quoted = encoded.get(text)
    if quoted is None:
        if len(encoded) >= _ENCODED_LIMIT:
            encoded.clear()
        quoted = encoded[text] = encode_basestring(text)
    return quoted


def _number(value: float | None) -> str:
    if value is None:
        return "null"
    if type(value) is int:
        return int.__repr__(value)
    return _encode(value)


_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# Characters some line readers (Python's str.splitlines, editors) end a line at, inside a JSON string.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _compact(value: object) -> str:
    """``value`` as compact JSON on one line for any reader: the characters some end a line at are
    escaped, as JSON allows."""
    return _compact_json(value).translate(_LINE_BREAKS)


def write_jsonl_result(result: CheckResult, out: TextIO) -> None:
    """One line: ``result_to_dict(result)`` as compact JSON; referrers kept outside memory are written a
    piece at a time."""
    referrers = result.referrers
    if json_pieces.held(referrers):
        out.write(_compact(result_to_dict(result)))
    else:
        deferred = json_pieces.Deferred(_compact)
        data = result_to_dict(replace(result, referrers=()))
        data["referrers"] = deferred.mark(_referrer(r) for r in referrers)
        json_pieces.write(out, deferred.text(data))
    out.write("\n")
