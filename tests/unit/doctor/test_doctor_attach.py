"""``check --diagnose``: one examination per failing (host, port, certificate), findings on every result
it explains, and nothing for failures the TLS doctor cannot explain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from linkdoctor.config import CheckConfig, ClientCert
from linkdoctor.doctor import ClientAuthMode, DoctorOptions, Verdict, attach_findings
from linkdoctor.doctor.attach import check_diagnosed
from linkdoctor.doctor.model import ClientAuthExam, HandshakeOutcome, ServerExam
from linkdoctor.errors import ConfigError
from linkdoctor.models import (
    INTERRUPTED,
    Category,
    CheckResult,
    Diagnosis,
    Finding,
    LeftOut,
    Report,
    Severity,
    Summary,
)

FINDING = Finding("tls.client-cert-expired", Severity.ERROR, "client", "expired")


def verdict(url: str) -> Verdict:
    handshake = HandshakeOutcome(False, True, "TLSv1.3", None, 200, 200, None)
    return Verdict(
        url=url,
        checked_at=datetime(2030, 1, 1, tzinfo=UTC),
        headline="1 problem",
        findings=(FINDING,),
        server=ServerExam("h", 443, "h", "TLSv1.3", None, (), None, "", None, None, None, None),
        client_auth=ClientAuthExam(ClientAuthMode.REQUIRED, True, "", (), handshake, None),
        client_cert=None,
        requests=(),
        reproduce=(),
    )


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, DoctorOptions]] = []
        self.fail = fail

    async def __call__(self, url: str, options: DoctorOptions) -> Verdict:
        self.calls.append((url, options))
        if self.fail:
            raise ConfigError("cannot reach h:443: Connection refused")
        return verdict(url)


def result(url: str, code: str | None, *, precise: int | None = None, ok: bool = False) -> CheckResult:
    diagnosis = Diagnosis(code, code) if code else None
    category = Category.OK if ok else Category.BROKEN
    return CheckResult(url=url, category=category, status=400, precise_status=precise, diagnosis=diagnosis)


def report(*results: CheckResult) -> Report:
    return Report(Summary.from_results(results), results)


async def test_one_examination_per_host_and_certificate() -> None:
    doctor = Recorder()
    results = [result(f"https://a.test/{n}", "tls.client-cert-expired") for n in range(3)]
    results.append(result("https://b.test:8443/", "tls.client-cert-required"))
    attached = await attach_findings(report(*results), CheckConfig(), diagnoser=doctor)
    assert [url for url, _ in doctor.calls] == ["https://a.test/0", "https://b.test:8443/"]
    assert all(r.findings == (FINDING,) for r in attached.results)


async def test_each_certificate_is_examined_separately() -> None:
    doctor = Recorder()
    config = CheckConfig(
        client_certs=(
            ClientCert(cert=Path("a.pem"), hosts=("a.test",)),
            ClientCert(cert=Path("b.pem"), hosts=("b.test",)),
        )
    )
    results = (
        result("https://a.test/", "tls.client-cert-expired"),
        result("https://b.test/", "tls.client-cert-expired"),
    )
    await attach_findings(report(*results), config, diagnoser=doctor)
    assert [options.client.cert for _, options in doctor.calls if options.client] == [
        Path("a.pem"),
        Path("b.pem"),
    ]


async def test_non_tls_failures_and_working_links_are_left_alone() -> None:
    doctor = Recorder()
    results = (result("https://a.test/404", "http.not-found"), result("https://a.test/", None, ok=True))
    attached = await attach_findings(report(*results), CheckConfig(), diagnoser=doctor)
    assert doctor.calls == []
    assert all(r.findings == () for r in attached.results)


async def test_plain_http_to_a_tls_port_is_examined_over_https() -> None:
    doctor = Recorder()
    results = (result("http://a.test:8443/x?y=1", "http.plain-http-to-https-port", precise=497),)
    await attach_findings(report(*results), CheckConfig(), diagnoser=doctor)
    assert doctor.calls[0][0] == "https://a.test:8443/x?y=1"


async def test_a_host_the_doctor_cannot_examine_becomes_a_run_warning() -> None:
    results = (result("https://a.test/", "tls.client-cert-required"),)
    attached = await attach_findings(report(*results), CheckConfig(), diagnoser=Recorder(fail=True))
    assert attached.results[0].findings == ()
    assert attached.summary.warnings == (
        "diagnose: could not examine a.test:443: cannot reach h:443: Connection refused",
    )


async def test_the_doctor_uses_the_runs_trust_store_and_timeout() -> None:
    doctor = Recorder()
    config = CheckConfig(cacert=Path("ca.pem"), timeout=3.0)
    await attach_findings(
        report(result("https://a.test/", "tls.server-cert-untrusted")), config, diagnoser=doctor
    )
    options = doctor.calls[0][1]
    assert (options.cafile, options.timeout) == (Path("ca.pem"), 3.0)


async def test_a_run_stopped_by_a_signal_is_not_diagnosed_and_keeps_every_result() -> None:
    # Ctrl-C asks for the partial report now: the doctor's handshakes (seconds each, per host) would hold
    # it up, and a second Ctrl-C meanwhile would lose it. The failures held back still reach the report.
    failing = result("https://a.test/", "tls.client-cert-expired")
    fine = result("https://a.test/ok", None, ok=True)
    stopped = LeftOut(INTERRUPTED, 5, "URLs not checked: the run was interrupted by SIGINT")
    partial = Report(replace(Summary.from_results((failing, fine)), left_out=(stopped,)), (failing, fine))

    async def check(sink: Callable[[CheckResult], None] | None) -> Report:
        assert sink is not None
        for each in partial.results:
            sink(each)
        return partial

    doctor = Recorder()
    streamed: list[CheckResult] = []
    config = CheckConfig(diagnose=True)
    got = await check_diagnosed(config, check, on_result=streamed.append, diagnoser=doctor)
    assert (got, doctor.calls) == (partial, [])
    assert sorted(r.url for r in streamed) == ["https://a.test/", "https://a.test/ok"]

    # Not stopped: the same failure is examined.
    whole = Report(Summary.from_results((failing, fine)), (failing, fine))

    async def check_whole(sink: Callable[[CheckResult], None] | None) -> Report:
        return whole

    diagnosed = await check_diagnosed(config, check_whole, diagnoser=doctor)
    assert [url for url, _ in doctor.calls] == ["https://a.test/"]
    assert diagnosed.results[0].findings == (FINDING,)
