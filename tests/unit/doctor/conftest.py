"""Fixtures for the doctor's unit tests: a PKI pinned to a fixed clock, and fake probes and requests.

* ``pki`` — a :class:`~tests.support.pki.PKI` whose certificates are valid around :data:`NOW` (session).
* ``probe_result(**changes)`` / ``check_result(**changes)`` build the values the injected prober and
  requester return, starting from a healthy server that does not ask for a client certificate.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.pki import PKI

from linkdoctor.models import Category, CheckResult
from linkdoctor.tls.probe import ProbeResult

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
URL = "https://api.example.test:8443/orders?id=7"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("doctor-unit-pki"), now=NOW)


@pytest.fixture(scope="session")
def healthy_probe(pki: PKI) -> ProbeResult:
    server = pki.server("unit-server", sans=("api.example.test",))
    return ProbeResult(
        host="api.example.test",
        port=8443,
        sni="api.example.test",
        ok=True,
        tls_version="TLSv1.3",
        cipher="TLS_AES_256_GCM_SHA384",
        peer_chain=(server.certificate,),
        client_ca_names=(),
        cert_requested=False,
        alert=None,
        error=None,
        http_status=200,
        http_body_prefix="ok\n",
        verify_code=0,
    )


def probe_result(base: ProbeResult, **changes: Any) -> ProbeResult:
    return replace(base, **changes)


def check_result(**changes: Any) -> CheckResult:
    fields: dict[str, Any] = {"url": URL, "category": Category.OK, "status": 200, "precise_status": 200}
    fields.update(changes)
    return CheckResult(**fields)
