"""A generated site served by a real nginx: the files, the base URL and the ground truth a checker must
match. The tests' ``generated_site`` fixture is :func:`serve_generated_site` with :data:`GENERATED_SITE_SPEC`::

    with NginxPool(require_nginx(), tmp_path / "nginx") as pool:
        site = serve_generated_site(pool, tmp_path / "site")
        check(site.url("/"))  # its broken links are site.truth.broken
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.nginx import NginxPool, NginxServer, quote
from harness.ports import free_port
from harness.sitegen import GroundTruth, SiteSpec, generate_site

GENERATED_SITE_SPEC = SiteSpec(pages=40, links_per_page=12, broken_share=0.15, redirect_chains=4, seed=7)


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
