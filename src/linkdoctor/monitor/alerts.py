"""Alerts: one message per scan that summarizes what needs attention, sent through apprise to each of the
site's notification URLs (mailto://, json://, slack://, …).

A scan alerts when problems appear (one per target document and cause, grouped as every report groups
them: :mod:`linkdoctor.problems`; after ``alert_after`` consecutive scans with the problem, so a flapping
link stays quiet), when problems that had alerted are gone, when a server certificate nears or passes its
expiry (once per origin and state), and when the scan itself failed. The message counts problems ("3
problems, 1 new since the last scan") and names the pages each one was found on, with line numbers.

In server mode the targets pass the SSRF guard twice: :func:`check_target` refuses a target whose host is,
or resolves to, a forbidden address when it is added, and :mod:`linkdoctor.monitor.sender` vets every
socket apprise opens when the alert is delivered.

>>> # send(compose(site, scan, News(problems, new, alerting), dashboard_url="https://ld.example/"), notifier)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Protocol

import apprise
from apprise.utils.parse import parse_url

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import (
    Alert,
    CertificateNotice,
    Scan,
    ScanProblem,
    ScanProblems,
    ScanState,
    Site,
)

MAX_LISTED = 20  # problems listed per section
MAX_PAGES_LISTED = 3  # pages named per problem ("+N more pages")
MAX_LINES_LISTED = 3  # line numbers named per page, fragments per problem

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


@dataclass(frozen=True, slots=True)
class News:
    """What a finished scan has to tell: its problems (None: not counted, as for a failed scan), how many of
    them are new since the site's previous finished scan (None: this is the first), the problems that
    alert now (broken in ``alert_after`` scans in a row) and those that had alerted and are gone, and the
    certificate notices."""

    problems: ScanProblems | None = None
    new: int | None = None
    alerting: tuple[ScanProblem, ...] = ()
    recovered: tuple[ScanProblem, ...] = ()
    certificates: tuple[CertificateNotice, ...] = ()


def compose(site: Site, scan: Scan, news: News, *, dashboard_url: str | None) -> Alert | None:
    """The alert for a finished scan, or None when there is nothing to tell (or nobody to tell).

    Its title counts problems, not links: ``3 problems on docs, 1 new since the last scan``. Each problem
    listed names its cause and the pages it was found on, with line numbers.
    """
    if not site.spec.notify:
        return None
    failed = scan.state is ScanState.FAILED
    if not (failed or news.alerting or news.recovered or news.certificates):
        return None
    total = news.problems.counts.problems if news.problems is not None else scan.counts.broken
    if failed:
        title = f"linkdoctor: scan of {site.name} failed"
    elif news.alerting:
        title = f"linkdoctor: {problems_phrase(total, news.new, on=site.name)}"
    elif news.certificates:
        expired = any(n.severity == "error" for n in news.certificates)
        plural = "s" if len(news.certificates) != 1 else ""
        state = "expired or expiring" if expired else "expiring"
        title = f"linkdoctor: {len(news.certificates)} server certificate{plural} {state} on {site.name}"
    else:
        fixed = len(news.recovered)
        title = (
            f"linkdoctor: {_count(fixed, 'problem')} fixed on {site.name}, {_count(total, 'problem')} left"
        )
    lines = [f"Site: {site.url}", f"Scan #{scan.id}: {scan.state.value}, {scan.counts.total:,} links checked"]
    if failed:
        lines.append(f"Error: {scan.error}")
    elif news.problems is not None:
        lines.append(news.problems.headline[:1].upper() + news.problems.headline[1:])
    if news.alerting:
        threshold = site.spec.alert_after
        heading = (
            "New problems"
            if threshold <= 1
            else f"Problems broken in {threshold} scans in a row, not reported before"
        )
        lines += _section(heading, news.alerting, where=True)
    lines += _section("Fixed", news.recovered, where=False)
    if news.certificates:
        lines += ["", "Server certificates:"]
        lines += [f"- {n.summary}" for n in news.certificates[:MAX_LISTED]]
        if len(news.certificates) > MAX_LISTED:
            lines.append(f"- … and {len(news.certificates) - MAX_LISTED} more")
    if dashboard_url:
        lines += ["", f"Details: {dashboard_url.rstrip('/')}/scans/{scan.id}"]
    return Alert(
        site_id=site.id, scan_id=scan.id, title=title, body="\n".join(lines), targets=site.spec.notify
    )


def problems_phrase(total: int, new: int | None, *, on: str = "") -> str:
    """``3 problems on docs, 1 new since the last scan`` (``…, the first scan`` when there was none before).

    >>> problems_phrase(1, 0), problems_phrase(3, None, on="docs")
    ('1 problem, 0 new since the last scan', '3 problems on docs, the first scan')
    """
    since = "the first scan" if new is None else f"{new:,} new since the last scan"
    return f"{_count(total, 'problem')}{f' on {on}' if on else ''}, {since}"


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def found_on(problem: ScanProblem, *, limit: int = MAX_PAGES_LISTED) -> list[str]:
    """Where a problem was found: a line per page (its first ``limit`` pages) with the line numbers (and
    the fragment each link used), then how many more pages.

    >>> from linkdoctor.models import Category
    >>> from linkdoctor.problems import Location, ProblemKind
    >>> p = ScanProblem("i", "k", ProblemKind.DOCUMENT, "missing page", "https://e.org/x", "",
    ...     "https://e.org/x", Category.BROKEN, "http.not-found", 404, "gone", (), 3, 2,
    ...     (Location("https://e.org/a", 3, fragment="v2"), Location("https://e.org/a", 9),
    ...      Location("https://e.org/b", 12)))
    >>> found_on(p, limit=1)
    ['found on https://e.org/a line 3 (#v2), line 9', '… and 1 more page']
    """
    pages: dict[str, list[str]] = {}
    for loc in problem.found_on:
        where = pages.setdefault(loc.page, [])
        line = "" if loc.line is None else f"line {loc.line}"
        if loc.fragment and not problem.anchor:
            line = f"{line} (#{loc.fragment})".strip()
        if line:
            where.append(line)
    lines = []
    for page, places in list(pages.items())[:limit]:
        extra = len(places) - MAX_LINES_LISTED
        listed = ", ".join(places[:MAX_LINES_LISTED]) + (f" and {extra} more" if extra > 0 else "")
        lines.append(f"found on {page} {listed}".rstrip())
    more = max(len(pages), problem.pages) - min(limit, len(pages))
    if more > 0:
        lines.append(f"… and {more:,} more page{'s' if more != 1 else ''}")
    return lines


def _section(heading: str, problems: Sequence[ScanProblem], *, where: bool) -> list[str]:
    if not problems:
        return []
    lines = ["", f"{heading} ({len(problems):,}):"]
    for problem in problems[:MAX_LISTED]:
        lines.append(f"- {problem.label}: {problem.url} ({problem.code}: {problem.cause})")
        if not where:
            continue
        fragments = problem.fragments if not problem.anchor else ()
        linked = f"linked {problem.links:,} time{'s' if problem.links != 1 else ''}"
        linked += f" from {problem.pages:,} page{'s' if problem.pages != 1 else ''}"
        if fragments:
            shown = ", ".join(f"#{f}" for f in fragments[:MAX_LINES_LISTED])
            extra = len(fragments) - MAX_LINES_LISTED
            linked += f", through {shown}" + (f" and {extra} more fragments" if extra > 0 else "")
        lines.append(f"  {linked}")
        lines += [f"  {line}" for line in found_on(problem)]
    if len(problems) > MAX_LISTED:
        lines.append(f"- … and {len(problems) - MAX_LISTED} more")
    return lines


def send_with_apprise(alert: Alert) -> bool:
    """Send ``alert`` to all its targets; True when every target accepted it.

    The body is declared plain text: it quotes what the monitored site wrote (URLs may hold ``<`` and
    ``>``), so apprise escapes it for a target that takes HTML or Markdown rather than passing it on as
    markup (an e-mail's HTML part, a chat message's links)."""
    notifier = apprise.Apprise()
    for target in alert.targets:
        notifier.add(target)
    return bool(notifier.notify(title=alert.title, body=alert.body, body_format=apprise.NotifyFormat.TEXT))


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
