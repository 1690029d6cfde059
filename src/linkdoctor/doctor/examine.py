"""The examination: local preflight, handshake probes without and with the certificate, the real request
without and with it, then the verdict — what an expert does by hand with ``openssl`` and ``curl``.

Network side effects are injected: ``prober`` (default :func:`linkdoctor.tls.probe.probe`, blocking, run
in a thread) and ``requester`` (default: one request by the engine's checker), as are the clock and the credential
loader. Bad input raises :class:`~linkdoctor.errors.ConfigError` (exit code 3) before or instead of a
verdict: a URL that is not https, an unreachable host, an unusable certificate file or password::

    verdict = await diagnose("https://api.example.com/", DoctorOptions(client=ClientCert(cert=…, key=…)))
    verdict.findings[0].code       # 'tls.client-cert-expired'
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol

from cryptography import x509

from linkdoctor.classify import codes, codes_model
from linkdoctor.config import CheckConfig, ClientCert, Method
from linkdoctor.doctor import client_auth, client_cert, server
from linkdoctor.doctor.commands import Target, reproduce
from linkdoctor.doctor.model import ClientAuthExam, ClientAuthMode, ClientCertExam, RequestOutcome, Verdict
from linkdoctor.doctor.verdict import headline, order_findings
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult, Finding, Severity
from linkdoctor.tls.certs import KEY_MISMATCH, ClientCertError, LoadedClientCert, load_client_cert
from linkdoctor.tls.preflight import DEFAULT_WARN_DAYS, preflight
from linkdoctor.tls.probe import ProbeResult, probe

DEFAULT_DIAGNOSE_TIMEOUT: Final = 10.0


class Prober(Protocol):
    """The shape of :func:`linkdoctor.tls.probe.probe`."""

    def __call__(
        self,
        host: str,
        port: int,
        *,
        path: str = ...,
        sni: str | None = ...,
        client: LoadedClientCert | None = ...,
        max_version: str | None = ...,
        timeout: float = ...,
        cafile: Path | None = ...,
    ) -> ProbeResult: ...


Requester = Callable[[str, CheckConfig], Awaitable[CheckResult]]
Loader = Callable[[ClientCert], LoadedClientCert]


@dataclass(frozen=True, slots=True)
class DoctorOptions:
    """What to examine with: the client certificate (if any), the trust store, and the limits.

    ``password_env`` only names the variable in the reproduction commands; the password itself travels
    in ``client.password``. ``request_config`` supplies headers and other request settings (from
    ``check``); its TLS, retry and crawl settings are replaced.
    """

    client: ClientCert | None = None
    cafile: Path | None = None
    timeout: float = DEFAULT_DIAGNOSE_TIMEOUT
    warn_days: int = DEFAULT_WARN_DAYS
    password_env: str | None = None
    request_config: CheckConfig | None = None


async def check_url(url: str, config: CheckConfig) -> CheckResult:
    """The real request: the engine's checker fetches ``url`` once, as ``check`` would check a listed URL
    (redirects followed, nothing crawled)."""
    # Imported on use: importing the doctor (its models, for the reports) loads no HTTP stack.
    from linkdoctor.engine.check import HttpChecker
    from linkdoctor.engine.filters import excluded_result
    from linkdoctor.engine.http.aiohttp_transport import AiohttpTransport
    from linkdoctor.engine.http.limiter import HostLimiter
    from linkdoctor.tls.context import TLSContextFactory

    excluded = excluded_result(url, config)
    if excluded is not None:
        return excluded
    tls = TLSContextFactory(config)
    try:
        async with AiohttpTransport(config) as transport:
            limiter = HostLimiter(config.max_per_host, config.host_interval, limits=config.host_limits)
            checker = HttpChecker(transport, config, limiter=limiter, tls=tls)
            fetched = await checker.fetch(url.partition("#")[0], want_body=False)
    finally:
        tls.close()
    return fetched.result


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def diagnose(
    url: str,
    options: DoctorOptions | None = None,
    *,
    prober: Prober = probe,
    requester: Requester = check_url,
    loader: Loader = load_client_cert,
    clock: Callable[[], datetime] = _utc_now,
) -> Verdict:
    """Examine ``url`` and return the verdict (see the module docstring)."""
    options = options or DoctorOptions()
    target = Target.parse(url)
    now = clock()

    # 1. The local certificate, before any traffic.
    loaded, mismatch = _load(options.client, loader)
    local = preflight(loaded, now=now, warn_days=options.warn_days) if loaded else ()

    # 2. The handshake without the certificate: is there anything to examine, and is one requested?
    without = await _probe(prober, target, None, options)
    _require_reachable(without, target, options)

    # 3. At once, so the whole examination stays within a few timeouts: the handshake with the
    #    certificate, and the real request without and with it.
    async def probe_with() -> ProbeResult | None:
        if loaded is None or not without.cert_requested:
            return None
        return await _probe(prober, target, loaded, options)

    async def request(client: ClientCert | None) -> RequestOutcome:
        result = await requester(target.url, _request_config(options, client))
        return _outcome(result, client is not None)

    async def request_with_certificate() -> RequestOutcome | None:
        if options.client is None or loaded is None:
            return None  # no certificate, or one whose key cannot be used
        return await request(options.client)

    with_cert, request_without, request_with = await asyncio.gather(
        probe_with(), request(None), request_with_certificate()
    )
    requests = tuple(r for r in (request_without, request_with) if r is not None)

    # 4. The verdict.
    exam = server.examine_server(without, target.host, now)
    auth = client_auth.examine_client_auth(without, with_cert, request_without)
    accepted = without.client_ca_names or (with_cert.client_ca_names if with_cert else ())
    findings = server.server_findings(exam, now=now, warn_days=options.warn_days)
    refused = client_auth.never_requested(auth, without, requests)
    if refused is not None:  # the page blames a certificate the handshake never asked for
        findings.append(refused)
    cert_exam: ClientCertExam | None = None
    if mismatch is not None and options.client is not None:
        findings.append(client_cert.key_mismatch(options.client, mismatch))
        cert_exam = client_cert.describe_unloadable(options.client)
    elif loaded is not None:
        if accepted:
            local = preflight(loaded, now=now, warn_days=options.warn_days, acceptable_ca_names=accepted)
        findings += _client_side(loaded, local, auth, accepted, with_cert, request_with, options)
        cert_exam = client_cert.describe(loaded)
    elif auth.mode is ClientAuthMode.REQUIRED:
        findings.append(client_auth.certificate_required(auth, target.url))
    if client_auth.public_anyway(auth, request_without):
        findings.append(client_auth.not_enforced(auth, request_without))
    findings += _request_findings(findings, request_with or request_without)
    ordered = order_findings(findings)
    return Verdict(
        url=target.url,
        checked_at=now,
        headline=headline(ordered, server=exam, auth=auth, requests=requests),
        findings=ordered,
        server=exam,
        client_auth=auth,
        client_cert=cert_exam,
        requests=requests,
        reproduce=reproduce(
            target,
            client=options.client,
            cafile=options.cafile,
            password_env=options.password_env,
            client_has_chain=bool(loaded and loaded.chain and loaded.source == "pem"),
        ),
    )


def _load(spec: ClientCert | None, loader: Loader) -> tuple[LoadedClientCert | None, str | None]:
    """The loaded certificate, or the message of a key mismatch (a verdict, not bad input)."""
    if spec is None:
        return None, None
    try:
        return loader(spec), None
    except ClientCertError as exc:
        if exc.code == KEY_MISMATCH:
            return None, str(exc)
        raise


async def _probe(
    prober: Prober, target: Target, client: LoadedClientCert | None, options: DoctorOptions
) -> ProbeResult:
    return await asyncio.to_thread(
        prober,
        target.host,
        target.port,
        path=target.path,
        client=client,
        timeout=options.timeout,
        cafile=options.cafile,
    )


def _require_reachable(seen: ProbeResult, target: Target, options: DoctorOptions) -> None:
    """An endpoint that cannot be reached, or never answers TLS, leaves nothing to diagnose: bad input."""
    if seen.tls_version is not None or seen.peer_chain or seen.alert is not None:
        return
    error = seen.error or "no answer"
    if error.startswith("connect failed"):
        raise ConfigError(f"cannot reach {target.hostport}: {error.removeprefix('connect failed: ')}")
    if "no answer within" in error:
        raise ConfigError(
            f"{target.hostport} accepted the connection but sent no TLS answer within {options.timeout:g} s"
        )
    if error.startswith("invalid host name"):
        raise ConfigError(f"{target.url}: {error}")


def _request_config(options: DoctorOptions, client: ClientCert | None) -> CheckConfig:
    base = options.request_config or CheckConfig()
    return dataclasses.replace(
        base,
        recursive=False,
        retries=0,
        timeout=options.timeout,
        connect_timeout=min(options.timeout, base.connect_timeout),
        method=Method.GET,
        respect_robots=False,
        check_fragments=False,
        client_certs=(client,) if client is not None else (),
        cacert=options.cafile,
        insecure=False,
        diagnose=False,
    )


def _outcome(result: CheckResult, with_certificate: bool) -> RequestOutcome:
    diagnosis = result.diagnosis
    return RequestOutcome(
        with_certificate=with_certificate,
        status=result.status,
        precise_status=result.precise_status,
        category=result.category.value,
        diagnosis_code=diagnosis.code if diagnosis else None,
        diagnosis_summary=diagnosis.summary if diagnosis else "",
        error=result.error_message,
        redirected=bool(result.redirects),
    )


def _client_side(
    loaded: LoadedClientCert,
    local: tuple[Finding, ...],
    auth: ClientAuthExam,
    accepted: tuple[x509.Name, ...],
    with_cert: ProbeResult | None,
    request_with: RequestOutcome | None,
    options: DoctorOptions,
) -> list[Finding]:
    answer = client_cert.server_answer(
        with_cert.alert if with_cert else None,
        client_auth.precise_status(with_cert) if with_cert else None,
        request_with,
    )
    places = [loaded.cert_path.parent, *([options.cafile] if options.cafile else [])]
    candidates = client_cert.local_certificates(places) if accepted else []
    return client_cert.client_findings(
        loaded, local, auth=auth, accepted=accepted, answer=answer, candidates=candidates
    )


def _request_findings(found: list[Finding], outcome: RequestOutcome) -> list[Finding]:
    """What the real request adds: a non-TLS failure (404 …), or a TLS cause nothing else explained."""
    code = outcome.diagnosis_code
    if code is None or outcome.category != Category.BROKEN.value or any(f.code == code for f in found):
        return []
    if code.startswith("tls.") and any(f.severity is Severity.ERROR for f in found):
        return []
    try:
        entry = codes.info(code)
    except KeyError:
        return []
    actor = entry.actor if entry.actor in (codes_model.CLIENT, codes_model.OPERATOR) else codes_model.OPERATOR
    label = "with" if outcome.with_certificate else "without"
    return [
        Finding(
            code=code,
            severity=Severity.ERROR,
            actor=actor,
            summary=outcome.diagnosis_summary or entry.summary,
            evidence=(
                (f"status_{label}_certificate", str(outcome.status)),
                ("precise_status", str(outcome.precise_status)),
                *((("error", outcome.error),) if outcome.error else ()),
            ),
            fix=entry.fix,
        )
    ]
