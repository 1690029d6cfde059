"""Alerts: one message per scan that summarizes what needs attention, sent through apprise to each of the
site's notification URLs (mailto://, json://, slack://, …).

A scan alerts when links became broken (after ``alert_after`` consecutive broken scans, so a flapping
link stays quiet), when links that had alerted recover, when a server certificate nears or passes its
expiry (once per origin and state), and when the scan itself failed.

>>> # send(compose(site, scan, diff, alerting, recovered, dashboard_url="https://ld.example/"), notifier)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import apprise

from linkdoctor.monitor.model import Alert, CertificateNotice, DiffEntry, Scan, ScanState, Site

MAX_LISTED = 20

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
