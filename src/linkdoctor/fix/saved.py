"""Reading a saved JSON report (``linkdoctor check --all-referrers --format json:report.json``) for ``fix
--from``: the results with their redirects, diagnoses and referrers, from version 1 (one result per link,
referrers spelled out) or version 2 (one result per document with its ``links`` inside, referring pages
listed once in ``pages``), read tolerantly (unknown keys are ignored) and with one clear error for a file that
is not such a report.

    results, written_ns = load_report(Path("report.json"))
"""

from __future__ import annotations

import json
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult, Diagnosis, ErrorKind, Redirect, Referrer


def load_report(path: Path) -> tuple[tuple[CheckResult, ...], int]:
    """The results of the JSON report at ``path`` and the time it was written (ns since the epoch)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise ConfigError(f"--from {path}: not a regular file (a FIFO, socket or device)")
        data = json.loads(path.read_bytes())
        written_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"--from {path}: cannot read: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"--from {path}: not a JSON report ({exc})") from None
    except RecursionError:
        raise ConfigError(f"--from {path}: not a JSON report (nested too deeply)") from None
    rows = data.get("results") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"--from {path}: not a linkdoctor JSON report (no results list)")
    try:
        if data.get("version") == 1 or "pages" not in data:
            return tuple(_result(row) for row in rows), written_ns
        pages = [str(p) if p is not None else None for p in data["pages"]]
        return tuple(r for row in rows for r in _document_results(row, pages)), written_ns
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"--from {path}: a result is malformed ({exc})") from None


def _document_results(row: Mapping[str, Any], pages: list[str | None]) -> list[CheckResult]:
    """A version 2 result: one document, and a result per link to it (per fragment)."""
    target = str(row["url"])
    results = []
    links: list[Mapping[str, Any]] = row.get("links") or [{}]
    for link in links:
        fragment = link.get("fragment") or ""
        referrers = [
            {"url": pages[int(page)], "line": line, "text": text}
            for page, line, text in link.get("referrers") or ()
            if page is not None and pages[int(page)] is not None
        ]
        merged = {
            **row,
            "url": link.get("url") or (f"{target}#{fragment}" if fragment else target),
            "final_url": row.get("final_url") or target,
            "category": link.get("category", row["category"]),
            "diagnosis": link.get("diagnosis", row.get("diagnosis")),
            "referrers": referrers,
            "referrer_count": link.get("referrer_count"),
        }
        results.append(_result(merged))
    return results


def _result(row: Mapping[str, Any]) -> CheckResult:
    diagnosis = row.get("diagnosis")
    error = row.get("error")
    return CheckResult(
        url=str(row["url"]),
        category=Category(row["category"]),
        status=row.get("status"),
        reason=str(row.get("reason") or ""),
        final_url=str(row.get("final_url") or ""),
        redirects=tuple(Redirect(str(r["url"]), int(r["status"])) for r in row.get("redirects") or ()),
        error=ErrorKind(error) if error else None,
        error_message=str(row.get("error_message") or ""),
        diagnosis=Diagnosis(str(diagnosis["code"]), str(diagnosis.get("summary", ""))) if diagnosis else None,
        referrers=tuple(
            Referrer(str(r["url"]), r.get("line"), str(r.get("text") or ""))
            for r in row.get("referrers") or ()
        ),
        referrer_count=int(row["referrer_count"]) if row.get("referrer_count") is not None else None,
    )
