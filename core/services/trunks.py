"""Trunks to carriers, and inbound routes from public numbers (DIDs) to destinations."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.ari.client import AriError
from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus, RouteChanged, TrunkChanged
from core.models import InboundRoute, Trunk
from core.services.auth import Actor, AuthService
from core.services.provisioning import Provisioner
from core.services.scoping import authorize_org
from core.services.validation import (
    external_destinations,
    given,
    refuse_if_used,
    routable_destination,
    validate_e164,
)

TRUNK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
# the user part of the SIP URIs we register with: nothing that could end or extend a URI or dial string
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,64}$")
PASSWORD_MAX = 128


def validate_host(host: str) -> str:
    """An IP address or a DNS name; nothing that could smuggle dial-string syntax."""
    host = (host or "").strip().lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        if HOST_RE.fullmatch(host):
            return host
    raise InvalidInput(f"trunk host {host!r} must be an IP address or a host name")


def validate_credentials(
    username: str | None, password: str | None, register: bool
) -> tuple[str | None, str | None]:
    """A trunk's username and password at the carrier: both or neither; registering needs them.

    Errors never quote the password.
    """
    username = (username or "").strip() or None
    password = password or None
    if username is not None and not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            f"trunk username {username!r} must be 1 to 64 letters, digits or . _ + - (e.g. 15550001000)"
        )
    if password is not None and not (
        len(password) <= PASSWORD_MAX and all(32 <= ord(c) < 127 for c in password)
    ):
        raise InvalidInput(
            f"trunk password must be 1 to {PASSWORD_MAX} printable ASCII characters (no control characters)"
        )
    if username and not password:
        raise InvalidInput("trunk password missing: a username needs its password (--password)")
    if password and not username:
        raise InvalidInput("trunk username missing: a password needs its username (--username)")
    if register and not username:
        raise InvalidInput("a registering trunk needs its --username and --password at the carrier")
    return username, password


@dataclass(frozen=True)
class TrunkView:
    """A trunk as shown to users."""

    name: str
    host: str
    port: int
    caller_id: str
    enabled: bool
    username: str | None = None  # at the carrier; the password is never shown
    registers: bool = False  # keeps a registration at the carrier


@dataclass(frozen=True)
class RouteView:
    """An inbound route as shown to users."""

    did: str
    destination: str
    whitelist_only: bool = False


class TrunkService:
    """Trunks (provisioned into Asterisk at once) and inbound routes. Every change is audited and
    published."""

    def __init__(
        self,
        auth: AuthService,
        bus: EventBus,
        provisioner: Provisioner | None = None,
        country: str = "US",
    ) -> None:
        self._auth = auth
        self._bus = bus
        self._provisioner = provisioner
        self._country = country  # how national forms of numbers are read

    async def trunks(self, actor: Actor) -> list[TrunkView]:
        """All trunks, by name."""
        await self._auth.authorize(actor, "trunks.read")
        return [_trunk_view(t) for t in await Trunk.all().order_by("name")]

    async def add(
        self,
        actor: Actor,
        name: str,
        host: str,
        port: int,
        caller_id: str,
        username: str | None = None,
        password: str | None = None,
        register: bool = False,
    ) -> TrunkView:
        """Add a trunk to a carrier at `host`; calls from `host` are the trunk's calls.

        With `username` and `password` the PBX answers the carrier's digest challenges; with `register`
        it also keeps a registration there (for carriers that send calls to a registered contact).
        """
        name = (name or "").strip().lower()
        if not TRUNK_NAME_RE.fullmatch(name):
            raise InvalidInput("trunk name must start with a letter: letters, digits and -, at most 31")
        host = validate_host(host)
        if not 1 <= port <= 65535:
            raise InvalidInput("trunk port must be between 1 and 65535")
        caller_id = validate_e164(caller_id, "caller ID", self._country)
        username, password = validate_credentials(username, password, register)
        await authorize_org(self._auth, actor, "trunks.write", f"trunk:{name}")
        # never the password
        detail = {
            "host": host,
            "port": port,
            "caller_id": caller_id,
            "username": username,
            "register": register,
        }
        try:
            async with in_transaction():
                trunk = await Trunk.create(
                    name=name,
                    host=host,
                    port=port,
                    caller_id=caller_id,
                    username=username,
                    password=password,
                    register=register,
                )
                await self._auth.audit(actor, "trunk.add", name, detail)
        except IntegrityError:
            raise Conflict(f"trunk {name} already exists") from None
        await self._provision(trunk)
        await self._bus.publish(
            TrunkChanged(
                action="added",
                actor=actor.name,
                trunk=name,
                host=host,
                port=port,
                caller_id=caller_id,
                username=username,
                registers=register,
            )
        )
        return _trunk_view(trunk)

    async def remove(self, actor: Actor, name: str) -> None:
        """Delete a trunk."""
        name = given(name, "trunk name", "carrier").lower()
        await authorize_org(self._auth, actor, "trunks.write", f"trunk:{name}")
        trunk = await Trunk.get_or_none(name=name)
        if trunk is None:
            raise NotFound(f"trunk {name} does not exist")
        if trunk.enabled and not await Trunk.filter(enabled=True).exclude(id=trunk.id).exists():
            # the last way out: calls forwarded outside, and remote agents, would have nowhere to go
            await refuse_if_used(f"trunk {name} (the last one)", await external_destinations())
        async with in_transaction():
            await trunk.delete()
            # the view: never the password
            await self._auth.audit(actor, "trunk.remove", name, {"before": asdict(_trunk_view(trunk))})
        if self._provisioner:
            try:
                await self._provisioner.remove_trunk(name)
            except AriError:
                pass  # Asterisk away: it is gone from memory at its next start anyway
        await self._bus.publish(TrunkChanged(action="removed", actor=actor.name, trunk=name))

    async def routes(self, actor: Actor) -> list[RouteView]:
        """All inbound routes, by public number."""
        await self._auth.authorize(actor, "trunks.read")
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
        did = validate_e164(did, "public number", self._country)
        dest = await routable_destination(destination, self._country)
        await authorize_org(self._auth, actor, "trunks.write", f"route:{did}")
        async with in_transaction():
            old = await InboundRoute.get_or_none(did=did)
            replaced = await InboundRoute.filter(did=did).delete()
            await InboundRoute.create(did=did, destination=str(dest), whitelist_only=whitelist_only)
            after = {"destination": str(dest), "whitelist_only": whitelist_only}
            before = {"destination": old.destination, "whitelist_only": old.whitelist_only} if old else None
            await self._auth.audit(actor, "route.set", did, after | {"before": before, "after": after})
        await self._bus.publish(
            RouteChanged(
                action="updated" if replaced else "added",
                actor=actor.name,
                did=did,
                destination=str(dest),
                whitelist_only=whitelist_only,
            )
        )
        return RouteView(did, str(dest), whitelist_only)

    async def remove_route(self, actor: Actor, did: str) -> None:
        """Delete the route of a public number."""
        did = validate_e164(did, "public number", self._country)
        await authorize_org(self._auth, actor, "trunks.write", f"route:{did}")
        async with in_transaction():
            old = await InboundRoute.get_or_none(did=did)
            if old is None or not await InboundRoute.filter(did=did).delete():
                raise NotFound(f"no route for {did}")
            before = {"destination": old.destination, "whitelist_only": old.whitelist_only}
            await self._auth.audit(actor, "route.remove", did, {"before": before})
        await self._bus.publish(RouteChanged(action="removed", actor=actor.name, did=did))

    async def _provision(self, trunk: Trunk) -> None:
        if self._provisioner:
            try:
                await self._provisioner.push_trunk(trunk)
            except AriError:
                pass  # provisioned at the next ARI connect


def _trunk_view(t: Trunk) -> TrunkView:
    return TrunkView(t.name, t.host, t.port, t.caller_id, t.enabled, t.username, t.register)
