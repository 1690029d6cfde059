"""The ``curl`` and ``openssl s_client`` command lines that reproduce a verdict by hand.

They use the user's own file paths (``--cert``, ``--key``, ``--pkcs12``, ``--cacert``) and never a key or
a password: a password kept in an environment variable is referenced by name (``--pass "$VAR"``,
``-pass env:VAR``); otherwise both tools prompt for it themselves::

    >>> target = Target.parse("https://api.example.com/orders")
    >>> reproduce(target, client=None, cafile=None)[0].line
    'curl -sS -i https://api.example.com/orders'
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from linkdoctor.config import ClientCert
from linkdoctor.doctor.model import Command
from linkdoctor.errors import ConfigError

_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Target:
    """The URL under examination, split the way a TLS connection needs it."""

    url: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Target:
        """Split an ``https://`` URL; anything else is a :class:`~linkdoctor.errors.ConfigError`.

        >>> Target.parse("https://[::1]:8443/a?b=1").path
        '/a?b=1'
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"{url!r} is not a valid URL: {exc}") from None
        if parts.scheme.lower() != "https":
            shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
            raise ConfigError(f"diagnose examines TLS, so it needs an https:// URL; {url!r} has {shown}")
        if not parts.hostname:
            raise ConfigError(f"{url!r} has no host name")
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        return cls(url.strip(), parts.hostname, port or 443, path)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def sni(self) -> str:
        """The server name to send ('' for an IP address, as RFC 6066 requires)."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return self.host.rstrip(".")
        return ""

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 443 else f"{host}:{self.port}"


def reproduce(
    target: Target,
    *,
    client: ClientCert | None,
    cafile: Path | None,
    password_env: str | None = None,
    client_has_chain: bool = False,
) -> tuple[Command, ...]:
    """``curl`` (the HTTP outcome) and ``openssl s_client`` (the handshake, chain, CA names and alert).

    ``password_env`` names the environment variable holding the key or PKCS#12 password, if any;
    ``client_has_chain`` says the PEM certificate file also carries intermediates to send.
    """
    if password_env is not None and not _ENV_NAME.match(password_env):
        password_env = None  # not a shell variable name: let the tools prompt instead
    return (
        Command("curl", _curl(target, client, cafile, password_env)),
        Command("openssl s_client", _s_client(target, client, cafile, password_env, client_has_chain)),
    )


def _curl(target: Target, client: ClientCert | None, cafile: Path | None, password_env: str | None) -> str:
    parts = ["curl", "-sS", "-i"]
    if cafile is not None:
        parts += ["--cacert", str(cafile)]
    if client is not None and client.pkcs12 is not None:
        parts += ["--cert-type", "P12", "--cert", str(client.pkcs12)]
    elif client is not None and client.cert is not None:
        if _is_der(client.cert):
            parts += ["--cert-type", "DER"]
        parts += ["--cert", str(client.cert)]
        if client.key is not None:
            if _is_der(client.key):
                parts += ["--key-type", "DER"]
            parts += ["--key", str(client.key)]
    line = shlex.join(parts)
    if client is not None and password_env is not None:
        line += f' --pass "${password_env}"'
    return f"{line} {shlex.quote(target.url)}"


def _s_client(
    target: Target,
    client: ClientCert | None,
    cafile: Path | None,
    password_env: str | None,
    client_has_chain: bool,
) -> str:
    request = f"GET {target.path} HTTP/1.1\\r\\nHost: {target.host_header}\\r\\nConnection: close\\r\\n\\r\\n"
    parts = ["openssl", "s_client", "-connect", target.hostport]
    if target.sni:
        parts += ["-servername", target.sni]
    parts.append("-showcerts")
    if cafile is not None:
        parts += ["-CAfile", str(cafile)]
    if client is not None and client.pkcs12 is not None:
        parts += ["-cert", str(client.pkcs12)]
    elif client is not None and client.cert is not None:
        parts += ["-cert", str(client.cert)]
        if client.key is not None:
            parts += ["-key", str(client.key)]
        if client_has_chain:
            parts += ["-cert_chain", str(client.cert)]
    if client is not None and password_env is not None:
        parts += ["-pass", f"env:{password_env}"]
    parts.append("-ign_eof")
    return f"printf {shlex.quote(request)} | {shlex.join(parts)}"


def _is_der(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    return bool(head) and b"-----BEGIN" not in head and head[:1] == b"\x30"
