"""The doctor's console report shows what a server sent as it is (linkdoctor.report.doctor_console): text
that looks like rich markup is never read as markup, and control characters are shown as ``\\xNN``, never
sent to the terminal. A hostile server chooses its certificates' names and its error texts."""

from __future__ import annotations

import io

from rich.console import Console
from tests.unit.doctor.conftest import NOW, URL, check_result, probe_result

from linkdoctor.config import CheckConfig
from linkdoctor.doctor import Verdict, diagnose
from linkdoctor.models import CheckResult
from linkdoctor.report.doctor_console import render_verdict
from linkdoctor.tls.probe import ProbeResult

HOSTILE = "bad[/b] [link=https://x.example]click[/link]\x1b]0;title\x07\x1b[2J"


async def hostile_verdict(probe: ProbeResult) -> Verdict:
    async def requester(url: str, config: CheckConfig) -> CheckResult:
        return check_result()

    return await diagnose(
        URL, None, prober=lambda host, port, **kwargs: probe, requester=requester, clock=lambda: NOW
    )


async def test_markup_and_escape_sequences_from_the_server_are_shown_as_text(
    healthy_probe: ProbeResult,
) -> None:
    failed = probe_result(healthy_probe, tls_version=None, peer_chain=(), error=f"handshake: {HOSTILE}")
    verdict = await hostile_verdict(failed)
    out = io.StringIO()
    render_verdict(verdict, Console(file=out, width=300, color_system="truecolor", force_terminal=True))
    shown = out.getvalue()
    assert "bad[/b] [link=https://x.example]click[/link]\\x1b]0;title\\x07\\x1b[2J" in shown
    assert "\x1b]0;title" not in shown and "\x1b[2J" not in shown and "\x07" not in shown
