"""The guarded alert sender: apprise delivers an alert in a child process whose every socket connection
and datagram passes the SSRF guard, so a notification target (a webhook, an SMTP host, a chat URL) reaches
only the addresses a site URL may reach, whatever its name resolves to at delivery time.

Why a child process: apprise opens its own sockets (requests, smtplib …) from thread pools of its own, so
the guard has to sit under every socket of the process. An audit hook (:func:`sys.addaudithook`) sees each
``socket.connect``, ``socket.sendto`` and ``socket.sendmsg`` with the address already resolved, and refuses
it by raising. Such a hook is process-wide and cannot be removed: right for a process that only delivers
one alert, wrong for the server. The child is a fresh interpreter (``subprocess``, so no inherited
listening socket or database handle), gets a pared-down environment (no server secrets), and is killed
after :data:`TIMEOUT` seconds.

>>> # monitor = Monitor.open(db_url, scan_guard=guard, notifier=GuardedSender(guard))
"""

from __future__ import annotations

import errno
import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from linkdoctor.engine.http.ssrf import SSRFGuard, parse_networks
from linkdoctor.monitor.model import Alert

log = logging.getLogger("linkdoctor.monitor")

TIMEOUT: Final = 120.0
SOCKET_EVENTS: Final = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
# What the child keeps of the server's environment: locale, proxies and CA bundles that delivery may need.
KEPT_ENVIRONMENT: Final = frozenset(
    {
        *("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "SYSTEMROOT", "TMPDIR"),
        *("http_proxy", "https_proxy", "no_proxy", "all_proxy"),
        *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"),
        *("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"),
    }
)


@dataclass(frozen=True, slots=True)
class GuardedSender:
    """A notifier (``Alert -> bool``) that sends through apprise in a guarded child process.

    A refused connection fails that target, and the alert stays in the outbox to be retried like any
    other failed delivery. The refusals are logged (addresses only: target URLs may carry passwords).
    """

    guard: SSRFGuard
    timeout: float = TIMEOUT

    def __call__(self, alert: Alert) -> bool:
        request = {
            "targets": list(alert.targets),
            "title": alert.title,
            "body": alert.body,
            "allow": [str(network) for network in self.guard.allow],
        }
        try:
            done = subprocess.run(
                [sys.executable, "-m", __name__],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=child_environment(os.environ),
                close_fds=True,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.warning("alert sender gave up after %.0f s", self.timeout)
            return False
        answer = _last_json_line(done.stdout)
        if answer is None:
            log.warning("alert sender failed (exit code %d)", done.returncode)
            return False
        for refusal in answer.get("refused", []):
            log.warning("alert target refused: %s", refusal)
        return answer.get("sent") is True


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The sender's environment: :data:`KEPT_ENVIRONMENT` only, so no server secret reaches apprise."""
    return {name: value for name, value in environ.items() if name in KEPT_ENVIRONMENT}


def install_guard(guard: SSRFGuard, refused: list[str]) -> None:
    """Refuse, in this whole process and for good, every socket connection or datagram the guard forbids."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in SOCKET_EVENTS or len(args) < 2 or args[1] is None:
            return  # sendmsg on a connected socket names no address: its connect was vetted
        refusal = guard.socket_refusal(args[1])
        if refusal is not None:
            refused.append(refusal)
            raise PermissionError(errno.EACCES, refusal)

    sys.addaudithook(hook)


def main() -> int:
    """The child: read one alert and the allowlist as JSON on stdin, send it, answer JSON on stdout."""
    request = json.loads(sys.stdin.read())
    refused: list[str] = []
    install_guard(SSRFGuard(parse_networks(request["allow"])), refused)
    from linkdoctor.monitor.alerts import send_with_apprise  # after the hook, so nothing escapes it

    alert = Alert(0, 0, str(request["title"]), str(request["body"]), tuple(map(str, request["targets"])))
    try:
        sent = send_with_apprise(alert)
    except Exception:  # a plugin's bug fails the delivery; its message may carry a target's password
        sent = False
    print(json.dumps({"sent": sent, "refused": sorted(set(refused))}))
    return 0


def _last_json_line(output: str) -> dict[str, Any] | None:
    for line in reversed(output.splitlines()):
        try:
            answer = json.loads(line)
        except ValueError:
            continue
        return answer if isinstance(answer, dict) else None
    return None


if __name__ == "__main__":
    sys.exit(main())
