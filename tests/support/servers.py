"""Real-server plumbing behind the pytest fixtures: nginx instances, the generated site, raw sockets.

``tests/conftest.py`` only wires these into fixtures; integration tests and the benchmark runner can
use them directly too::

    with NginxPool(nginx_binary, tmp_path) as pool:
        server = pool.start(f"server {{ listen 127.0.0.1:{free_port()}; return 204; }}", "plain")
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from benchmarks.nginxctl import NginxServer, find_nginx, free_port, quote, start_nginx
from benchmarks.sitegen import GroundTruth, SiteSpec, generate_site

NGINX_MISSING = (
    "nginx is required for the integration tests: apt-get install nginx (./scripts/test does this as root)"
)
GENERATED_SITE_SPEC = SiteSpec(pages=40, links_per_page=12, broken_share=0.15, redirect_chains=4, seed=7)


@dataclass(frozen=True)
class Endpoint:
    """A TCP endpoint on 127.0.0.1."""

    port: int
    host: str = "127.0.0.1"

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"


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


@dataclass(frozen=True)
class GeneratedSite:
    """A generated site served by nginx: its files, base URL and the ground truth a checker must match."""

    root: Path
    base_url: str  # http://127.0.0.1:{port}/
    truth: GroundTruth
    server: NginxServer

    def url(self, path: str) -> str:
        """Absolute URL of a site path such as ``/page-3.html``."""
        return self.base_url.rstrip("/") + path


def site_server_block(root: Path, port: int) -> str:
    """A ``server`` block serving ``root`` on ``port`` with the generator's location snippet."""
    return (
        "server {\n"
        f"    listen 127.0.0.1:{port};\n"
        "    server_name localhost;\n"
        f"    root {quote(root)};\n"
        f"    include {quote(root / 'nginx-locations.conf')};\n"
        "}\n"
    )


def serve_generated_site(
    pool: NginxPool, root: Path, spec: SiteSpec = GENERATED_SITE_SPEC, *, access_log: bool = False
) -> GeneratedSite:
    """Generate ``spec`` into ``root`` and start nginx serving it."""
    truth = generate_site(spec, root)
    server = pool.start(site_server_block(root.resolve(), free_port()), "site", access_log=access_log)
    return GeneratedSite(root=root, base_url=server.url("/"), truth=truth, server=server)


def require_nginx() -> str:
    """The nginx binary path; raises ``RuntimeError(NGINX_MISSING)`` when there is none."""
    binary = find_nginx()
    if binary is None:
        raise RuntimeError(NGINX_MISSING)
    return binary


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port whose connections complete the TCP handshake but never receive a byte.

    The socket listens and is never ``accept()``-ed: the kernel finishes handshakes into the
    backlog, so clients connect and then wait for a response that never comes.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port: int = sock.getsockname()[1]
        yield port


@contextmanager
def closed_port() -> Iterator[int]:
    """A port with nothing listening: connecting is refused.

    The port stays bound (without ``listen()``) for the duration, so no other process can take it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port
