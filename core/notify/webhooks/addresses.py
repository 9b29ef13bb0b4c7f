"""A webhook URL must not become a way into the local network: receivers whose address is private,
loopback, link-local or otherwise not global are refused unless an admin allows them
(`webhooks.allow_private`). The name is resolved again before every delivery, so a name that later points
inside is caught then."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.errors import InvalidInput

_EXAMPLE = "e.g. https://crm.example.com/pbx-events"


def check_url(url: str) -> str:
    """A receiver's URL: http or https, with a host, at most 500 characters, no credentials in it."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (reading it checks it: a port out of range raises ValueError)
    except ValueError:
        raise InvalidInput(f"webhook URL {text!r} is not a URL ({_EXAMPLE})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 500:
        raise InvalidInput(
            f"webhook URL {text!r} must be an http(s) URL of up to 500 characters ({_EXAMPLE})"
        )
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL must not carry a user or password: the signature authenticates us")
    return text


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


@dataclass(frozen=True)
class Resolved:
    """Where a receiver is: the address checked (to connect to, and no other), or why it may not be."""

    address: str | None
    refusal: str | None


async def resolve(url: str, allow_private: bool) -> Resolved:
    """Resolve `url`'s host and check every address it has: refused when it does not resolve, or when one is
    not public while `webhooks.allow_private` is off; else the first address, which the request then goes
    to (a name that answers public now and private a moment later cannot slip in between)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return Resolved(None, f"{host} does not resolve ({exc})")
    found = [str(info[4][0]) for info in infos]
    inside = sorted({a for a in found if _not_public(a)})
    if inside and not allow_private:
        return Resolved(
            None,
            f"{host} is a private or loopback address ({', '.join(inside)}); an admin may allow such "
            "receivers with webhooks.allow_private = true",
        )
    found.sort(key=lambda a: ":" in a)  # IPv4 first: what a receiver most often listens on
    return Resolved(found[0] if found else None, None if found else f"{host} has no address")


async def refusal(url: str, allow_private: bool) -> str | None:
    """Why `url`'s receiver may not be reached (None: it may)."""
    return (await resolve(url, allow_private)).refusal


def pinned(url: str, address: str) -> tuple[str, str, str]:
    """`url` aimed at `address` (an IP literal), with the Host header and TLS server name it needs:
    (url, host header, server name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""

    def bracketed(name: str) -> str:  # an IPv6 literal in a URL or a Host header
        return f"[{name}]" if ":" in name else name

    netloc = bracketed(address.split("%", 1)[0]) + port
    return urlunsplit(parts._replace(netloc=netloc)), bracketed(host) + port, host
