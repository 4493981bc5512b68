"""Who is asking, and over what, when the console sits behind the city's reverse proxy.

The console listens on loopback; staff reach it through an HTTPS reverse proxy. Then
every request comes from the proxy's address over plain HTTP, so the client address
(for the log-in throttle) and the scheme (for the cookies' ``Secure`` flag) come from
the proxy's ``X-Forwarded-For`` and ``X-Forwarded-Proto`` headers, but only when the
request really came from a proxy named in ``MADOGUCHI_CONSOLE_TRUSTED_PROXIES``: anyone
else could send those headers too.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from aiohttp import web

from bot.errors import ConfigError


def parse_trusted_proxies(raw: str) -> frozenset[str]:
    """``"127.0.0.1, ::1"`` → the addresses; a name that is not an IP address is an error."""
    found = set()
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            found.add(str(ipaddress.ip_address(part)))
        except ValueError:
            raise ConfigError(
                f"MADOGUCHI_CONSOLE_TRUSTED_PROXIES: {part!r} is not an IP address",
                hint="list the reverse proxies' addresses, separated by commas, e.g. 127.0.0.1,10.0.0.5",
            ) from None
    return frozenset(found)


def _peer(request: web.Request) -> str:
    return request.remote or "?"


def from_trusted_proxy(request: web.Request, trusted: Iterable[str]) -> bool:
    return _peer(request) in trusted


def client_address(request: web.Request, trusted: frozenset[str]) -> str:
    """The address of the browser: the peer, or behind trusted proxies the last untrusted
    address of ``X-Forwarded-For`` (the ones before it could have been made up)."""
    peer = _peer(request)
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop[:64]
    return peer


def is_https(request: web.Request, trusted: frozenset[str]) -> bool:
    """Whether the browser's connection is HTTPS (directly, or to a trusted proxy)."""
    if request.secure:
        return True
    if _peer(request) not in trusted:
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"
