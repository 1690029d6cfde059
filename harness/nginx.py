"""Start and stop a real nginx on 127.0.0.1 for the tests and the benchmarks.

This module owns the nginx process life cycle: it writes a self-contained ``nginx.conf`` under a
private prefix directory (pid file, logs, temp paths, MIME types — nothing is read from
``/etc/nginx``), checks it with ``nginx -t``, runs nginx in the foreground (``daemon off``) as a child
process in its own process group, waits until it accepts connections, and stops it again.
:class:`NginxPool` starts several under one directory and stops them together (the tests' fixtures).

The caller composes the ``server { … }`` blocks itself, using :func:`harness.ports.free_port` for the
ports; the server's ``port`` and ``tls_port`` are read back from the ``listen`` directives with crossplane::

    port = free_port()
    blocks = f"server {{ listen 127.0.0.1:{port}; root {quote(site)}; }}"
    with start_nginx(blocks, tmp_path / "nginx") as server:
        fetch(server.url("/index.html"))

:func:`require_nginx` raises ``RuntimeError`` with an install hint when nginx is missing: the tests turn
it into a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from shutil import which
from types import TracebackType
from typing import Any, Final, Protocol, Self

import crossplane

NGINX_MISSING: Final = (
    "nginx is required for the integration tests: apt-get install nginx (./scripts/test does this as root)"
)
NGINX_CANDIDATES: Final = ("/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx", "/usr/local/sbin/nginx")
START_TIMEOUT: Final = 10.0
STOP_TIMEOUT: Final = 5.0
_POLL_INTERVAL: Final = 0.02
_LOG_TAIL_LINES: Final = 30

# Tab-separated so tests can split an access-log line without a regex.
ACCESS_LOG_FORMAT: Final = "linkdoctor_hits"
ACCESS_LOG_SETTLE: Final = 0.05
ACCESS_LOG_WAIT: Final = 2.0
_ACCESS_LOG_FIELDS: Final = r"$request_method\t$request_uri\t$status\t$msec"

_MIME_TYPES: Final = """\
    types {
        text/html html htm;
        text/css css;
        text/plain txt;
        text/xml xml;
        application/javascript js mjs;
        application/json json;
        image/png png;
        image/gif gif;
        image/jpeg jpg jpeg;
        image/svg+xml svg;
        image/webp webp;
        image/x-icon ico;
        application/pdf pdf;
    }
    default_type application/octet-stream;"""


def find_nginx() -> str | None:
    """Return the path of an nginx binary (``$PATH`` first, then the usual locations) or ``None``.

    Example: ``binary = find_nginx() or sys.exit("install nginx first")``.
    """
    found = which("nginx")
    if found:
        return found
    for candidate in NGINX_CANDIDATES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_nginx() -> str:
    """The nginx binary path; raises ``RuntimeError(NGINX_MISSING)`` when there is none."""
    binary = find_nginx()
    if binary is None:
        raise RuntimeError(NGINX_MISSING)
    return binary


def quote(value: str | Path) -> str:
    """Quote a path or string for an nginx config argument (handles spaces, quotes, backslashes)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@dataclass(frozen=True)
class AccessLogEntry:
    """One request nginx served, as written by the ``linkdoctor_hits`` access-log format."""

    method: str
    uri: str
    status: int
    at: float  # seconds since the epoch, millisecond resolution ($msec)


@dataclass
class NginxServer:
    """A configured nginx under ``prefix``; a context manager that stops it on exit.

    ``port`` is the first plain-HTTP ``listen`` port (or the TLS port when the config has only TLS
    listeners); ``tls_port`` is the first ``listen … ssl`` port, or ``None``.
    """

    prefix: Path
    port: int
    tls_port: int | None
    pid_file: Path
    conf_path: Path
    error_log: Path
    conf_text: str
    access_log: Path | None = None
    nginx_bin: str | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def url(self, path: str = "/") -> str:
        """``http://127.0.0.1:{port}{path}``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def tls_url(self, path: str = "/") -> str:
        """``https://127.0.0.1:{tls_port}{path}``; raises ``ValueError`` without a TLS listener."""
        if self.tls_port is None:
            raise ValueError("this nginx has no 'listen … ssl' directive")
        return f"https://127.0.0.1:{self.tls_port}{path}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Write the config, validate it with ``nginx -t``, start nginx and wait until it listens.

        Raises ``RuntimeError`` (with the error-log tail) when nginx is missing, the config is
        invalid, or nginx does not accept connections within ``START_TIMEOUT`` seconds.
        """
        if self.running:
            return
        binary = self.nginx_bin or find_nginx()
        if binary is None:
            raise RuntimeError("nginx not found on PATH, /usr/sbin or /usr/local/nginx/sbin")
        self.nginx_bin = binary
        for directory in ("logs", "temp"):
            (self.prefix / directory).mkdir(parents=True, exist_ok=True)
        self.conf_path.write_text(self.conf_text, encoding="utf-8")
        base = [binary, "-p", f"{self.prefix}/", "-c", str(self.conf_path), "-e", str(self.error_log)]
        test = subprocess.run([*base, "-t"], capture_output=True, timeout=START_TIMEOUT, check=False)
        if test.returncode != 0:
            output = (test.stdout + test.stderr).decode("utf-8", "replace").strip()
            raise RuntimeError(f"nginx rejected {self.conf_path}:\n{output}")
        # `nginx -t` leaves an empty pid file behind; start-up is detected by nginx writing its pid.
        self.pid_file.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # own process group: stop() can reach the workers too
        )
        try:
            self._wait_until_listening()
        except BaseException:
            self.stop()
            raise

    def _wait_until_listening(self) -> None:
        ports = [self.port] + ([self.tls_port] if self.tls_port not in (None, self.port) else [])
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise RuntimeError(f"nginx exited during start-up (code {code}):\n{self.error_log_tail()}")
            # nginx writes its pid file only after binding every listening socket, so a connect
            # that succeeds after that reaches nginx and not some other process on a reused port.
            if self._pid_file_names(process.pid) and all(_accepts(port) for port in ports):
                return
            time.sleep(_POLL_INTERVAL)
        raise RuntimeError(
            f"nginx did not accept connections on {ports} within {START_TIMEOUT:.0f} s:\n"
            f"{self.error_log_tail()}"
        )

    def _pid_file_names(self, pid: int) -> bool:
        try:
            return self.pid_file.read_text(encoding="ascii").strip() == str(pid)
        except (FileNotFoundError, UnicodeDecodeError):
            return False

    def stop(self) -> None:
        """Quit gracefully (SIGQUIT), kill the process group after ``STOP_TIMEOUT``; idempotent."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The master is not reaped yet, so its process group still holds exactly nginx's
                # master and workers: kill them together.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
        self._process = None
        self.pid_file.unlink(missing_ok=True)

    def error_log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the error log (empty string when there is none)."""
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def access_log_entries(self, *, settle: float = ACCESS_LOG_SETTLE) -> list[AccessLogEntry]:
        """Requests served so far (needs ``access_log=True``).

        nginx writes a request's line unbuffered but only after the response went out, so a client can
        see the answer before the line exists: wait until the log has stopped growing for ``settle``
        seconds (at most ``ACCESS_LOG_WAIT``) before reading it."""
        if self.access_log is None:
            raise ValueError("start nginx with access_log=True to record requests")
        deadline = time.monotonic() + ACCESS_LOG_WAIT
        size = -1
        while time.monotonic() < deadline:
            current = self.access_log.stat().st_size if self.access_log.exists() else 0
            if current == size:
                break
            size = current
            time.sleep(settle)
        if not self.access_log.exists():
            return []
        entries = []
        for line in self.access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            method, uri, status, at = line.split("\t")
            entries.append(AccessLogEntry(method, uri, int(status), float(at)))
        return entries

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def build_config(
    server_blocks: str,
    prefix: Path,
    *,
    extra_http: str = "",
    access_log: bool = False,
    workers: int = 1,
) -> str:
    """Return a complete nginx.conf whose every writable path lives under ``prefix``.

    When running as root the workers run as root too, so they can read files in private temp
    directories (pytest's are mode 0700); otherwise they keep the caller's user.
    """
    prefix = prefix.resolve()
    temp = prefix / "temp"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    if access_log:
        log = (
            f"    log_format {ACCESS_LOG_FORMAT} '{_ACCESS_LOG_FIELDS}';\n"
            f"    access_log {quote(prefix / 'logs' / 'access.log')} {ACCESS_LOG_FORMAT};"
        )
    else:
        log = "    access_log off;"
    temp_paths = "\n".join(
        f"    {kind}_temp_path {quote(temp / kind)};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        "# Generated by harness/nginx.py; every path is under the prefix.\n"
        "daemon off;\n"
        "master_process on;\n"
        f"worker_processes {workers};\n"
        f"{user}"
        f"pid {quote(prefix / 'nginx.pid')};\n"
        f"error_log {quote(prefix / 'logs' / 'error.log')} notice;\n"
        "events {\n    worker_connections 1024;\n}\n"
        "http {\n"
        f"{_MIME_TYPES}\n"
        f"{log}\n"
        f"{temp_paths}\n"
        "    sendfile on;\n"
        "    keepalive_timeout 30s;\n"
        f"{extra_http}\n"
        f"{server_blocks}\n"
        "}\n"
    )


def listen_ports(conf_path: Path) -> tuple[int | None, int | None]:
    """Return the first plain and the first ``ssl`` listen port of a config file (crossplane parse)."""
    payload = crossplane.parse(str(conf_path), single=True, catch_errors=False, check_ctx=False)
    plain: int | None = None
    tls: int | None = None
    for directive in _walk(payload["config"][0]["parsed"]):
        if directive["directive"] != "listen" or not directive["args"]:
            continue
        address, *flags = directive["args"]
        port = _port_of(address)
        if port is None:
            continue
        if "ssl" in flags:
            tls = port if tls is None else tls
        else:
            plain = port if plain is None else plain
    return plain, tls


def _walk(directives: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for directive in directives:
        yield directive
        yield from _walk(directive.get("block", []))


def _port_of(address: str) -> int | None:
    if address.startswith("unix:"):
        return None
    tail = address.rsplit("]:", 1)[-1] if address.startswith("[") else address.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def start_nginx(
    server_blocks: str,
    prefix: Path,
    *,
    extra_http: str = "",
    access_log: bool = False,
    workers: int = 1,
    nginx_bin: str | None = None,
) -> NginxServer:
    """Write a config around ``server_blocks`` under ``prefix``, start nginx and return it running.

    ``server_blocks`` is the text of one or more ``server { … }`` blocks with literal ports
    (use :func:`free_port`); ``extra_http`` goes into the ``http`` block before them (upstreams,
    maps, ``ssl_*`` defaults). Use the result as a context manager or call ``stop()``.
    """
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    conf_text = build_config(
        server_blocks, prefix, extra_http=extra_http, access_log=access_log, workers=workers
    )
    conf_path = prefix / "nginx.conf"
    conf_path.write_text(conf_text, encoding="utf-8")
    plain, tls = listen_ports(conf_path)
    port = plain if plain is not None else tls
    if port is None:
        raise ValueError("server_blocks need at least one 'listen 127.0.0.1:PORT' directive")
    server = NginxServer(
        prefix=prefix,
        port=port,
        tls_port=tls,
        pid_file=prefix / "nginx.pid",
        conf_path=conf_path,
        error_log=prefix / "logs" / "error.log",
        conf_text=conf_text,
        access_log=prefix / "logs" / "access.log" if access_log else None,
        nginx_bin=nginx_bin,
    )
    server.start()
    return server


class NginxFactory(Protocol):
    """Start an nginx around ``server_blocks`` (literal ports from ``free_port()``); ``name`` labels its prefix."""

    def __call__(
        self, server_blocks: str, name: str, *, extra_http: str = "", access_log: bool = False
    ) -> NginxServer: ...


@dataclass
class NginxPool:
    """Starts nginx instances under one directory and stops them all on ``close()``."""

    nginx_bin: str
    directory: Path
    servers: list[NginxServer] = field(default_factory=list)

    def start(
        self, server_blocks: str, name: str, *, extra_http: str = "", access_log: bool = False
    ) -> NginxServer:
        prefix = self.directory / f"{name}-{len(self.servers)}"
        server = start_nginx(
            server_blocks, prefix, extra_http=extra_http, access_log=access_log, nginx_bin=self.nginx_bin
        )
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
