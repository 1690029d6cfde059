"""Client-certificate flags shared by ``check`` and ``diagnose``: ``--cert``, ``--key``, ``--pkcs12`` and
``--key-password-env``, and the one way they become a :class:`~linkdoctor.config.ClientCert`.

Passwords come from an environment variable or a hidden prompt on a terminal, never from a flag value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from linkdoctor.cli.flags import schema_options
from linkdoctor.config import ClientCert, Secret
from linkdoctor.errors import ConfigError
from linkdoctor.tls.context import prompt_or_env_password

F = TypeVar("F", bound=Callable[..., Any])
_CERT_FLAGS = ("cert", "key", "pkcs12", "key_password_env")


def client_cert_options(function: F) -> F:
    """Add the four client-certificate flags to a command (declared in :mod:`linkdoctor.options`)."""
    return schema_options(_CERT_FLAGS)(function)


def looks_encrypted(*paths: Path | None) -> bool:
    """Whether a PEM key among ``paths`` is encrypted (so a password is needed)."""
    for path in paths:
        if path is None:
            continue
        try:
            with path.open("rb") as handle:
                if b"ENCRYPTED" in handle.read(65536):
                    return True
        except OSError:
            continue  # the loader reports unreadable files with a clear message
    return False


def _prompt(message: str) -> str:
    return str(click.prompt(message.rstrip(": "), hide_input=True, default="", show_default=False))


def _password(env_var: str | None, what: str, *, needed: bool) -> Secret | None:
    interactive = needed and sys.stdin.isatty()
    return prompt_or_env_password(env_var, _prompt if interactive else None, what=what)


def client_cert_from_options(opts: dict[str, Any], *, hosts: tuple[str, ...] = ()) -> ClientCert | None:
    """The client certificate the flags describe, or ``None``; ``ConfigError`` for bad combinations."""
    env_var: str | None = opts["key_password_env"]
    if opts["pkcs12"] is not None:
        if opts["cert"] is not None or opts["key"] is not None:
            raise ConfigError("give either --pkcs12 or --cert/--key, not both")
        password = _password(env_var, str(opts["pkcs12"]), needed=True)
        return ClientCert(pkcs12=opts["pkcs12"], password=password, hosts=hosts, password_env=env_var)
    if opts["cert"] is not None:
        needed = looks_encrypted(opts["key"], opts["cert"])
        password = _password(env_var, str(opts["key"] or opts["cert"]), needed=needed)
        return ClientCert(
            cert=opts["cert"], key=opts["key"], password=password, hosts=hosts, password_env=env_var
        )
    if opts["key"] is not None:
        raise ConfigError("--key needs --cert")
    return None
