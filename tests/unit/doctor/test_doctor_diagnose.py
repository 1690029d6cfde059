"""The examination's flow with injected probes and requests: what happens before any traffic, what is
bad input, which connections are made, and what the real request adds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.support.pki import PKI
from tests.unit.doctor.conftest import NOW, URL, check_result, probe_result

from linkdoctor.config import CheckConfig, ClientCert, ExitCode, Method
from linkdoctor.doctor import DoctorOptions, Verdict, diagnose
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult, Diagnosis
from linkdoctor.tls.probe import ProbeResult


class FakeNetwork:
    """Records every probe and request; answers with fixed results."""

    def __init__(self, probe: ProbeResult, result: CheckResult | None = None) -> None:
        self.probe = probe
        self.result = result or check_result()
        self.probes: list[dict[str, Any]] = []
        self.requests: list[CheckConfig] = []

    def prober(self, host: str, port: int, **kwargs: Any) -> ProbeResult:
        self.probes.append({"host": host, "port": port, **kwargs})
        return self.probe

    async def requester(self, url: str, config: CheckConfig) -> CheckResult:
        self.requests.append(config)
        return self.result


async def run(network: FakeNetwork, options: DoctorOptions | None = None, url: str = URL) -> Verdict:
    return await diagnose(url, options, prober=network.prober, requester=network.requester, clock=lambda: NOW)


async def test_a_bad_certificate_file_stops_before_any_traffic(
    healthy_probe: ProbeResult, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    network = FakeNetwork(healthy_probe)
    with pytest.raises(ConfigError, match="is not a certificate"):
        await run(network, DoctorOptions(client=ClientCert(cert=bogus, key=bogus)))
    assert (network.probes, network.requests) == ([], [])


async def test_an_unreachable_host_is_bad_input(healthy_probe: ProbeResult) -> None:
    refused = probe_result(
        healthy_probe, tls_version=None, peer_chain=(), error="connect failed: Connection refused"
    )
    network = FakeNetwork(refused)
    with pytest.raises(
        ConfigError, match=re.escape("cannot reach api.example.test:8443: Connection refused")
    ):
        await run(network)
    assert network.requests == []


async def test_probes_get_the_path_timeout_and_trust_store(healthy_probe: ProbeResult) -> None:
    network = FakeNetwork(healthy_probe)
    await run(network, DoctorOptions(cafile=Path("ca.pem"), timeout=2.5))
    assert network.probes == [
        {
            "host": "api.example.test",
            "port": 8443,
            "path": "/orders?id=7",
            "client": None,
            "timeout": 2.5,
            "cafile": Path("ca.pem"),
        }
    ]


async def test_no_probe_with_the_certificate_when_the_server_asks_for_none(
    healthy_probe: ProbeResult, pki: PKI
) -> None:
    good = pki.client("flow-good")
    network = FakeNetwork(healthy_probe)
    verdict = await run(network, DoctorOptions(client=ClientCert(cert=good.cert, key=good.key)))
    assert len(network.probes) == 1
    assert [r.with_certificate for r in verdict.requests] == [False, True]


async def test_the_real_request_is_one_get_without_retries_and_then_with_the_certificate(
    healthy_probe: ProbeResult, pki: PKI
) -> None:
    good = pki.client("flow-good-2")
    spec = ClientCert(cert=good.cert, key=good.key)
    network = FakeNetwork(probe_result(healthy_probe, cert_requested=True))
    await run(network, DoctorOptions(client=spec, timeout=4.0))
    without, with_cert = network.requests
    assert (without.client_certs, with_cert.client_certs) == ((), (spec,))
    assert all(
        (c.method, c.retries, c.timeout, c.diagnose, c.recursive) == (Method.GET, 0, 4.0, False, False)
        for c in network.requests
    )


async def test_a_key_that_does_not_match_is_the_leading_finding(healthy_probe: ProbeResult, pki: PKI) -> None:
    pair = pki.client_mismatched_key("flow-mismatch")
    network = FakeNetwork(probe_result(healthy_probe, cert_requested=True))
    verdict = await run(network, DoctorOptions(client=ClientCert(cert=pair.cert, key=pair.key)))
    assert verdict.findings[0].code == "tls.client-cert-key-mismatch"
    assert len(network.requests) == 1  # the certificate cannot be presented at all
    assert verdict.client_cert is not None and not verdict.client_cert.loaded


async def test_a_client_certificate_problem_on_a_server_that_asks_for_none_is_only_a_warning(
    healthy_probe: ProbeResult, pki: PKI
) -> None:
    expired = pki.client_expired("flow-expired")
    network = FakeNetwork(healthy_probe)
    verdict = await run(network, DoctorOptions(client=ClientCert(cert=expired.cert, key=expired.key)))
    assert verdict.exit_code is ExitCode.OK
    assert "this server does not ask for a certificate" in verdict.findings[0].summary


async def test_a_broken_resource_behind_healthy_tls_is_reported_from_the_catalogue(
    healthy_probe: ProbeResult,
) -> None:
    missing = check_result(
        category=Category.BROKEN,
        status=404,
        precise_status=404,
        diagnosis=Diagnosis("http.not-found", "Not found"),
    )
    verdict = await run(FakeNetwork(healthy_probe, missing))
    assert [f.code for f in verdict.findings] == ["http.not-found"]
    assert verdict.exit_code is ExitCode.BROKEN


async def test_healthy_verdict_headline(healthy_probe: ProbeResult) -> None:
    verdict = await run(FakeNetwork(healthy_probe))
    assert verdict.findings == ()
    assert verdict.headline.startswith("Healthy: TLSv1.3, server certificate valid for ")
    assert verdict.headline.endswith("no client certificate requested, HTTP 200")
