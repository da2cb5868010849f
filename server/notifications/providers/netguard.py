"""Outbound URLs a user chose (Web Push endpoints) may reach public hosts only: no SSRF into our network.

Checked twice: at registration (IP literals in non-public ranges, local names, non-default ports are
refused; a name that does not resolve is fine, it may be a real push service seen without DNS) and at
send time, where the name is resolved and every address must be public. The request then goes to the
checked address itself (TLS still verifies the name), so a DNS answer cannot change in between
(rebinding). ``allow`` holds ``host`` or ``host:port`` entries exempt from all of this (tests' stand-ins).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home", ".home.arpa", ".intranet", ".corp")


class Refused(ValueError):
    """The URL points somewhere we must not send to."""


def _allowed(parts: SplitResult, allow: tuple[str, ...]) -> bool:
    host = (parts.hostname or "").lower()
    return host in allow or f"{host}:{parts.port}" in allow


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the forms getaddrinfo also accepts: 2130706433, 0x7f.1, 127.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def check_url(url: str, allow: tuple[str, ...] = ()) -> None:
    """Registration time: refuse non-public IP literals, local names and non-default ports."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Refused("no host")
    if _allowed(parts, allow):
        return
    try:
        port = parts.port
    except ValueError as exc:
        raise Refused("bad port") from exc
    if port not in (None, 443):
        raise Refused("only the default https port")
    literal = _literal(host)
    if literal is not None:
        if not literal.is_global:
            raise Refused("a non-public address")
        return
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        raise Refused("a local name")


async def resolve_public(url: str, allow: tuple[str, ...] = ()) -> str | None:
    """Send time: the public address to connect to for ``url`` (``None`` if allow-listed: connect as is).

    Raises ``Refused`` when the name resolves to any non-public address, or not at all.
    """
    parts = urlsplit(url)
    if _allowed(parts, allow):
        return None
    check_url(url, allow)
    host = parts.hostname or ""
    literal = _literal(host)
    if literal is not None:
        return str(literal)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"cannot resolve {host}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(map(_public, addresses)):
        raise Refused("resolves to a non-public address")
    return str(addresses[0])


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable per the IANA special-purpose registries (so not private, loopback or link-local)."""
    return address.is_global
