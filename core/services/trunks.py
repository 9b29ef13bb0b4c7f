"""Trunks to carriers, and inbound routes from public numbers (DIDs) to destinations."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.ari.client import AriError
from core.errors import Conflict, InvalidInput, NotFound
from core.models import InboundRoute, Trunk
from core.services.auth import Actor, AuthService
from core.services.provisioning import Provisioner
from core.services.validation import routable_destination, validate_e164

TRUNK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def validate_host(host: str) -> str:
    """An IP address or a DNS name; nothing that could smuggle dial-string syntax."""
    host = (host or "").strip().lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        if HOST_RE.fullmatch(host):
            return host
    raise InvalidInput(f"trunk host {host!r} must be an IP address or a host name")


@dataclass(frozen=True)
class TrunkView:
    """A trunk as shown to users."""

    name: str
    host: str
    port: int
    caller_id: str
    enabled: bool


@dataclass(frozen=True)
class RouteView:
    """An inbound route as shown to users."""

    did: str
    destination: str
    whitelist_only: bool = False


class TrunkService:
    """Trunks (provisioned into Asterisk at once) and inbound routes."""

    def __init__(self, auth: AuthService, provisioner: Provisioner | None = None) -> None:
        self._auth = auth
        self._provisioner = provisioner

    async def trunks(self, actor: Actor) -> list[TrunkView]:
        """All trunks, by name."""
        await self._auth.authorize(actor, "extensions.read")
        return [_trunk_view(t) for t in await Trunk.all().order_by("name")]

    async def add(self, actor: Actor, name: str, host: str, port: int, caller_id: str) -> TrunkView:
        """Add a trunk to a carrier that reaches us from `host` (IP-authenticated)."""
        name = (name or "").strip().lower()
        if not TRUNK_NAME_RE.fullmatch(name):
            raise InvalidInput("trunk name must start with a letter: letters, digits and -, at most 31")
        host = validate_host(host)
        if not 1 <= port <= 65535:
            raise InvalidInput("trunk port must be between 1 and 65535")
        caller_id = validate_e164(caller_id, "caller ID")
        await self._auth.authorize(actor, "extensions.write", f"trunk:{name}")
        try:
            async with in_transaction():
                trunk = await Trunk.create(name=name, host=host, port=port, caller_id=caller_id)
                await self._auth.audit(
                    actor, "trunk.add", name, {"host": host, "port": port, "caller_id": caller_id}
                )
        except IntegrityError:
            raise Conflict(f"trunk {name} already exists") from None
        await self._provision(trunk)
        return _trunk_view(trunk)

    async def remove(self, actor: Actor, name: str) -> None:
        """Delete a trunk."""
        await self._auth.authorize(actor, "extensions.write", f"trunk:{name}")
        trunk = await Trunk.get_or_none(name=name)
        if trunk is None:
            raise NotFound(f"trunk {name} does not exist")
        async with in_transaction():
            await trunk.delete()
            await self._auth.audit(actor, "trunk.remove", name)
        if self._provisioner:
            try:
                await self._provisioner.remove_trunk(name)
            except AriError:
                pass  # Asterisk away: it is gone from memory at its next start anyway

    async def routes(self, actor: Actor) -> list[RouteView]:
        """All inbound routes, by public number."""
        await self._auth.authorize(actor, "extensions.read")
        return [
            RouteView(r.did, r.destination, r.whitelist_only)
            for r in await InboundRoute.all().order_by("did")
        ]

    async def set_route(
        self, actor: Actor, did: str, destination: str, whitelist_only: bool = False
    ) -> RouteView:
        """Send calls to the public number `did` to `destination` (replacing any route for it).

        With `whitelist_only`, only callers on the whitelist get through; everyone else hears busy.
        """
        did = validate_e164(did, "public number")
        dest = await routable_destination(destination)
        await self._auth.authorize(actor, "extensions.write", f"route:{did}")
        async with in_transaction():
            await InboundRoute.filter(did=did).delete()
            await InboundRoute.create(did=did, destination=str(dest), whitelist_only=whitelist_only)
            await self._auth.audit(
                actor, "route.set", did, {"destination": str(dest), "whitelist_only": whitelist_only}
            )
        return RouteView(did, str(dest), whitelist_only)

    async def remove_route(self, actor: Actor, did: str) -> None:
        """Delete the route of a public number."""
        did = validate_e164(did, "public number")
        await self._auth.authorize(actor, "extensions.write", f"route:{did}")
        async with in_transaction():
            if not await InboundRoute.filter(did=did).delete():
                raise NotFound(f"no route for {did}")
            await self._auth.audit(actor, "route.remove", did)

    async def _provision(self, trunk: Trunk) -> None:
        if self._provisioner:
            try:
                await self._provisioner.push_trunk(trunk)
            except AriError:
                pass  # provisioned at the next ARI connect


def _trunk_view(t: Trunk) -> TrunkView:
    return TrunkView(t.name, t.host, t.port, t.caller_id, t.enabled)
