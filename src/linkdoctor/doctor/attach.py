"""``check --diagnose``: run the doctor once per failing (host, port, client certificate) and attach its
findings to every failing result it explains.

Only TLS failures qualify: a diagnosis code starting with ``tls.``, or nginx's 495/496/497 behind a wire
400. A host the doctor cannot examine (unreachable by now, say) adds a run warning instead of findings::

    report = await attach_findings(report, config)
    report.results[0].findings[0].code      # 'tls.client-cert-expired'

The engine knows nothing of the doctor: the caller composes the two with :func:`check_diagnosed`::

    report = await check_diagnosed(config, lambda sink: check_async(config, inputs, on_result=sink))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from linkdoctor.config import CheckConfig, ClientCert
from linkdoctor.doctor.examine import DEFAULT_DIAGNOSE_TIMEOUT, DoctorOptions, diagnose
from linkdoctor.doctor.model import Verdict
from linkdoctor.errors import LinkdoctorError
from linkdoctor.models import CheckResult, Report

_NGINX_TLS_STATUSES: Final = frozenset({495, 496, 497})

Diagnoser = Callable[[str, DoctorOptions], Awaitable[Verdict]]
ResultSink = Callable[[CheckResult], None]
CheckRun = Callable[[ResultSink | None], Awaitable[Report]]
"""A check to run, given the sink its results stream to (None: no streaming)."""
_GroupKey = tuple[str, int, ClientCert | None]


def needs_doctor(result: CheckResult) -> bool:
    """Whether ``result`` is a failure the TLS doctor can explain."""
    if not result.is_failure:
        return False
    code = result.diagnosis.code if result.diagnosis else ""
    return code.startswith("tls.") or result.precise_status in _NGINX_TLS_STATUSES


async def attach_findings(report: Report, config: CheckConfig, *, diagnoser: Diagnoser = diagnose) -> Report:
    """A copy of ``report`` whose TLS failures carry the doctor's findings (one examination per group)."""
    groups: dict[_GroupKey, list[int]] = {}
    urls: dict[_GroupKey, str] = {}
    for index, result in enumerate(report.results):
        if not needs_doctor(result):
            continue
        located = _https_url(result.url)
        if located is None:
            continue
        url, host, port = located
        key = (host, port, config.client_cert_for(host))
        groups.setdefault(key, []).append(index)
        urls.setdefault(key, url)
    results = list(report.results)
    warnings = list(report.summary.warnings)
    for key, indices in groups.items():
        host, port, client = key
        options = DoctorOptions(
            client=client,
            cafile=config.cacert_for(host),
            timeout=min(config.timeout, DEFAULT_DIAGNOSE_TIMEOUT),
            request_config=config,
        )
        try:
            verdict = await diagnoser(urls[key], options)
        except LinkdoctorError as exc:
            warnings.append(f"diagnose: could not examine {host}:{port}: {exc}")
            continue
        for index in indices:
            results[index] = dataclasses.replace(results[index], findings=verdict.findings)
    summary = dataclasses.replace(report.summary, warnings=tuple(warnings))
    return Report(summary=summary, results=tuple(results))


async def check_diagnosed(
    config: CheckConfig,
    check: CheckRun,
    *,
    on_result: ResultSink | None = None,
    diagnoser: Diagnoser = diagnose,
) -> Report:
    """Run ``check`` and, with ``config.diagnose``, attach the doctor's findings to its TLS failures (not
    when a signal stopped it: the doctor's handshakes would hold up the partial report asked for).

    Results stream to ``on_result`` as they come, except the failures the doctor examines: those are held
    back and sent once they carry its findings.
    """
    if not config.diagnose:
        return await check(on_result)
    held: list[str] = []
    report = await check(_holding_back_tls_failures(on_result, held) if on_result else None)
    if not report.summary.interrupted:  # a stopped run ends now: its partial report is what was asked for
        report = await attach_findings(report, config, diagnoser=diagnoser)
    if held and on_result is not None:
        examined = {result.url: result for result in report.results}
        for url in held:
            on_result(examined[url])
    return report


def _holding_back_tls_failures(on_result: ResultSink, held: list[str]) -> ResultSink:
    """``on_result``, except that TLS failures (what the doctor examines) are only noted in ``held``."""

    def sink(result: CheckResult) -> None:
        if needs_doctor(result):
            held.append(result.url)
        else:
            on_result(result)

    return sink


def _https_url(url: str) -> tuple[str, str, int] | None:
    """The https URL the doctor examines for ``url`` (an http link that hit a TLS port becomes https)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if host is None or parts.scheme not in ("http", "https"):
        return None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port == 443 else f"{shown}:{port}"
    return urlunsplit(("https", netloc, parts.path or "/", parts.query, "")), host, port
