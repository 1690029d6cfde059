"""Alerts: one message per scan that summarizes what needs attention, sent through apprise to each of the
site's notification URLs (mailto://, json://, slack://, …).

A scan alerts when links became broken (after ``alert_after`` consecutive broken scans, so a flapping
link stays quiet), when links that had alerted recover, when a server certificate nears or passes its
expiry (once per origin and state), and when the scan itself failed.

In server mode the targets pass the SSRF guard twice: :func:`check_target` refuses a target whose host is,
or resolves to, a forbidden address when it is added, and :mod:`linkdoctor.monitor.sender` vets every
socket apprise opens when the alert is delivered.

>>> # send(compose(site, scan, diff, alerting, recovered, dashboard_url="https://ld.example/"), notifier)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import ip_address
from typing import Protocol

import apprise
from apprise.utils.parse import parse_url

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import Alert, CertificateNotice, DiffEntry, Scan, ScanState, Site

MAX_LISTED = 20

# apprise schemes whose URL host is the server apprise connects to (the others name a service, such as
# slack://, whose host part is a token): their host names are resolved and vetted when a target is added.
HOST_SCHEMES = frozenset(
    {
        *("json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"),
        *("ntfy", "ntfys", "gotify", "gotifys", "mmost", "mmosts", "rocket", "rockets"),
        *("matrix", "matrixs", "apprise", "apprises", "ncloud", "nclouds", "nctalk", "nctalks"),
        *("mqtt", "mqtts", "rsyslog", "synology", "synologys", "gchat", "home", "homes"),
    }
)
# apprise query parameters that name the server to connect to instead of the URL's host.
HOST_PARAMETERS = ("smtp",)


class HostGuard(Protocol):
    """What :func:`check_target` needs of the SSRF guard: refuse a host (raise ConfigError)."""

    def check_host(self, host: str, port: int, *, unresolved_ok: bool = False) -> object: ...


Notifier = Callable[[Alert], bool]


def compose(
    site: Site,
    scan: Scan,
    *,
    alerting: Sequence[DiffEntry],
    recovered: Sequence[DiffEntry],
    certificates: Sequence[CertificateNotice] = (),
    dashboard_url: str | None,
) -> Alert | None:
    """The alert for a finished scan, or None when there is nothing to tell (or nobody to tell)."""
    if not site.spec.notify:
        return None
    failed = scan.state is ScanState.FAILED
    if not (failed or alerting or recovered or certificates):
        return None
    if failed:
        title = f"linkdoctor: scan of {site.name} failed"
    elif alerting:
        title = (
            f"linkdoctor: {len(alerting)} new broken link{'s' if len(alerting) != 1 else ''} on {site.name}"
        )
    elif certificates:
        expired = any(n.severity == "error" for n in certificates)
        plural = "s" if len(certificates) != 1 else ""
        state = "expired or expiring" if expired else "expiring"
        title = f"linkdoctor: {len(certificates)} server certificate{plural} {state} on {site.name}"
    else:
        title = f"linkdoctor: {len(recovered)} link{'s' if len(recovered) != 1 else ''} fixed on {site.name}"
    lines = [
        f"Site: {site.url}",
        f"Scan #{scan.id}: {scan.state.value}, {scan.counts.broken} broken of {scan.counts.total}",
    ]
    if failed:
        lines.append(f"Error: {scan.error}")
    lines += _section("New broken links", alerting)
    lines += _section("Fixed", recovered)
    if certificates:
        lines += ["", "Server certificates:"]
        lines += [f"- {n.summary}" for n in certificates[:MAX_LISTED]]
        if len(certificates) > MAX_LISTED:
            lines.append(f"- … and {len(certificates) - MAX_LISTED} more")
    if dashboard_url:
        lines += ["", f"Details: {dashboard_url.rstrip('/')}/scans/{scan.id}"]
    return Alert(
        site_id=site.id, scan_id=scan.id, title=title, body="\n".join(lines), targets=site.spec.notify
    )


def _section(heading: str, entries: Sequence[DiffEntry]) -> list[str]:
    if not entries:
        return []
    lines = ["", f"{heading}:"]
    for entry in entries[:MAX_LISTED]:
        why = entry.diagnosis.summary if entry.diagnosis else (str(entry.status) if entry.status else "")
        lines.append(f"- {entry.url}" + (f" ({why})" if why else ""))
    if len(entries) > MAX_LISTED:
        lines.append(f"- … and {len(entries) - MAX_LISTED} more")
    return lines


def send_with_apprise(alert: Alert) -> bool:
    """Send ``alert`` to all its targets; True when every target accepted it."""
    notifier = apprise.Apprise()
    for target in alert.targets:
        notifier.add(target)
    return bool(notifier.notify(title=alert.title, body=alert.body))


def check_target(url: str, guard: HostGuard) -> None:
    """Refuse (ConfigError) a notification URL that would reach an address the SSRF guard forbids.

    A literal IP address is judged in any scheme; a host name in the schemes whose host is the server
    (``json://``, ``mailto://``, ``?smtp=``…) is resolved, and refused when any answer is forbidden. A name
    that does not resolve now passes: its delivery is vetted socket by socket. The message names the
    scheme and the host, never the URL's credentials.
    """
    parsed = parse_url(url, verify_host=False)  # type: ignore[no-untyped-call]  # apprise leaves it unannotated
    if not parsed or not parsed.get("schema"):
        raise ConfigError("a notification target must be an apprise URL such as json://host/path")
    scheme = str(parsed["schema"]).lower()
    hosts = [str(parsed.get("host") or "")]
    query = parsed.get("qsd") or {}
    hosts += [str(query[name]) for name in HOST_PARAMETERS if query.get(name)]
    for host in filter(None, hosts):
        literal = _is_ip_literal(host)
        if not literal and (scheme not in HOST_SCHEMES or host.lower().endswith(".invalid")):
            continue  # a service token, or a name that never resolves (RFC 6761)
        try:
            guard.check_host(host.split(":")[0] if not literal else host, 0, unresolved_ok=True)
        except ConfigError as exc:
            raise ConfigError(f"notification target {scheme}://{host}: {exc}") from None


def _is_ip_literal(host: str) -> bool:
    try:
        ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
