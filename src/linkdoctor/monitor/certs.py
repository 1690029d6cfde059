"""Server certificate expiry: after a scan finishes, the leaf certificate of each https origin it checked is
read with the handshake probe, and a ``tls.server-cert-expired`` finding (severity ``warning`` when the
certificate expires within the warning window, ``error`` once it has expired) is attached to one result of
that origin. The stored findings are what the dashboard, the diff and the alert show.

The probes go only where the scan may go: in server mode every address of an origin is vetted by the SSRF
guard first and the probe connects to the vetted address (the name is sent as SNI), so a name that resolves
to a private address at probe time is not reached. At most ``max_origins`` origins are probed per scan (the
site's own origin first, then the origins with the most links).

>>> # results = CertExpiry().attach(outcome.results, site_url=url, options=opts, now=now, guard=guard)
>>> CertExpiry().warning
datetime.timedelta(days=14)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from linkdoctor.classify.codes_model import OPERATOR
from linkdoctor.classify.tls import SERVER_CERT_EXPIRED
from linkdoctor.doctor.fixes import days_text
from linkdoctor.errors import LinkdoctorError
from linkdoctor.models import Category, CheckResult, Finding, Severity
from linkdoctor.monitor.model import CERT_EXPIRY_WARNING, CertificateNotice, SiteOptions
from linkdoctor.tls.probe import ProbeResult, probe

MAX_CERT_ORIGINS = 50
CERT_PROBE_TIMEOUT = 5.0
CERT_PROBE_WORKERS = 4
Resolve = Callable[[str, int], Sequence[str]]


class CertProbe(Protocol):
    """The part of :func:`linkdoctor.tls.probe.probe` the expiry check calls (a test double fits too)."""

    def __call__(
        self, host: str, port: int, *, sni: str | None = ..., timeout: float = ..., cafile: Path | None = ...
    ) -> ProbeResult: ...


class AddressGuard(Protocol):
    """The SSRF guard's URL check: raise (a ConfigError) for a URL the scans may not reach."""

    def check_url(self, url: str) -> object: ...


@dataclass(frozen=True, slots=True)
class Origin:
    """An https origin: host (a name or an IP address, no brackets) and port."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """``https://host`` (``:port`` unless 443)."""
        return f"https://{_bracket(self.host)}" + ("" if self.port == 443 else f":{self.port}")


def origin_of(url: str) -> Origin | None:
    """The https origin of ``url``, None for any other scheme or a URL without a host.

    >>> origin_of("https://Docs.Example.org/a?b")
    Origin(host='docs.example.org', port=443)
    >>> origin_of("http://docs.example.org/") is None
    True
    """
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return Origin(parts.hostname.lower(), port)


def https_origins(
    results: Iterable[CheckResult], *, site_url: str, limit: int = MAX_CERT_ORIGINS
) -> list[tuple[Origin, str]]:
    """Up to ``limit`` https origins of the checked (not excluded) results, each with the result URL that
    will carry its finding (the smallest URL of the origin): the site's origin first, then by link count."""
    counts: Counter[Origin] = Counter()
    carrier: dict[Origin, str] = {}
    for result in results:
        origin = origin_of(result.url)
        if origin is None or result.category is Category.EXCLUDED:
            continue
        counts[origin] += 1
        if origin not in carrier or result.url < carrier[origin]:
            carrier[origin] = result.url
    home = origin_of(site_url)
    ranked = sorted(counts, key=lambda o: (o != home, -counts[o], o.host, o.port))
    return [(origin, carrier[origin]) for origin in ranked[: max(0, limit)]]


def expiry_finding(
    origin: Origin, result: ProbeResult, *, now: datetime, warning: timedelta
) -> Finding | None:
    """The finding for the leaf certificate the probe saw, or None when it is valid beyond ``warning`` (or
    the probe saw no certificate: the scan's own results already say why the origin is unreachable)."""
    if not result.peer_chain:
        return None
    leaf = result.peer_chain[0]
    not_after = leaf.not_valid_after_utc
    left = not_after - now
    if left > warning:
        return None
    expired = left <= timedelta(0)
    when = (
        f"expired on {not_after:%Y-%m-%d} ({days_text(-left)} ago)"
        if expired
        else (f"expires on {not_after:%Y-%m-%d} (in {days_text(left)})")
    )
    return Finding(
        code=SERVER_CERT_EXPIRED,
        severity=Severity.ERROR if expired else Severity.WARNING,
        actor=OPERATOR,
        summary=f"The server certificate of {origin.url} {when}",
        evidence=(
            ("origin", origin.url),
            ("subject", leaf.subject.rfc4514_string()),
            ("not_after", not_after.isoformat()),
            ("checked_at", now.isoformat()),
        ),
        fix=(
            f"Confirm: openssl s_client -connect {_bracket(origin.host)}:{origin.port} -servername "
            f"{origin.host} </dev/null | openssl x509 -noout -dates",
            "Renew the certificate (for example certbot renew), install it and reload the server; check "
            "that automatic renewal runs.",
        ),
    )


@dataclass(frozen=True, slots=True)
class CertExpiry:
    """The expiry check's settings and side effects: the probe, the DNS resolver (used only with a guard),
    the default warning window, and the bounds of one scan's probing."""

    probe: CertProbe = probe
    resolve: Resolve | None = None
    warning: timedelta = CERT_EXPIRY_WARNING
    timeout: float = CERT_PROBE_TIMEOUT
    max_origins: int = MAX_CERT_ORIGINS
    workers: int = CERT_PROBE_WORKERS

    def attach(
        self,
        results: tuple[CheckResult, ...],
        *,
        site_url: str,
        options: SiteOptions,
        now: datetime,
        guard: AddressGuard | None,
    ) -> tuple[CheckResult, ...]:
        """``results`` with a finding attached for each origin whose certificate is near or past expiry."""
        warning = (
            self.warning if options.cert_warning_days is None else timedelta(days=options.cert_warning_days)
        )
        targets = https_origins(results, site_url=site_url, limit=self.max_origins)
        if not targets:
            return results
        cafile = Path(options.cacert_path) if options.cacert_path else None

        def read(origin: Origin) -> Finding | None:
            address = self._vetted_address(origin, guard)
            if address is None:
                return None
            sni = None if _is_ip(origin.host) else origin.host
            try:
                seen = self.probe(address, origin.port, sni=sni, timeout=self.timeout, cafile=cafile)
            except (OSError, LinkdoctorError):
                return None
            return expiry_finding(origin, seen, now=now, warning=warning)

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(targets)))) as pool:
            found = list(pool.map(read, [origin for origin, _ in targets]))
        by_url = {
            url: finding for (_, url), finding in zip(targets, found, strict=True) if finding is not None
        }
        if not by_url:
            return results
        return tuple(_with_finding(r, by_url[r.url]) if r.url in by_url else r for r in results)

    def _vetted_address(self, origin: Origin, guard: AddressGuard | None) -> str | None:
        """The address to probe: the host itself without a guard; else the first of its addresses, when the
        guard accepts every one of them (None: refused or unresolvable)."""
        if guard is None:
            return origin.host
        try:
            addresses = (
                [origin.host] if _is_ip(origin.host) else list(self._resolve(origin.host, origin.port))
            )
            if not addresses:
                return None
            for address in addresses:
                guard.check_url(f"https://{_bracket(address)}:{origin.port}/")
        except (OSError, LinkdoctorError):
            return None
        return addresses[0]

    def _resolve(self, host: str, port: int) -> Sequence[str]:
        if self.resolve is not None:
            return self.resolve(host, port)
        import socket

        infos: list[tuple[Any, ...]] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def notices(rows: Iterable[tuple[str, list[Any]]]) -> list[CertificateNotice]:
    """The certificate notices among stored results (``(url, findings column)`` pairs), by origin."""
    found: list[CertificateNotice] = []
    for url, findings in rows:
        origin = origin_of(url)
        if origin is None:
            continue
        for code, severity, summary in findings or ():
            if code == SERVER_CERT_EXPIRED:
                found.append(CertificateNotice(origin.url, url, code, severity, summary))
    return sorted(found, key=lambda n: (n.origin, n.url))


def new_notices(
    current: Sequence[CertificateNotice], previous: Sequence[CertificateNotice]
) -> list[CertificateNotice]:
    """Notices the previous scan did not have for that origin at that severity (so a certificate alerts
    when it enters the warning window and again when it expires, not on every scan in between)."""
    seen = {(n.origin, n.severity) for n in previous}
    return [n for n in current if (n.origin, n.severity) not in seen]


def _with_finding(result: CheckResult, finding: Finding) -> CheckResult:
    if any(f.code == finding.code and f.summary == finding.summary for f in result.findings):
        return result
    return replace(result, findings=(*result.findings, finding))


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _bracket(host: str) -> str:
    try:
        return f"[{host}]" if isinstance(ip_address(host), IPv6Address) else host
    except ValueError:
        return host
