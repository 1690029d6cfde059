"""Conversions between the ORM rows and the frozen values of :mod:`linkdoctor.monitor.model`, and the JSON
shapes of site options and stored results (the database's JSON columns hold only these shapes; a result's
come from :mod:`linkdoctor.codec`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import Row

from linkdoctor.codec import diagnosis_from_json, referrers_from_json, result_to_json
from linkdoctor.models import Category, CheckResult, Summary
from linkdoctor.monitor.model import (
    Role,
    Scan,
    ScanState,
    Site,
    SiteOptions,
    SiteSpec,
    StoredFinding,
    StoredResult,
    User,
)
from linkdoctor.monitor.orm import ResultRow, ScanRow, SiteRow, UserRow


def options_to_json(options: SiteOptions) -> dict[str, Any]:
    data = asdict(options)
    data["headers_env"] = [list(pair) for pair in options.headers_env]
    for key in ("include", "exclude", "accept", "cert_hosts"):
        data[key] = list(data[key])
    return data


def options_from_json(data: dict[str, Any]) -> SiteOptions:
    known = {k: v for k, v in data.items() if k in SiteOptions.__dataclass_fields__}
    for key in ("include", "exclude", "accept", "cert_hosts"):
        if key in known:
            known[key] = tuple(known[key])
    if "headers_env" in known:
        known["headers_env"] = tuple((str(name), str(env)) for name, env in known["headers_env"])
    return SiteOptions(**known)


def fill_site_row(row: SiteRow, spec: SiteSpec) -> None:
    row.name = spec.name
    row.url = spec.url
    row.every_seconds = None if spec.every is None else int(spec.every.total_seconds())
    row.cron = spec.cron
    row.budget = spec.budget
    row.scope = list(spec.scope)
    row.options = options_to_json(spec.options)
    row.notify = list(spec.notify)
    row.alert_after = spec.alert_after


def site_from_row(row: SiteRow) -> Site:
    spec = SiteSpec(
        name=row.name,
        url=row.url,
        every=None if row.every_seconds is None else timedelta(seconds=row.every_seconds),
        cron=row.cron,
        budget=row.budget,
        scope=tuple(row.scope),
        options=options_from_json(row.options),
        notify=tuple(row.notify),
        alert_after=row.alert_after,
    )
    return Site(
        id=row.id, spec=spec, created_at=row.created_at, next_run_at=row.next_run_at, owner_id=row.owner_id
    )


def scan_from_row(row: ScanRow) -> Scan:
    return Scan(
        id=row.id,
        site_id=row.site_id,
        state=ScanState(row.state),
        queued_at=row.queued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=Summary(
            total=row.total,
            ok=row.ok,
            redirected=row.redirected,
            broken=row.broken,
            excluded=row.excluded,
            unverified=row.unverified,
        ),
        budget_used=row.budget_used,
        runs=row.runs,
        error=row.error,
        problems=row.problems,
    )


# The result columns that hold a field of the result codec's full form as it is.
_RESULT_COLUMNS = (
    "url", "category", "status", "precise_status", "reason", "final_url",
    "error", "error_message", "referrers",
)  # fmt: skip


def result_row(scan_id: int, result: CheckResult) -> dict[str, Any]:
    """The column values of one stored result (for a bulk insert): the fields of the result codec's full
    form, the diagnosis spread over three columns, and each finding as ``[code, severity, summary]``."""
    data = result_to_json(result, compact=False)
    row = {"scan_id": scan_id, **{column: data[column] for column in _RESULT_COLUMNS}}
    diagnosis: list[Any] = data["diagnosis"] or [None, "", []]
    row.update(diagnosis_code=diagnosis[0], diagnosis_summary=diagnosis[1], diagnosis_fix=diagnosis[2])
    row["findings"] = [[code, severity, summary] for code, severity, _actor, summary, *_ in data["findings"]]
    return row


def stored_result(row: ResultRow | Row[Any]) -> StoredResult:
    """A stored result from its ORM row, or from a plain row of the results table (same names)."""
    diagnosis = (
        None
        if row.diagnosis_code is None
        else diagnosis_from_json((row.diagnosis_code, row.diagnosis_summary, row.diagnosis_fix))
    )
    return StoredResult(
        id=row.id,
        scan_id=row.scan_id,
        url=row.url,
        category=Category(row.category),
        status=row.status,
        precise_status=row.precise_status,
        reason=row.reason,
        final_url=row.final_url,
        error=row.error,
        error_message=row.error_message,
        diagnosis=diagnosis,
        referrers=referrers_from_json(row.referrers),
        findings=tuple(StoredFinding(code, severity, summary) for code, severity, summary in row.findings),
    )


def user_from_row(row: UserRow) -> User:
    role = Role.ADMIN if row.is_admin else Role(row.role)
    return User(id=row.id, username=row.username, is_admin=row.is_admin, created_at=row.created_at, role=role)
