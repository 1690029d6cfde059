"""The probe reports network failures as results instead of raising, and stays within its timeout."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest
from harness.ports import Endpoint

from linkdoctor.errors import CertificateError
from linkdoctor.tls.probe import probe


def test_a_refused_connection_is_a_failed_result(closed_port: int) -> None:
    result = probe("127.0.0.1", closed_port, timeout=5)

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("connect failed:")
    assert (result.tls_version, result.peer_chain, result.cert_requested) == (None, (), False)


def test_a_server_that_never_answers_times_out_within_the_budget(silent_server: Endpoint) -> None:
    started = time.monotonic()

    result = probe("127.0.0.1", silent_server.port, timeout=0.5)

    assert time.monotonic() - started < 3
    assert not result.ok
    assert result.error == "handshake: no answer within 0.5 s"


def test_a_plain_http_port_is_a_handshake_failure() -> None:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        result = probe("127.0.0.1", server.server_address[1], timeout=5)
    finally:
        server.shutdown()
        server.server_close()

    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("handshake:")


def test_an_unknown_tls_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_version"):
        probe("127.0.0.1", 1, max_version="1.1")


def test_an_unusable_ca_file_is_a_certificate_error(tmp_path: Path, closed_port: int) -> None:
    with pytest.raises(CertificateError, match="CA file"):
        probe("127.0.0.1", closed_port, cafile=tmp_path / "missing.pem", timeout=1)
