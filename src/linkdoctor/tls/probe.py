"""The handshake probe: one TLS connection with pyOpenSSL that records what the server asked and answered.

:func:`probe` connects, handshakes (optionally presenting a client certificate), sends one
``GET … Connection: close`` and reads up to 8 KiB of the reply. It reports what an ``ssl``-based client
cannot see: whether the server sent a CertificateRequest, the CA names it accepts, the alert it sent
(TLS 1.3's ``certificate_required`` often arrives only on the first read after the handshake), the
chain it presented, and the HTTP status behind it (nginx's wire ``400`` for its internal 495/496).

The probe is blocking socket code; async callers run it in a thread::

    result = await asyncio.to_thread(probe, "api.example.com", 443, client=loaded)
    if result.cert_requested and not result.cert_sent: ...

The probe does NOT enforce server certificate verification: it is an inspection tool, and a server
whose chain is broken must still be examined (its CA list, its alerts). Instead it records the first
verification error in ``verify_code`` (an OpenSSL ``X509_V_ERR_*`` number, 0 when the chain is trusted)
and returns the presented chain in ``peer_chain``, so the caller reports chain problems itself. This is
the only place in linkdoctor that talks TLS without enforcing verification.

When a TLS 1.3 server requested a certificate but its CA names were not readable, the probe repeats the
handshake with TLS 1.2 at most, where the CertificateRequest always carries them, and keeps those names.
"""

from __future__ import annotations

import ipaddress
import re
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Final, TypeVar

from cryptography import x509
from OpenSSL import SSL, crypto

from linkdoctor._version import __version__
from linkdoctor.classify.tls import ALERT_NAMES, alert_from_reason
from linkdoctor.errors import CertificateError
from linkdoctor.tls.certs import LoadedClientCert

MAX_READ: Final = 8 * 1024
DEFAULT_PROBE_TIMEOUT: Final = 10.0
_VERSIONS: Final = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")
_T = TypeVar("_T")


@dataclass(frozen=True)
class ProbeResult:
    """What one probe saw. ``ok`` means the handshake completed and the server sent no fatal alert; the
    HTTP outcome is in ``http_status`` (None when no status line arrived) and ``http_body_prefix``."""

    host: str
    port: int
    sni: str
    ok: bool
    tls_version: str | None
    cipher: str | None
    peer_chain: tuple[x509.Certificate, ...]
    client_ca_names: tuple[x509.Name, ...]
    cert_requested: bool
    alert: str | None
    error: str | None
    http_status: int | None
    http_body_prefix: str
    cert_sent: bool = False
    verify_code: int | None = None


def probe(
    host: str,
    port: int,
    *,
    path: str = "/",
    sni: str | None = None,
    client: LoadedClientCert | None = None,
    max_version: str | None = None,
    timeout: float = DEFAULT_PROBE_TIMEOUT,
    cafile: Path | None = None,
) -> ProbeResult:
    """Handshake with ``host:port`` and request ``path``; never raises for network or TLS failures
    (only :class:`~linkdoctor.errors.CertificateError` for an unusable ``cafile``).

    ``sni`` defaults to ``host`` unless it is an IP address; ``max_version`` is ``"1.2"`` or ``"1.3"``;
    ``cafile`` is the trust store for ``verify_code`` (system default when None); ``timeout`` bounds
    each attempt as a whole.
    """
    if max_version is not None and max_version not in _VERSIONS:
        raise ValueError(f"max_version must be one of {sorted(_VERSIONS)}, not {max_version!r}")
    server_name = _default_sni(host) if sni is None else sni
    attempt = _Attempt(host, port, path, server_name, client, cafile, timeout)
    result = attempt.run(max_version)
    hidden_names = result.cert_requested and not result.client_ca_names
    if max_version is None and result.tls_version == "TLSv1.3" and hidden_names:
        retry = _Attempt(host, port, path, server_name, client, cafile, timeout).run("1.2")
        if retry.client_ca_names:
            result = replace(result, client_ca_names=retry.client_ca_names)
    return result


class _Attempt:
    """One connection: the pyOpenSSL context, the callbacks' observations, and the I/O loop."""

    def __init__(
        self,
        host: str,
        port: int,
        path: str,
        sni: str,
        client: LoadedClientCert | None,
        cafile: Path | None,
        timeout: float,
    ) -> None:
        self.host, self.port, self.path, self.sni = host, port, path, sni
        self.client, self.cafile = client, cafile
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.saw_cert_request = False
        self.alert: str | None = None
        self.verify_code: int | None = None

    def run(self, max_version: str | None) -> ProbeResult:
        context = self._context(max_version)  # configuration errors surface before any traffic
        try:
            server_name = self.sni.encode("idna")
        except UnicodeError:
            return self._result(None, ok=False, error=f"invalid host name for SNI: {self.sni!r}")
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self._remaining())
        except OSError as exc:
            return self._result(None, ok=False, error=f"connect failed: {_os_error_text(exc)}")
        sock.setblocking(False)
        connection = SSL.Connection(context, sock)
        connection.set_connect_state()
        if server_name:
            connection.set_tlsext_host_name(server_name)
        try:
            return self._converse(connection, sock)
        finally:
            sock.close()

    def _converse(self, connection: SSL.Connection, sock: socket.socket) -> ProbeResult:
        started = time.monotonic()
        try:
            self._io(connection.do_handshake, sock)
        except (SSL.Error, OSError) as exc:
            return self._result(connection, ok=False, error=self._error_text(exc, "handshake"))
        reply = bytearray()
        error: str | None = None
        try:
            if self.saw_cert_request and connection.get_protocol_version_name() == "TLSv1.3":
                reply += self._await_verdict(connection, sock, time.monotonic() - started)
            self._send(connection, sock, self._request())
            while len(reply) < MAX_READ:
                wanted = MAX_READ - len(reply)
                chunk = self._io(partial(connection.recv, wanted), sock)
                if not chunk:
                    break
                reply += chunk
        except SSL.ZeroReturnError:
            pass  # close_notify: the server finished its reply
        except SSL.SysCallError as exc:
            if exc.args[0] != -1:  # -1 is an EOF without close_notify, common after Connection: close
                error = self._error_text(exc, "read")
        except (SSL.Error, OSError) as exc:
            error = self._error_text(exc, "read")
        status, body = _parse_reply(bytes(reply))
        return self._result(
            connection, ok=self.alert is None, error=error, http_status=status, body=body, handshake=True
        )

    def _await_verdict(self, connection: SSL.Connection, sock: socket.socket, handshake_s: float) -> bytes:
        """Listen briefly before sending the request, for the server's verdict on our certificate.

        In TLS 1.3 the client finishes its handshake before the server has checked the client
        certificate; a rejecting server then sends its alert and closes. If our request were already
        in its receive buffer, that close becomes a TCP reset that can destroy the alert before we read
        it. Waiting about two handshake round trips (0.2-1 s) first keeps the alert readable.
        """
        end = min(time.monotonic() + min(1.0, max(0.2, 2 * handshake_s)), self.deadline)
        while (left := end - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], left)
            if not readable:
                break
            try:
                return connection.recv(MAX_READ)  # the server spoke first
            except SSL.WantReadError:
                continue  # a session ticket or a partial record: keep listening
        return b""

    def _context(self, max_version: str | None) -> SSL.Context:
        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        if max_version is not None:
            context.set_max_proto_version(_VERSIONS[max_version])
        if self.cafile is not None:
            try:
                context.load_verify_locations(str(self.cafile))
            except SSL.Error:
                raise CertificateError(
                    f"CA file {self.cafile} is missing or holds no PEM certificate"
                ) from None
        else:
            context.set_default_verify_paths()
        context.set_verify(SSL.VERIFY_PEER, self._on_verify)
        context.set_info_callback(self._on_info)
        if self.client is not None:
            context.use_certificate(self.client.cert)
            context.use_privatekey(self.client.private_key)
            for extra in self.client.chain:
                context.add_extra_chain_cert(extra)
        return context

    def _on_verify(
        self, _conn: SSL.Connection, _cert: crypto.X509, errnum: int, _depth: int, _ok: int
    ) -> bool:
        # Record, never reject: see the module docstring.
        if self.verify_code in (None, 0):
            self.verify_code = errnum
        return True

    def _on_info(self, conn: SSL.Connection, where: int, ret: int) -> None:
        if where & SSL.SSL_CB_READ_ALERT == SSL.SSL_CB_READ_ALERT:
            level, description = ret >> 8, ret & 0xFF
            if level == 2 or description != 0:  # a fatal alert, or any warning but close_notify
                self.alert = self.alert or ALERT_NAMES.get(description, f"alert_{description}")
        elif where & SSL.SSL_CB_CONNECT_LOOP == SSL.SSL_CB_CONNECT_LOOP:
            # OpenSSL's state after reading a CertificateRequest: "SSLv3/TLS read server certificate request".
            self.saw_cert_request |= b"certificate request" in conn.get_state_string()

    def _io(self, operation: Callable[[], _T], sock: socket.socket) -> _T:
        """Run a non-blocking pyOpenSSL operation, waiting on the socket until it completes or the
        attempt's deadline passes (``TimeoutError``)."""
        while True:
            try:
                return operation()
            except SSL.WantReadError:
                self._wait(sock, write=False)
            except SSL.WantWriteError:
                self._wait(sock, write=True)

    def _wait(self, sock: socket.socket, *, write: bool) -> None:
        remaining = self._remaining()
        readable, writable, _ = select.select([] if write else [sock], [sock] if write else [], [], remaining)
        if not readable and not writable:
            raise TimeoutError(f"no answer within {self.timeout:g} s")

    def _remaining(self) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no answer within {self.timeout:g} s")
        return remaining

    def _send(self, connection: SSL.Connection, sock: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view:
            sent = self._io(partial(connection.send, view), sock)
            view = view[sent:]

    def _request(self) -> bytes:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = self.port == 443
        lines = (
            f"GET {self.path} HTTP/1.1",
            f"Host: {host}" if default_port else f"Host: {host}:{self.port}",
            f"User-Agent: linkdoctor-probe/{__version__}",
            "Accept: */*",
            "Connection: close",
        )
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", "replace")

    def _error_text(self, exc: BaseException, stage: str) -> str:
        if isinstance(exc, SSL.SysCallError):
            if exc.args and exc.args[0] == -1:
                return f"{stage}: the server closed the connection"
            return f"{stage}: {exc.args[1] if len(exc.args) > 1 else exc}"
        if isinstance(exc, SSL.Error):
            reasons = [entry[-1] for arg in exc.args if isinstance(arg, list) for entry in arg if entry]
            if self.alert is None:
                self.alert = next((a for a in map(alert_from_reason, reasons) if a), None)
            return f"{stage}: {'; '.join(str(r) for r in reasons) or type(exc).__name__}"
        if isinstance(exc, TimeoutError):
            return f"{stage}: {exc}"
        return f"{stage}: {_os_error_text(exc)}"

    def _result(
        self,
        connection: SSL.Connection | None,
        *,
        ok: bool,
        error: str | None,
        http_status: int | None = None,
        body: str = "",
        handshake: bool = False,
    ) -> ProbeResult:
        chain: tuple[x509.Certificate, ...] = ()
        names: tuple[x509.Name, ...] = ()
        version = cipher = None
        if connection is not None:
            chain = tuple(connection.get_peer_cert_chain(as_cryptography=True) or ())
            names = tuple(connection.get_client_ca_list(as_cryptography=True))
            if handshake or chain:  # the server's hello arrived, so the version is the negotiated one
                version = connection.get_protocol_version_name()
                cipher = connection.get_cipher_name()
        requested = self.saw_cert_request or bool(names) or self.alert == "certificate_required"
        return ProbeResult(
            host=self.host,
            port=self.port,
            sni=self.sni,
            ok=ok and handshake,
            tls_version=version,
            cipher=cipher,
            peer_chain=chain,
            client_ca_names=names,
            cert_requested=requested,
            alert=self.alert,
            error=error,
            http_status=http_status,
            http_body_prefix=body,
            cert_sent=requested and self.client is not None,
            verify_code=self.verify_code if chain else None,
        )


def _default_sni(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.rstrip(".")
    return ""  # RFC 6066: no SNI for IP literals


def _parse_reply(reply: bytes) -> tuple[int | None, str]:
    match = _STATUS_LINE.match(reply)
    status = int(match.group(1)) if match else None
    _, separator, body = reply.partition(b"\r\n\r\n")
    return status, body.decode("utf-8", "replace") if separator else ""


def _os_error_text(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
