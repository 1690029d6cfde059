"""The one JSON codec of the result values (:mod:`linkdoctor.models`): a :class:`CheckResult` and its parts
as plain JSON-ready lists and dicts, and back.

It serves everything that stores or sends results: the saved frontier, the result cache, the
distributed workers' pages and the monitor's result rows. ``report/json.py`` is not one of them: it is
the public, versioned report schema, whose shape is promised to users.

The compact form leaves out the fields that hold their default, and writes the parts as positional
lists (a referrer is ``[url, line, text]``, a diagnosis ``[code, summary, fix]``), since a crawl stores
results by the ten thousand. :func:`result_from_json` reads it and the full form alike (every field
present, defaults as ``null``, ``""`` or ``[]``), which is what older cache files hold::

    >>> result = CheckResult("https://example.org/", Category.OK, status=200)
    >>> result_to_json(result)
    {'url': 'https://example.org/', 'category': 'ok', 'status': 200}
    >>> result_from_json(result_to_json(result)) == result
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from linkdoctor.models import (
    Category,
    CheckResult,
    Diagnosis,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
)

__all__ = [
    "diagnosis_from_json",
    "diagnosis_to_json",
    "finding_from_json",
    "finding_to_json",
    "referrers_from_json",
    "referrers_to_json",
    "result_from_json",
    "result_to_json",
]


def referrers_to_json(referrers: Iterable[Referrer]) -> list[list[Any]]:
    """Referrers as ``[url, line, text]`` rows."""
    return [[r.url, r.line, r.text] for r in referrers]


def referrers_from_json(rows: Iterable[Sequence[Any]]) -> tuple[Referrer, ...]:
    return tuple(Referrer(url, line, text) for url, line, text in rows)


def diagnosis_to_json(diagnosis: Diagnosis) -> list[Any]:
    """A diagnosis as ``[code, summary, [fix, …]]``."""
    return [diagnosis.code, diagnosis.summary, list(diagnosis.fix)]


def diagnosis_from_json(row: Sequence[Any]) -> Diagnosis:
    code, summary, fix = row
    return Diagnosis(code, summary, tuple(fix))


def finding_to_json(finding: Finding) -> list[Any]:
    """A finding as ``[code, severity, actor, summary, [[key, value], …], [fix, …]]``."""
    return [
        finding.code,
        finding.severity.value,
        finding.actor,
        finding.summary,
        [list(pair) for pair in finding.evidence],
        list(finding.fix),
    ]


def finding_from_json(row: Sequence[Any]) -> Finding:
    code, severity, actor, summary, evidence, fix = row
    return Finding(code, Severity(severity), actor, summary, tuple((k, v) for k, v in evidence), tuple(fix))


def result_to_json(result: CheckResult, *, compact: bool = True) -> dict[str, Any]:
    """A :class:`CheckResult` as JSON-ready values (the inverse of :func:`result_from_json`).

    ``compact`` leaves out the fields that hold their default; without it every field is present.
    """
    if not compact:
        return {
            "url": result.url,
            "category": result.category.value,
            "status": result.status,
            "reason": result.reason,
            "precise_status": result.precise_status,
            "final_url": result.final_url,
            "redirects": [[r.url, r.status] for r in result.redirects],
            "elapsed_ms": result.elapsed_ms,
            "error": None if result.error is None else result.error.value,
            "error_message": result.error_message,
            "diagnosis": None if result.diagnosis is None else diagnosis_to_json(result.diagnosis),
            "referrers": referrers_to_json(result.referrers),
            "findings": [finding_to_json(f) for f in result.findings],
            "referrer_count": result.referrer_count,
        }
    data: dict[str, Any] = {"url": result.url, "category": result.category.value}
    if result.status is not None:
        data["status"] = result.status
    if result.reason:
        data["reason"] = result.reason
    if result.precise_status is not None:
        data["precise_status"] = result.precise_status
    if result.final_url:
        data["final_url"] = result.final_url
    if result.redirects:
        data["redirects"] = [[r.url, r.status] for r in result.redirects]
    if result.elapsed_ms:
        data["elapsed_ms"] = result.elapsed_ms
    if result.error is not None:
        data["error"] = result.error.value
    if result.error_message:
        data["error_message"] = result.error_message
    if result.diagnosis is not None:
        data["diagnosis"] = diagnosis_to_json(result.diagnosis)
    if result.referrers:
        data["referrers"] = referrers_to_json(result.referrers)
    if result.findings:
        data["findings"] = [finding_to_json(f) for f in result.findings]
    if result.referrer_count is not None:
        data["referrer_count"] = result.referrer_count
    return data


def result_from_json(data: Mapping[str, Any], *, url: str | None = None) -> CheckResult:
    """The :class:`CheckResult` in ``data`` (compact or full form); ``url`` supplies the URL of a form
    stored without it (the cache keeps it in its own column).

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` for data that is not such a form.
    """
    diagnosis = data.get("diagnosis")
    error = data.get("error")
    return CheckResult(
        url=data["url"] if url is None else url,
        category=Category(data["category"]),
        status=data.get("status"),
        reason=data.get("reason", ""),
        precise_status=data.get("precise_status"),
        final_url=data.get("final_url", ""),
        redirects=tuple(Redirect(u, s) for u, s in data.get("redirects", ())),
        elapsed_ms=data.get("elapsed_ms", 0.0),
        error=None if error is None else ErrorKind(error),
        error_message=data.get("error_message", ""),
        diagnosis=None if diagnosis is None else diagnosis_from_json(diagnosis),
        referrers=referrers_from_json(data.get("referrers", ())),
        findings=tuple(finding_from_json(f) for f in data.get("findings", ())),
        referrer_count=data.get("referrer_count"),
    )
