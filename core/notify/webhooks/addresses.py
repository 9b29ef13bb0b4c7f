"""A webhook URL must not become a way into the local network: receivers whose address is private,
loopback, link-local or otherwise not global are refused unless an admin allows them
(`webhooks.allow_private`). The name is resolved again before every delivery, so a name that later points
inside is caught then."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import InvalidInput

_EXAMPLE = "e.g. https://crm.example.com/pbx-events"


def check_url(url: str) -> str:
    """A receiver's URL: http or https, with a host, at most 500 characters, no credentials in it."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"webhook URL {text!r} is not a URL ({_EXAMPLE})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 500:
        raise InvalidInput(
            f"webhook URL {text!r} must be an http(s) URL of up to 500 characters ({_EXAMPLE})"
        )
    if parts.username or parts.password:
        raise InvalidInput("a webhook URL must not carry a user or password: the signature authenticates us")
    del port
    return text


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def refusal(url: str, allow_private: bool) -> str | None:
    """Why `url`'s receiver may not be reached (None: it may): its name does not resolve, or it resolves to
    an address that is not public while `webhooks.allow_private` is off."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"{host} does not resolve ({exc})"
    if allow_private:
        return None
    inside = sorted({str(info[4][0]) for info in infos if _not_public(str(info[4][0]))})
    if inside:
        return (
            f"{host} is a private or loopback address ({', '.join(inside)}); an admin may allow such "
            "receivers with webhooks.allow_private = true"
        )
    return None
