"""nginx versions: parsing ``1.26.2`` or ``nginx version: nginx/1.22.1``, asking ``nginx -v``, and the
version facts the rules depend on (when a directive's behaviour changed, which releases a CVE affects).

    version = NginxVersion.parse("1.26.2")
    affected_by_cve_2025_23419(version)  # True: fixed in 1.26.3 and 1.27.4
    detect_nginx_version()               # NginxVersion(1, 22, 1) when nginx is installed, else None
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from linkdoctor.errors import ConfigError

CVE_2025_23419: Final = "CVE-2025-23419"
NGINX_BINARY_CANDIDATES: Final = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
DETECT_TIMEOUT: Final = 5.0

_VERSION = re.compile(r"(?:nginx/)?(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True, order=True, slots=True)
class NginxVersion:
    """A released nginx version; compares in release order."""

    major: int
    minor: int
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> NginxVersion:
        """Read ``1.26.2``, ``nginx/1.22.1`` or the output of ``nginx -v``; ``ConfigError`` otherwise."""
        match = _VERSION.search(text.strip())
        if match is None:
            raise ConfigError(f"not an nginx version: {text!r} (expected something like 1.26.2)")
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def affected_by_cve_2025_23419(version: NginxVersion) -> bool:
    """Whether TLS 1.3 session resumption can bypass client-certificate checks across server blocks.

    Affected: 1.11.4 up to 1.26.2 and 1.27.0 up to 1.27.3; fixed in 1.26.3 (stable) and 1.27.4 (mainline).
    """
    if version < NginxVersion(1, 11, 4):
        return False
    if version < NginxVersion(1, 26, 3):
        return True
    return NginxVersion(1, 27, 0) <= version < NginxVersion(1, 27, 4)


def trusted_certificate_suffices(version: NginxVersion) -> bool:
    """Since 1.27.2 ``ssl_trusted_certificate`` alone is enough for ``ssl_verify_client``."""
    return version >= NginxVersion(1, 27, 2)


def find_nginx_binary() -> str | None:
    """The nginx on ``$PATH``, else one in the usual sbin directories, else ``None``."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((c for c in NGINX_BINARY_CANDIDATES if Path(c).is_file()), None)


def _run_version(argv: Sequence[str]) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=DETECT_TIMEOUT, check=False)
    return done.stderr + done.stdout


def detect_nginx_version(
    run: Callable[[Sequence[str]], str] = _run_version, binary: str | None = None
) -> NginxVersion | None:
    """Ask ``nginx -v`` which version is installed; ``None`` when there is no nginx or no answer.

    ``run`` takes an argv and returns what the program printed (injected in tests).
    """
    binary = binary or find_nginx_binary()
    if binary is None:
        return None
    try:
        output = run([binary, "-v"])
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"nginx/(\d+\.\d+(?:\.\d+)?)", output)
    return NginxVersion.parse(match.group(1)) if match else None
