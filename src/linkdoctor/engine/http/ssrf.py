"""The SSRF guard: no URL a user typed in, and no link found from it, may reach loopback, private or
link-local addresses unless an allowlist permits them.

A server that fetches URLs its users type in must not become a way into the network it runs in. The
guard lives in the engine's HTTP layer so that every caller uses the same one: the server's checks of
site URLs, the monitor's scans and the distributed workers' fetches. It works at two points:

* :meth:`SSRFGuard.check_url` vets a site's URL when it is added: the literal host *and* every address its
  name resolves to must be public (or allowlisted); a refusal is a :class:`~linkdoctor.errors.ConfigError`.
* :meth:`SSRFGuard.socket_factory` vets every connection the transport opens, after DNS resolution
  (:class:`~linkdoctor.engine.http.aiohttp_transport.AiohttpTransport` takes the guard). Because it sits
  under the connection and not on the URL, it also covers redirects, links found while crawling, and
  names that resolve to a private address only at scan time (DNS rebinding).
* :meth:`SSRFGuard.check_host` and :meth:`SSRFGuard.socket_refusal` do the same for the monitor's alert
  targets (webhooks, SMTP hosts, chat URLs), which apprise sends through sockets of its own.

An IPv6 address that carries an IPv4 address is judged by that IPv4 address too: IPv4-mapped
(``::ffff:0:0/96``), NAT64 (``64:ff9b::/96``, judged by its IPv4 address alone), 6to4 (``2002::/16``) and
Teredo (``2001::/32``, server and client).

>>> from ipaddress import ip_network
>>> guard = SSRFGuard(allow=[ip_network("127.0.0.1/32")])
>>> guard.refusal(ip_address("127.0.0.1")) is None
True
>>> guard.refusal(ip_address("10.1.2.3"))
'private'
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from yarl import URL

from linkdoctor.errors import ConfigError

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolve = Callable[[str, int], Sequence[str]]
"""Resolve ``(host, port)`` to address strings; the default is the system's ``getaddrinfo``."""

ALLOWED_SCHEMES = frozenset({"http", "https"})
ALLOW_HINT = "allow it with --allow-private CIDR"


@dataclass(frozen=True, slots=True)
class CheckedURL:
    """A URL the guard accepted, with the addresses its host resolved to when it was checked."""

    url: str
    host: str
    addresses: tuple[IPAddress, ...]


def parse_networks(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Parse ``--allow-private`` values (``127.0.0.1/32``, ``10.0.0.0/8``, ``::1``); a bad one is a ConfigError.

    >>> parse_networks(["127.0.0.1", "fd00::/8"])
    (IPv4Network('127.0.0.1/32'), IPv6Network('fd00::/8'))
    """
    networks = []
    for value in values:
        try:
            networks.append(ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ConfigError(f"--allow-private {value!r} is not an IP network: {exc}") from exc
    return tuple(networks)


NAT64 = IPv6Network("64:ff9b::/96")
"""The well-known NAT64 prefix (RFC 6052): its last 32 bits are the IPv4 address the translator reaches."""


def embedded_ipv4(address: IPAddress) -> tuple[tuple[str, IPv4Address], ...]:
    """The IPv4 addresses an IPv6 address carries, each with the mechanism that carries it.

    >>> embedded_ipv4(ip_address("2002:7f00:1::1"))
    (('6to4', IPv4Address('127.0.0.1')),)
    >>> embedded_ipv4(ip_address("64:ff9b::10.0.0.1"))
    (('NAT64', IPv4Address('10.0.0.1')),)
    >>> embedded_ipv4(ip_address("192.0.2.1"))
    ()
    """
    if not isinstance(address, IPv6Address):
        return ()
    if address.ipv4_mapped is not None:
        return (("IPv4-mapped", address.ipv4_mapped),)
    if address in NAT64:
        return (("NAT64", IPv4Address(int(address) & 0xFFFFFFFF)),)
    if address.sixtofour is not None:
        return (("6to4", address.sixtofour),)
    if address.teredo is not None:
        server, client = address.teredo
        return (("Teredo server", server), ("Teredo client", client))
    return ()


def classify_address(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination (``loopback``, ``private``…), or None when it is public.

    An IPv6 address that embeds an IPv4 address is refused when that IPv4 address is: IPv4-mapped and
    NAT64 addresses are judged by their IPv4 address alone (the NAT64 prefix is a translator's, not a
    reserved destination), 6to4 and Teredo addresses by their IPv4 addresses and then by themselves.

    >>> classify_address(ip_address("::ffff:127.0.0.1"))
    'loopback'
    >>> classify_address(ip_address("2002:a00:1::"))
    'private'
    >>> classify_address(ip_address("64:ff9b::93.184.216.34")) is None
    True
    >>> classify_address(ip_address("93.184.216.34")) is None
    True
    """
    embedded = embedded_ipv4(address)
    if embedded and embedded[0][0] in ("IPv4-mapped", "NAT64"):
        return _own_reason(embedded[0][1])
    for _, inner in embedded:
        reason = _own_reason(inner)
        if reason is not None:
            return reason
    return _own_reason(address)


def _own_reason(address: IPAddress) -> str | None:
    """Why ``address`` itself, as written, is not a public destination."""
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    reason = next((name for name, hit in checks if hit), None)
    if reason is None and not address.is_global:
        reason = "not globally routable"  # e.g. 100.64.0.0/10 (carrier-grade NAT)
    return reason


def _system_resolve(host: str, port: int) -> Sequence[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class SSRFGuard:
    """Refuses non-public destinations unless one of ``allow``'s networks contains them.

    ``resolve`` is injectable so tests can answer DNS questions without a DNS server.
    """

    def __init__(self, allow: Sequence[IPNetwork] = (), *, resolve: Resolve | None = None) -> None:
        self.allow: tuple[IPNetwork, ...] = tuple(allow)
        self._resolve = resolve or _system_resolve

    def __repr__(self) -> str:
        return f"SSRFGuard(allow={[str(n) for n in self.allow]})"

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to ``address`` is refused, or None when it is allowed."""
        reason = classify_address(address)
        if reason is None:
            return None
        # Only the IPv4-mapped form is the same host as its IPv4 address; a NAT64, 6to4 or Teredo address
        # reaches a translator or a relay, so the operator allowlists it as an IPv6 network.
        candidates: tuple[IPAddress, ...] = (address,)
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            candidates = (address, address.ipv4_mapped)
        if any(a in net for a in candidates for net in self.allow if a.version == net.version):
            return None
        return reason

    def _refuse_message(self, target: str, address: IPAddress, reason: str) -> str:
        notes = [str(address)] if target != str(address) else []
        notes += [f"{kind} of {v4}" for kind, v4 in embedded_ipv4(address) if kind != "IPv4-mapped"]
        shown = f"{target} ({', '.join(notes)})" if notes else target
        return f"refused by the SSRF guard: {shown} is a {reason} address; {ALLOW_HINT}"

    def check_url(self, url: str) -> CheckedURL:
        """Accept an http(s) URL whose host and every resolved address are allowed; else raise ConfigError.

        A name that does not resolve is refused too: a site that cannot be reached cannot be vetted. It
        blocks on DNS, so async code calls it from a worker thread (the service's methods already run there).
        """
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a valid URL: {url!r}") from exc
        if parsed.scheme not in ALLOWED_SCHEMES or not parsed.host:
            raise ConfigError(f"only http and https URLs with a host can be monitored, not {url!r}")
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return CheckedURL(url=str(parsed), host=host, addresses=self.check_host(host, port))

    def check_host(self, host: str, port: int, *, unresolved_ok: bool = False) -> tuple[IPAddress, ...]:
        """The addresses of ``host`` (a name or a literal address), each one allowed; else a ConfigError.

        A name that does not resolve is refused, unless ``unresolved_ok`` (then the answer is empty): an
        alert target may not resolve from here today, and its delivery is vetted again, socket by socket.
        """
        literal = _as_address(host.strip("[]"))
        if literal is not None:
            addresses: tuple[IPAddress, ...] = (literal,)
        else:
            try:
                answers = self._resolve(host, port)
            except OSError as exc:
                if unresolved_ok:
                    return ()
                raise ConfigError(f"cannot resolve {host}: {exc}") from exc
            addresses = tuple(dict.fromkeys(a for a in map(_as_address, answers) if a is not None))
            if not addresses and not unresolved_ok:
                raise ConfigError(f"cannot resolve {host}: no addresses")
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                raise ConfigError(self._refuse_message(host, address, reason))
        return addresses

    def socket_refusal(self, sockaddr: object) -> str | None:
        """Why a socket may not connect or send to ``sockaddr`` (a socket module address), or None.

        Only IP addresses pass: a host name (which the socket would resolve unvetted) or a Unix socket
        path is refused. This is what the alert sender's audit hook asks before every connection.

        >>> SSRFGuard().socket_refusal(("127.0.0.2", 25))[:44]
        'refused by the SSRF guard: 127.0.0.2 is a lo'
        >>> SSRFGuard().socket_refusal(("93.184.216.34", 443)) is None
        True
        """
        host = sockaddr[0] if isinstance(sockaddr, tuple) and sockaddr else sockaddr
        address = _as_address(host) if isinstance(host, str) else None
        if address is None:
            return f"refused by the SSRF guard: {host!r} is not an IP address"
        reason = self.refusal(address)
        return None if reason is None else self._refuse_message(str(address), address, reason)

    def socket_factory(self, addr_info: tuple[Any, ...]) -> socket.socket:
        """Open a socket for one resolved address (a ``getaddrinfo`` entry), or refuse it.

        The refusal is an ``OSError``: the transport tries the host's next address and, when none is left,
        fails the request with a connection error that names the guard.
        """
        family, type_, proto, _, sockaddr = addr_info
        address = _as_address(str(sockaddr[0]))
        if address is None:
            raise OSError(errno.EACCES, f"refused by the SSRF guard: {sockaddr[0]!r} is not an IP address")
        reason = self.refusal(address)
        if reason is not None:
            raise OSError(errno.EACCES, self._refuse_message(str(address), address, reason))
        return socket.socket(family=family, type=type_, proto=proto)


def _as_address(value: str) -> IPAddress | None:
    try:
        return ip_address(value.split("%", 1)[0])  # drop an IPv6 zone id ("fe80::1%eth0")
    except ValueError:
        return None
