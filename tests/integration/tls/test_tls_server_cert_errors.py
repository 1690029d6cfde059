"""Server-certificate problems, each from a real TLS server and a real aiohttp request, classified.

The client trusts only the test root CA (``cafile``), the way a system trust store trusts public roots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.integration.tls.tls_servers import PyTLSServerFactory, fetch, fetch_error
from tests.support.pki import PKI, CertFiles

from linkdoctor.classify.tls import classify_tls_error, classify_verify_code
from linkdoctor.tls.context import ssl_context_for
from linkdoctor.tls.probe import probe

Case = tuple[Callable[[PKI], CertFiles], bool, str, Callable[[PKI], Path], str]

CASES: dict[str, Case] = {
    # name: (server certificate, serve leaf only, URL host, client trust, expected code)
    "expired": (PKI.server_expired, False, "127.0.0.1", lambda p: p.root.cert, "tls.server-cert-expired"),
    "not yet valid": (
        PKI.server_not_yet_valid,
        False,
        "127.0.0.1",
        lambda p: p.root.cert,
        "tls.server-cert-not-yet-valid",
    ),
    "wrong IP address": (
        PKI.server_wrong_host,
        False,
        "127.0.0.1",
        lambda p: p.root.cert,
        "tls.server-cert-hostname-mismatch",
    ),
    "wrong host name": (
        PKI.server_wrong_host,
        False,
        "localhost",
        lambda p: p.root.cert,
        "tls.server-cert-hostname-mismatch",
    ),
    "self-signed": (
        PKI.server_self_signed,
        False,
        "127.0.0.1",
        lambda p: p.root.cert,
        "tls.server-cert-self-signed",
    ),
    "complete chain to an unknown root": (
        PKI.server_via_intermediate,
        False,
        "127.0.0.1",
        lambda p: p.rogue.cert,
        "tls.server-cert-untrusted",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_a_server_certificate_problem_is_classified(
    py_tls_server: PyTLSServerFactory, pki: PKI, case: str
) -> None:
    make_cert, leaf_only, host, trust, expected = CASES[case]
    server = py_tls_server(make_cert(pki), leaf_only=leaf_only)

    error = await fetch_error(f"https://{host}:{server.port}/", ssl_context_for(None, cafile=trust(pki)))

    assert classify_tls_error(error) == expected


async def test_a_missing_intermediate_is_told_from_an_untrusted_root_by_the_probed_chain(
    py_tls_server: PyTLSServerFactory, pki: PKI
) -> None:
    server = py_tls_server(pki.server_via_intermediate("leaf-only"), leaf_only=True)
    url = f"https://127.0.0.1:{server.port}/"

    error = await fetch_error(url, ssl_context_for(None, cafile=pki.root.cert))
    seen = await asyncio.to_thread(probe, "127.0.0.1", server.port, timeout=5)

    assert classify_tls_error(error) == "tls.server-cert-untrusted"  # the error alone cannot tell
    assert classify_tls_error(error, peer_chain=seen.peer_chain) == "tls.server-cert-incomplete-chain"


async def test_a_probed_chain_with_its_intermediate_still_means_an_untrusted_root(
    py_tls_server: PyTLSServerFactory, pki: PKI
) -> None:
    server = py_tls_server(pki.server_via_intermediate("unknown-root"))
    url = f"https://127.0.0.1:{server.port}/"

    error = await fetch_error(url, ssl_context_for(None, cafile=pki.rogue.cert))
    seen = await asyncio.to_thread(probe, "127.0.0.1", server.port, timeout=5)

    assert len(seen.peer_chain) == 2
    assert classify_tls_error(error, peer_chain=seen.peer_chain) == "tls.server-cert-untrusted"


async def test_the_complete_chain_via_the_intermediate_is_trusted(
    py_tls_server: PyTLSServerFactory, pki: PKI
) -> None:
    server = py_tls_server(pki.server_via_intermediate("complete-chain"))

    status = await fetch(f"https://127.0.0.1:{server.port}/", ssl_context_for(None, cafile=pki.root.cert))

    assert status == 200


@pytest.mark.parametrize(
    ("make_cert", "leaf_only", "expected"),
    [
        (PKI.server_expired, False, "tls.server-cert-expired"),
        (PKI.server_not_yet_valid, False, "tls.server-cert-not-yet-valid"),
        (PKI.server_self_signed, False, "tls.server-cert-self-signed"),
        (PKI.server_via_intermediate, True, "tls.server-cert-incomplete-chain"),
    ],
    ids=["expired", "not yet valid", "self-signed", "missing intermediate"],
)
def test_the_probe_reports_the_chain_problem_without_failing_the_handshake(
    py_tls_server: PyTLSServerFactory,
    pki: PKI,
    make_cert: Callable[[PKI], CertFiles],
    leaf_only: bool,
    expected: str,
) -> None:
    server = py_tls_server(make_cert(pki), leaf_only=leaf_only)

    result = probe("127.0.0.1", server.port, cafile=pki.root.cert, timeout=5)

    assert (result.ok, result.http_status) == (True, 200)
    assert result.verify_code is not None
    assert classify_verify_code(result.verify_code, result.peer_chain) == expected


def test_a_trusted_server_gets_verify_code_zero(py_tls_server: PyTLSServerFactory, pki: PKI) -> None:
    server = py_tls_server(pki.server("trusted"))

    result = probe("127.0.0.1", server.port, cafile=pki.root.cert, timeout=5)

    assert result.verify_code == 0
