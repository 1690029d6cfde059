"""The certificate expiry check's pure parts with an injected probe: which origins are probed (and how
many), when a certificate becomes a finding, the guard's veto, and which notices alert again."""

from __future__ import annotations

import doctest
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, CheckResult
from linkdoctor.monitor import certs
from linkdoctor.monitor.certs import CertExpiry, Origin, https_origins, new_notices, notices
from linkdoctor.monitor.model import CertificateNotice, SiteOptions
from linkdoctor.tls.probe import ProbeResult

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
CODE = "tls.server-cert-expired"


def leaf(not_after: datetime) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(not_after - timedelta(days=90))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )


class FakeProbe:
    """Answers with a certificate per (host, port); remembers the calls."""

    def __init__(self, chains: dict[tuple[str, int], tuple[x509.Certificate, ...]]) -> None:
        self.chains = chains
        self.calls: list[tuple[str, int, str | None]] = []

    def __call__(
        self,
        host: str,
        port: int,
        *,
        sni: str | None = None,
        timeout: float = 5.0,
        cafile: Path | None = None,
    ) -> ProbeResult:
        self.calls.append((host, port, sni))
        chain = self.chains.get((host, port), ())
        return ProbeResult(
            host, port, sni or "", bool(chain), None, None, chain, (), False, None, None, None, ""
        )


class Guard:
    def __init__(self, refused: Sequence[str]) -> None:
        self.refused = set(refused)

    def check_url(self, url: str) -> object:
        if any(f"//{r}:" in url or f"//[{r}]:" in url for r in self.refused):
            raise ConfigError(f"refused by the SSRF guard: {url}")
        return url


def ok(url: str) -> CheckResult:
    return CheckResult(url, Category.OK, status=200)


def test_origins_are_https_only_the_site_first_then_by_link_count_and_bounded() -> None:
    results = [
        ok("https://cdn.example/a"),
        ok("https://cdn.example/b"),
        ok("https://docs.example/"),
        ok("http://plain.example/"),
        CheckResult("https://excluded.example/", Category.EXCLUDED),
        *(ok(f"https://host{i}.example/") for i in range(60)),
    ]
    found = https_origins(results, site_url="https://docs.example/")
    assert len(found) == certs.MAX_CERT_ORIGINS
    assert found[0] == (Origin("docs.example", 443), "https://docs.example/")
    assert found[1] == (Origin("cdn.example", 443), "https://cdn.example/a")  # two links, smallest URL
    assert all(o.host not in ("plain.example", "excluded.example") for o, _ in found)


def test_a_leaf_within_the_window_is_a_warning_and_an_expired_one_an_error() -> None:
    probe = FakeProbe(
        {
            ("soon.example", 443): (leaf(T0 + timedelta(days=5)),),
            ("gone.example", 443): (leaf(T0 - timedelta(days=2)),),
            ("fine.example", 443): (leaf(T0 + timedelta(days=365)),),
        }
    )
    results = tuple(ok(f"https://{h}.example/") for h in ("soon", "gone", "fine", "down"))
    out = CertExpiry(probe=probe).attach(
        results, site_url="https://soon.example/", options=SiteOptions(), now=T0, guard=None
    )
    findings = {r.url: [(f.code, f.severity.value) for f in r.findings] for r in out}
    assert findings == {
        "https://soon.example/": [(CODE, "warning")],
        "https://gone.example/": [(CODE, "error")],
        "https://fine.example/": [],
        "https://down.example/": [],  # no certificate seen: the check's own result says why
    }
    assert "expires on 2030-03-06 (in 5 days)" in out[0].findings[0].summary
    assert "expired on 2030-02-27 (2 days ago)" in out[1].findings[0].summary


def test_the_sites_window_overrides_the_monitors() -> None:
    probe = FakeProbe({("soon.example", 443): (leaf(T0 + timedelta(days=5)),)})
    results = (ok("https://soon.example/"),)
    narrow = SiteOptions(cert_warning_days=3)
    out = CertExpiry(probe=probe).attach(results, site_url="", options=narrow, now=T0, guard=None)
    assert out == results
    wide = CertExpiry(probe=probe, warning=timedelta(days=30))
    assert wide.attach(results, site_url="", options=SiteOptions(), now=T0, guard=None)[0].findings


def test_with_a_guard_the_probe_connects_to_the_vetted_address_with_the_name_as_sni() -> None:
    probe = FakeProbe({("203.0.113.7", 443): (leaf(T0 + timedelta(days=1)),)})
    expiry = CertExpiry(probe=probe, resolve=lambda host, port: ["203.0.113.7"])
    out = expiry.attach(
        (ok("https://shop.example/"),), site_url="", options=SiteOptions(), now=T0, guard=Guard([])
    )
    assert probe.calls == [("203.0.113.7", 443, "shop.example")]
    assert out[0].findings


def test_a_name_with_any_refused_address_is_not_probed() -> None:
    probe = FakeProbe({})
    expiry = CertExpiry(probe=probe, resolve=lambda host, port: ["203.0.113.7", "10.0.0.5"])
    results = (ok("https://shop.example/"), ok("https://10.0.0.9/"))
    out = expiry.attach(
        results, site_url="", options=SiteOptions(), now=T0, guard=Guard(["10.0.0.5", "10.0.0.9"])
    )
    assert probe.calls == []
    assert out == results


def test_a_probe_error_is_no_finding_and_no_failure() -> None:
    def failing(
        host: str, port: int, *, sni: str | None = None, timeout: float = 5.0, cafile: Path | None = None
    ) -> ProbeResult:
        raise ConfigError("unusable CA file")

    results = (ok("https://shop.example/"),)
    assert (
        CertExpiry(probe=failing).attach(results, site_url="", options=SiteOptions(), now=T0, guard=None)
        == results
    )


def test_notices_come_from_stored_findings_and_alert_again_only_in_a_new_state() -> None:
    rows = [
        ("https://shop.example/", [[CODE, "warning", "expires soon"]]),
        ("https://shop.example/a", []),
        ("https://cdn.example:8443/x", [["tls.other", "info", "x"], [CODE, "error", "expired"]]),
    ]
    found = notices(rows)
    assert [(n.origin, n.severity) for n in found] == [
        ("https://cdn.example:8443", "error"),
        ("https://shop.example", "warning"),
    ]
    before = [CertificateNotice("https://shop.example", "https://shop.example/", CODE, "warning", "")]
    assert [n.origin for n in new_notices(found, before)] == ["https://cdn.example:8443"]


def test_the_modules_usage_examples_hold() -> None:
    result = doctest.testmod(certs)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("url", ["ftp://x.example/", "https:///nohost", "https://x.example:99999/"])
def test_urls_without_an_https_origin_are_skipped(url: str) -> None:
    assert certs.origin_of(url) is None
