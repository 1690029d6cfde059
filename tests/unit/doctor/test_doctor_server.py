"""The server side, judged from a probe: host name matching, chain completeness and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.support.pki import PKI
from tests.unit.doctor.conftest import NOW, probe_result

from linkdoctor.doctor.server import examine_server, hostname_matches, server_findings
from linkdoctor.models import Severity
from linkdoctor.tls.probe import ProbeResult


@pytest.mark.parametrize(
    ("sans", "host", "expected"),
    [
        (("api.example.test",), "api.example.test", True),
        (("api.example.test",), "API.Example.Test.", True),
        (("*.example.test",), "api.example.test", True),
        (("*.example.test",), "example.test", False),
        (("*.example.test",), "a.b.example.test", False),
        (("*.test",), "example.test", False),
        (("127.0.0.1",), "127.0.0.1", True),
        (("localhost",), "127.0.0.1", False),
        (("::1",), "[::1]", True),
    ],
)
def test_hostname_matching_follows_rfc_6125(
    pki: PKI, sans: tuple[str, ...], host: str, expected: bool
) -> None:
    name = "hm-" + "".join(c if c.isalnum() else "-" for c in f"{'_'.join(sans)}_{host}")
    cert = pki.issue(name, issuer=pki.root, sans=sans).certificate
    assert hostname_matches(cert, host) is expected


def test_common_name_counts_only_without_alternative_names(pki: PKI) -> None:
    cert = pki.issue("cn-only", issuer=pki.root, common_name="cn.example.test").certificate
    assert hostname_matches(cert, "cn.example.test")


def test_healthy_server_has_no_findings(healthy_probe: ProbeResult) -> None:
    exam = examine_server(healthy_probe, "api.example.test", NOW)
    assert (exam.chain_complete, exam.hostname_matches) == (True, True)
    assert server_findings(exam, now=NOW, warn_days=14) == []


def test_certificate_expiring_within_warn_days_is_a_warning(healthy_probe: ProbeResult) -> None:
    leaf = healthy_probe.peer_chain[0]
    now = leaf.not_valid_after_utc - timedelta(days=5)
    findings = server_findings(examine_server(healthy_probe, "api.example.test", now), now=now, warn_days=14)
    assert [(f.code, f.severity) for f in findings] == [("tls.server-cert-expired", Severity.WARNING)]
    assert "in 5 days" in findings[0].summary


def test_warn_days_is_configurable(healthy_probe: ProbeResult) -> None:
    leaf = healthy_probe.peer_chain[0]
    now = leaf.not_valid_after_utc - timedelta(days=5)
    exam = examine_server(healthy_probe, "api.example.test", now)
    assert server_findings(exam, now=now, warn_days=3) == []


def test_leaf_without_its_intermediate_is_an_incomplete_chain(pki: PKI, healthy_probe: ProbeResult) -> None:
    leaf = pki.server_via_intermediate("unit-via").certificate
    seen = probe_result(healthy_probe, peer_chain=(leaf,), verify_code=20)
    exam = examine_server(seen, "127.0.0.1", NOW)
    assert exam.chain_complete is False
    finding = server_findings(exam, now=NOW, warn_days=14)[0]
    assert finding.code == "tls.server-cert-incomplete-chain"
    assert "ssl_certificate     /etc/nginx/tls/fullchain.pem;" in "\n".join(finding.fix)


def test_chain_ending_in_an_unknown_root_is_untrusted(pki: PKI, healthy_probe: ProbeResult) -> None:
    chain = (pki.server_via_intermediate("unit-via-2").certificate, pki.intermediate.certificate)
    seen = probe_result(healthy_probe, peer_chain=chain, verify_code=20)
    exam = examine_server(seen, "127.0.0.1", NOW)
    assert exam.chain_complete is None
    assert server_findings(exam, now=NOW, warn_days=14)[0].code == "tls.server-cert-untrusted"


def test_no_certificate_at_all_is_a_failed_handshake(healthy_probe: ProbeResult) -> None:
    seen = probe_result(
        healthy_probe, peer_chain=(), tls_version=None, error="handshake: wrong version number"
    )
    findings = server_findings(examine_server(seen, "api.example.test", NOW), now=NOW, warn_days=14)
    assert findings[0].code == "tls.handshake-failed"
    assert "wrong version number" in findings[0].summary


def test_a_certificate_not_valid_yet_points_at_the_clock_first(healthy_probe: ProbeResult) -> None:
    leaf = healthy_probe.peer_chain[0]
    now = leaf.not_valid_before_utc - timedelta(days=3)  # this machine's clock is three days behind
    seen = probe_result(healthy_probe, verify_code=9)
    findings = server_findings(examine_server(seen, "api.example.test", now), now=now, warn_days=14)
    assert [(f.code, f.severity, f.actor) for f in findings] == [
        ("tls.server-cert-not-yet-valid", Severity.ERROR, "client")
    ]
    assert "in 3 days" in findings[0].summary and "clock" in findings[0].summary
    assert any("timedatectl" in step for step in findings[0].fix)
