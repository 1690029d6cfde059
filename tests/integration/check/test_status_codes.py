"""Each remaining diagnosis code from a real nginx: 494 behind a wire 400, 502 and 503."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from harness.nginx import NginxFactory
from harness.ports import free_port

from linkdoctor.config import CheckConfig
from linkdoctor.engine.http.aiohttp_transport import error_kind
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.models import CheckResult, ErrorKind

pytestmark = pytest.mark.nginx


@pytest.fixture(scope="module")
def base(nginx_factory: NginxFactory, tmp_path_factory: pytest.TempPathFactory) -> str:
    root: Path = tmp_path_factory.mktemp("statuses")
    (root / "index.html").write_text("ok")
    port = free_port()
    block = f"""
    server {{
        listen 127.0.0.1:{port};
        root {root};
        large_client_header_buffers 2 1k;
        location = /bad-gateway {{ return 502; }}
        location = /unavailable {{ return 503; }}
    }}"""
    return nginx_factory(block, "statuses").url("/")


async def check(url: str, config: CheckConfig) -> CheckResult:
    report = await check_async(config, collect_inputs([], url_lists=[("list", [url])]))
    return report.results[0]


@pytest.mark.parametrize(
    ("path", "code"), [("bad-gateway", "http.bad-gateway"), ("unavailable", "http.unavailable")]
)
async def test_gateway_statuses(base: str, path: str, code: str) -> None:
    result = await check(base + path, CheckConfig(retries=0))
    assert result.diagnosis is not None and result.diagnosis.code == code


async def test_header_too_large_is_494_behind_a_wire_400(base: str) -> None:
    config = CheckConfig(retries=0, headers=(("X-Big", "x" * 4000),))
    result = await check(base, config)
    assert (result.status, result.precise_status) == (400, 494)
    assert result.diagnosis is not None and result.diagnosis.code == "http.request-header-too-large"


def test_dns_failures_map_to_net_dns() -> None:
    # Resolving a name would leave the machine, so the mapping is checked on aiohttp's own error type.
    key = aiohttp.client_reqrep.ConnectionKey("no.such.host.invalid", 80, False, True, None, None, None)
    error = aiohttp.ClientConnectorDNSError(
        key, socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    )
    assert error_kind(error) == (ErrorKind.DNS, "net.dns")
