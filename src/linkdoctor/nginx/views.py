"""How nginx sees a configuration: server blocks with the settings they inherit (http → server →
location), their listen addresses, and which variables a block really checks.

Rules ask questions of these views instead of walking raw directives::

    for server in servers(config):
        if server.verify_mode in ("on", "optional") and server.get("ssl_client_certificate") is None:
            ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from linkdoctor.nginx.parse import Directive, NginxConfig

PROTOCOLS: Final = ("http", "stream", "mail")
DEFAULT_VERIFY_DEPTH: Final = 1
# Directives through which a request-time value is acted on or handed to the application.
CHECKING_DIRECTIVES: Final = frozenset(
    {
        "if",
        "proxy_set_header",
        "fastcgi_param",
        "grpc_set_header",
        "uwsgi_param",
        "scgi_param",
        "auth_request_set",
    }
)
_VARIABLE = re.compile(r"\$\{?([A-Za-z0-9_]+)\}?")
_BLOCKS_WITH_SCOPE: Final = frozenset({"location", "if", "limit_except"})


def variables_in(args: Iterable[str]) -> frozenset[str]:
    """The variable names (without ``$``) used in ``args``."""
    return frozenset(m.group(1) for arg in args for m in _VARIABLE.finditer(arg))


@dataclass(frozen=True, slots=True)
class Scope:
    """A chain of blocks, outermost first (``http``, ``server``, ``location``…), for inherited settings."""

    blocks: tuple[Directive, ...]

    @property
    def innermost(self) -> Directive:
        return self.blocks[-1]

    def get(self, name: str) -> Directive | None:
        """The directive in force: the last one in the innermost block that sets it."""
        for block in reversed(self.blocks):
            found = block.children(name)
            if found:
                return found[-1]
        return None

    def get_all(self, name: str) -> tuple[Directive, ...]:
        """Every directive of a repeatable kind (``ssl_certificate``) from the innermost block with any."""
        for block in reversed(self.blocks):
            found = block.children(name)
            if found:
                return found
        return ()

    def value(self, name: str, default: str) -> str:
        found = self.get(name)
        return found.args[0] if found and found.args else default

    def enter(self, block: Directive) -> Scope:
        return Scope((*self.blocks, block))


@dataclass(frozen=True, slots=True)
class Listen:
    """One ``listen``: a normalized address (``*:443``, ``127.0.0.1:443``, ``[::]:443``) and its TLS flag."""

    directive: Directive | None
    address: str
    ssl: bool


def parse_listen(directive: Directive) -> Listen:
    raw = directive.args[0] if directive.args else "80"
    return Listen(directive, normalize_address(raw), "ssl" in directive.args[1:])


def normalize_address(raw: str) -> str:
    if raw.startswith("unix:"):
        return raw
    if raw.startswith("["):
        host, _, port = raw.partition("]")
        return f"{host}]:{port.lstrip(':') or '80'}"
    if raw.isdigit():
        return f"*:{raw}"
    host, sep, port = raw.rpartition(":")
    if not sep:
        host, port = raw, "80"
    if host in ("*", "0.0.0.0"):
        host = "*"
    return f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class ServerView:
    """One ``server`` block of the ``http``, ``stream`` or ``mail`` context, with inherited settings."""

    protocol: str
    block: Directive
    scope: Scope

    def get(self, name: str) -> Directive | None:
        return self.scope.get(name)

    def get_all(self, name: str) -> tuple[Directive, ...]:
        return self.scope.get_all(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(arg for d in self.block.children("server_name") for arg in d.args)

    @property
    def label(self) -> str:
        """``server app.example.com (nginx.conf:12)`` for messages."""
        name = next((n for n in self.names if n and n != "_"), "")
        return (
            f"server {name} ({self.block.file.name}:{self.block.line})"
            if name
            else (f"server at {self.block.file.name}:{self.block.line}")
        )

    @property
    def verify_mode(self) -> str:
        return self.scope.value("ssl_verify_client", "off").lower()

    @property
    def verify_directive(self) -> Directive | None:
        return self.get("ssl_verify_client")

    @property
    def verifies_clients(self) -> bool:
        """``ssl_verify_client on`` or ``optional``: client certificates are checked against a CA."""
        return self.verify_mode in ("on", "optional")

    @property
    def tls_active(self) -> bool:
        """nginx loads this server's TLS files when it has (or inherits) a certificate."""
        return bool(self.get_all("ssl_certificate"))

    @property
    def listens(self) -> tuple[Listen, ...]:
        found = tuple(parse_listen(d) for d in self.block.children("listen"))
        return found or (Listen(None, "*:80", False),)

    @property
    def ssl_listen(self) -> bool:
        legacy = self.scope.value("ssl", "off").lower() == "on"
        return legacy or any(listen.ssl for listen in self.listens)

    def anchor(self, directive: Directive | None) -> Directive:
        """Where to report a setting of this server: the directive if written in the server, else the
        server block itself (the setting is inherited from ``http``)."""
        if directive is not None and directive in (self.block.block or ()):
            return directive
        return self.block

    def walk(self) -> Iterator[tuple[Scope, Directive]]:
        """Every directive inside the server, with the scope (settings chain) it is evaluated in."""
        yield from _walk_scoped(self.scope)

    def checks(self, sources: Iterable[str], http: Directive | None = None) -> tuple[Directive, ...]:
        """The directives in this server that act on any of ``sources`` (variable names), directly or
        through ``map``/``set`` variables derived from them."""
        tainted = derived_variables(self, frozenset(sources), http)
        return tuple(
            d for _, d in self.walk() if d.name in CHECKING_DIRECTIVES and variables_in(d.args) & tainted
        )


def _walk_scoped(scope: Scope) -> Iterator[tuple[Scope, Directive]]:
    for child in scope.innermost.block or ():
        yield scope, child
        if child.block is not None and child.name in _BLOCKS_WITH_SCOPE:
            yield from _walk_scoped(scope.enter(child))


def derived_variables(server: ServerView, sources: frozenset[str], http: Directive | None) -> frozenset[str]:
    """``sources`` plus every variable a ``map`` (in ``http``) or ``set`` (in the server) derives from them."""
    producers: list[tuple[frozenset[str], str]] = []
    if http is not None:
        for d in http.children("map"):
            if len(d.args) >= 2:
                producers.append((variables_in(d.args[:1]), d.args[1].lstrip("$").strip("{}")))
    for _, d in server.walk():
        if d.name == "set" and len(d.args) >= 2:
            producers.append((variables_in(d.args[1:]), d.args[0].lstrip("$").strip("{}")))
    tainted = set(sources)
    for _ in range(len(producers) + 1):
        grown = {out for ins, out in producers if ins & tainted} - tainted
        if not grown:
            break
        tainted |= grown
    return frozenset(tainted)


def servers(config: NginxConfig) -> tuple[ServerView, ...]:
    """Every ``server`` block of the ``http``, ``stream`` and ``mail`` contexts, in file order."""
    found: list[ServerView] = []
    for top in config.directives:
        if top.name not in PROTOCOLS:
            continue
        for server in top.children("server"):
            found.append(ServerView(top.name, server, Scope((top, server))))
    return tuple(found)


def protocol_block(config: NginxConfig, protocol: str) -> Directive | None:
    return next((d for d in config.directives if d.name == protocol), None)
