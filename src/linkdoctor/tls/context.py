"""SSL contexts for the HTTP layer: per-host client certificates and trust, built once per run.

:class:`TLSContextFactory` loads and checks every configured client certificate and CA file when it is
created, so a wrong password or a missing file stops the run (exit code 3) before the first request.
Afterwards it hands out one cached :class:`ssl.SSLContext` per (client certificate, CA file, insecure)
combination::

    factory = TLSContextFactory(config)
    async with session.get(url, ssl=factory.context_for(url.host)) as response: ...
    factory.close()

Verification is on unless the run was configured with ``insecure=True``; nothing here turns it off on
its own. The trust store is :meth:`CheckConfig.cacert_for` the host (the per-host ``HostSettings.cacert``,
else ``CheckConfig.cacert``), else the system's default CA store (``ssl.create_default_context()``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from linkdoctor.config import CheckConfig, ClientCert, Secret
from linkdoctor.errors import CertificateError, ConfigError

if TYPE_CHECKING:  # cryptography loads only when a client certificate is configured
    from linkdoctor.tls.certs import LoadedClientCert

_ContextKey = tuple[int | None, Path | None, bool]


def ssl_context_for(
    client: LoadedClientCert | None, *, cafile: Path | None = None, insecure: bool = False
) -> ssl.SSLContext:
    """A client-side context verifying servers against ``cafile`` (system trust when None).

    >>> ctx = ssl_context_for(None)
    >>> ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    True

    ``insecure=True`` disables server verification; pass it only when the user asked for it.
    Raises :class:`~linkdoctor.errors.CertificateError` when ``cafile`` cannot be used.
    """
    context = _verifying_context(cafile)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client is not None:
        from linkdoctor.tls.certs import install_client_cert

        install_client_cert(context, client)
        # Servers that ask for the certificate only for some paths (Apache's per-location
        # SSLVerifyClient) do so after the TLS 1.3 handshake; without this the client cannot answer.
        context.post_handshake_auth = True
    return context


def _load_client_cert(spec: ClientCert) -> LoadedClientCert:
    from linkdoctor.tls.certs import load_client_cert

    return load_client_cert(spec)


class TLSContextFactory:
    """One per run: validates all client credentials up front, then caches contexts per host setting."""

    def __init__(
        self,
        config: CheckConfig,
        *,
        loader: Callable[[ClientCert], LoadedClientCert] | None = None,
    ) -> None:
        self._config = config
        load = loader or _load_client_cert
        self._clients: tuple[LoadedClientCert, ...] = tuple(load(spec) for spec in config.client_certs)
        self._contexts: dict[_ContextKey, ssl.SSLContext] = {}
        for cafile in self._cafiles():
            _verifying_context(cafile)  # fail now, not at the first request to that host

    def context_for(self, host: str) -> ssl.SSLContext:
        """The context for connections to ``host`` (the transport's ``tls=`` argument)."""
        host = _normalise(host)
        index = self._client_index(host)
        key: _ContextKey = (index, self._config.cacert_for(host), self._config.insecure)
        context = self._contexts.get(key)
        if context is None:
            client = self._clients[index] if index is not None else None
            context = ssl_context_for(client, cafile=key[1], insecure=key[2])
            self._contexts[key] = context
        return context

    def client_cert_for(self, host: str) -> LoadedClientCert | None:
        """The loaded client certificate that will be presented to ``host``, if any."""
        index = self._client_index(_normalise(host))
        return self._clients[index] if index is not None else None

    @property
    def client_certs(self) -> tuple[LoadedClientCert, ...]:
        """All loaded client certificates, in configuration order."""
        return self._clients

    def close(self) -> None:
        """Drop the cached contexts (and with them the keys they hold in memory)."""
        self._contexts.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _client_index(self, host: str) -> int | None:
        return next((i for i, spec in enumerate(self._config.client_certs) if spec.applies_to(host)), None)

    def _cafiles(self) -> list[Path]:
        paths = [self._config.cacert, *(s.cacert for s in self._config.host_settings)]
        return list(dict.fromkeys(p for p in paths if p is not None))


def prompt_or_env_password(
    env_var: str | None,
    prompt: Callable[[str], str] | None,
    *,
    environ: Mapping[str, str] | None = None,
    what: str = "the client key",
) -> Secret | None:
    """The key password from the environment variable ``env_var``, else from ``prompt``, else None.

    >>> prompt_or_env_password("KEY_PASS", None, environ={"KEY_PASS": "s3cret"})
    Secret('***')

    Passwords never come from a plain command-line value (it would show in ``ps`` and shell history).
    Raises :class:`~linkdoctor.errors.ConfigError` when ``env_var`` is named but not set.
    """
    env = os.environ if environ is None else environ
    if env_var is not None:
        value = env.get(env_var)
        if value is None:
            raise ConfigError(f"the environment variable {env_var} (password for {what}) is not set")
        return Secret(value, env_var)
    if prompt is not None:
        return Secret(prompt(f"Password for {what}: "))
    return None


def _verifying_context(cafile: Path | None) -> ssl.SSLContext:
    if cafile is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(cafile))
    except FileNotFoundError:
        raise CertificateError(f"CA file not found: {cafile}") from None
    except PermissionError:
        raise CertificateError(f"cannot read CA file {cafile}: permission denied") from None
    except IsADirectoryError:
        raise CertificateError(f"CA file {cafile} is a directory; give a PEM bundle file") from None
    except ssl.SSLError as exc:
        raise CertificateError(
            f"CA file {cafile} holds no usable PEM certificate ({exc.reason or 'unreadable'})"
        ) from None


def _normalise(host: str) -> str:
    return host.rstrip(".").lower()
