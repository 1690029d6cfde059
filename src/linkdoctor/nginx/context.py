"""What a rule's ``check`` receives: the parsed configuration, its server views, a file reader, the
clock, the nginx version (when known) and the system trust store (to recognise public CA bundles).

Everything with a side effect is passed in, so rules are pure functions of their context.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Final, TypeVar

from cryptography import x509

from linkdoctor.nginx.certs import CertFile, FileReader, fingerprint, is_self_signed
from linkdoctor.nginx.parse import Directive, NginxConfig
from linkdoctor.nginx.version import NginxVersion
from linkdoctor.nginx.views import ServerView, protocol_block, servers

T = TypeVar("T")
COMMON_TRUST_STORES: Final = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


def default_trust_store_paths() -> tuple[Path, ...]:
    """OpenSSL's default CA file and the usual distribution bundles (existing or not)."""
    defaults = ssl.get_default_verify_paths()
    candidates = [defaults.cafile, defaults.openssl_cafile, *COMMON_TRUST_STORES]
    return tuple(dict.fromkeys(Path(c) for c in candidates if c))


class SystemTrust:
    """The machine's public trust store, read lazily: its files, fingerprints and root subjects."""

    def __init__(self, paths: Sequence[Path], files: FileReader) -> None:
        self.paths = tuple(paths)
        self._files = files

    @cached_property
    def _loaded(self) -> tuple[CertFile, ...]:
        return tuple(c for c in (self._files.certificates(p) for p in self.paths) if c.problem is None)

    @cached_property
    def real_paths(self) -> frozenset[Path]:
        return frozenset(c.path.resolve() for c in self._loaded)

    @cached_property
    def fingerprints(self) -> frozenset[bytes]:
        return frozenset(fingerprint(cert) for c in self._loaded for cert in c.certificates)

    @cached_property
    def root_subjects(self) -> frozenset[x509.Name]:
        return frozenset(
            cert.subject for c in self._loaded for cert in c.certificates if is_self_signed(cert)
        )

    def is_trust_store_file(self, path: Path) -> bool:
        return path.resolve() in self.real_paths


@dataclass(frozen=True)
class LintContext:
    """The inputs of every rule for one run."""

    config: NginxConfig
    files: FileReader
    now: datetime
    nginx_version: NginxVersion | None
    system_trust: SystemTrust
    servers: tuple[ServerView, ...] = field(default=())
    _memo: dict[tuple[str, object], Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        config: NginxConfig,
        *,
        now: datetime,
        nginx_version: NginxVersion | None,
        trust_store_paths: Sequence[Path],
        files: FileReader | None = None,
    ) -> LintContext:
        reader = files or FileReader()
        return cls(
            config=config,
            files=reader,
            now=now,
            nginx_version=nginx_version,
            system_trust=SystemTrust(trust_store_paths, reader),
            servers=servers(config),
        )

    def memo(self, key: tuple[str, object], compute: Callable[[], T]) -> T:
        """``compute()`` once per run for ``key``: what rules derive from a file that many server blocks
        name (a config of 300 blocks sharing one bundle of 800 CAs would otherwise judge 240,000 of them)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    def http(self) -> Directive | None:
        return protocol_block(self.config, "http")

    def protocol(self, server: ServerView) -> Directive | None:
        return protocol_block(self.config, server.protocol)

    def certificates_of(self, directive: Directive | None) -> CertFile | None:
        """The certificates of the file a path directive names (``None`` if unset or not a plain path)."""
        if directive is None or not directive.args:
            return None
        path = self.config.resolve(directive.args[0])
        return None if path is None else self.files.certificates(path)
