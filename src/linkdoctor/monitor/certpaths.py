"""The certificate folder: which files a monitored site's certificate, key and CA paths may name in
server mode.

A site's ``cert_path``, ``key_path``, ``pkcs12_path`` and ``cacert_path`` are files the server reads. Left
free, they would let whoever sets them read any file the server can (``/etc/shadow`` as a "CA bundle"), or
learn from the error which files exist. So ``serve`` takes them only inside the folder its operator names
with ``serve --cert-dir DIR``; without it, it takes none. A relative path is taken from that folder. A path
outside it is refused with the same message whether or not the file exists, and nothing here ever looks at
the file. The rule is checked when a site is saved and again before each scan (a site stored by the CLI,
or before the rule existed, fails its scan without reading the file). Symbolic links inside the folder are
the operator's and are followed; the path as written must stay inside (``..`` cannot leave it).

>>> folder = CertFolder(Path("/srv/certs"))
>>> str(folder.place("cacert_path", "internal/ca.pem"))
'/srv/certs/internal/ca.pem'
>>> folder.place("cacert_path", "/etc/shadow")
Traceback (most recent call last):
  ...
linkdoctor.errors.ConfigError: cacert_path must name a file inside the certificate folder of this server (serve --cert-dir)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from linkdoctor.errors import ConfigError
from linkdoctor.monitor.model import SiteSpec


@dataclass(frozen=True, slots=True)
class CertFolder:
    """The folder the site options' files must be in (``root``); None: this server takes no such file."""

    root: Path | None = None

    def place(self, option: str, value: str) -> Path:
        """``value`` as an absolute path inside the folder, or a ConfigError that says nothing of the file."""
        if self.root is None:
            raise ConfigError(
                f"{option}: this server takes no certificate, key or CA files "
                "(its operator can allow a folder of them with serve --cert-dir DIR)"
            )
        root = Path(os.path.normpath(self.root.expanduser().absolute()))
        path = Path(os.path.normpath(root / value))  # an absolute value replaces root; ".." is folded
        if path == root or not path.is_relative_to(root):
            raise ConfigError(
                f"{option} must name a file inside the certificate folder of this server (serve --cert-dir)"
            )
        return path

    def confine(self, spec: SiteSpec) -> SiteSpec:
        """``spec`` with each file path made absolute inside the folder; a ConfigError for one outside it."""
        opts = spec.options

        def placed(option: str, value: str | None) -> str | None:
            return None if not value else str(self.place(option, value))

        confined = replace(
            opts,
            cert_path=placed("cert_path", opts.cert_path),
            key_path=placed("key_path", opts.key_path),
            pkcs12_path=placed("pkcs12_path", opts.pkcs12_path),
            cacert_path=placed("cacert_path", opts.cacert_path),
        )
        return spec if confined == opts else replace(spec, options=confined)
