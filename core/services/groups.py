"""Internal number groups: members, ring strategy, timeouts and a fallback."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal

from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus, GroupChanged
from core.models import Extension, Group, GroupMember
from core.routing.destinations import DestinationKind
from core.routing.groups import RingStrategy
from core.services.auth import Actor, AuthService
from core.services.extensions import validate_number
from core.services.scoping import authorize_org, in_scope
from core.services.validation import given, refuse_if_used, routable_destination

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
SECONDS = range(1, 601)


@dataclass(frozen=True)
class GroupView:
    """A group as shown to users."""

    name: str
    strategy: str
    member_timeout: int
    timeout: int
    fallback: str | None
    members: list[str]


def _strategy(text: str) -> RingStrategy:
    try:
        return RingStrategy(text.strip().lower().replace("-", "_"))
    except ValueError:
        choices = ", ".join(s.value for s in RingStrategy)
        raise InvalidInput(f"unknown ring strategy {text!r}: use one of {choices}") from None


def _seconds(value: int, what: str) -> int:
    if value not in SECONDS:
        raise InvalidInput(f"{what} must be between 1 and 600 seconds")
    return value


class GroupService:
    """Create and change groups (every change audited and published). What routing reads of them is
    core/services/internal/config.py."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._country = country  # how national numbers in external: destinations are read

    async def groups(self, actor: Actor) -> list[GroupView]:
        """All groups, by name, with their members in ring order; a scoped actor sees the groups that hold a
        number of its scope."""
        await self._auth.authorize(actor, "groups.read")
        numbers = await in_scope(self._auth, actor)
        views = [await self._view(g) for g in await Group.all().order_by("name")]
        return [v for v in views if numbers is None or numbers & set(v.members)]

    async def save(
        self,
        actor: Actor,
        name: str,
        *,
        strategy: str = "ring_all",
        member_timeout: int = 15,
        timeout: int = 60,
        fallback: str | None = None,
    ) -> GroupView:
        """Create a group, or change its settings (members are kept)."""
        name = (name or "").strip().lower()
        if not NAME_RE.fullmatch(name):
            raise InvalidInput("group name must be letters, digits, - or _ (at most 32), e.g. sales")
        ring = _strategy(strategy)
        member_timeout, timeout = (
            _seconds(member_timeout, "member timeout"),
            _seconds(timeout, "group timeout"),
        )
        fallback_text = None
        if fallback:
            dest = await routable_destination(fallback, self._country)
            if dest.kind is DestinationKind.GROUP and dest.target == name:
                raise InvalidInput(f"group {name} cannot fall back to itself")
            fallback_text = str(dest)
        await authorize_org(self._auth, actor, "groups.write", f"group:{name}")
        settings = {
            "strategy": ring.value,
            "member_timeout": member_timeout,
            "timeout": timeout,
            "fallback": fallback_text,
        }
        async with in_transaction():
            group, created = await Group.get_or_create(name=name, defaults=settings)
            before = None if created else {k: getattr(group, k) for k in settings}
            if not created:
                await group.update_from_dict(settings).save()
            detail = settings | {"before": before, "after": settings}
            await self._auth.audit(actor, "group.add" if created else "group.update", name, detail)
        return await self._publish(actor, "added" if created else "updated", group)

    async def set_members(self, actor: Actor, name: str, numbers: list[str]) -> GroupView:
        """Replace a group's members with `numbers`, in ring order."""
        numbers = [validate_number(n) for n in numbers]
        if len(set(numbers)) != len(numbers):
            raise InvalidInput("a number can be in the list only once")
        await authorize_org(self._auth, actor, "groups.write", f"group:{name}")
        group = await self._group(name)
        before = (await self._view(group)).members
        extensions = {e.number: e for e in await Extension.filter(number__in=numbers)}
        missing = [n for n in numbers if n not in extensions]
        if missing:
            raise NotFound(f"internal number {missing[0]} does not exist")
        taken = (
            await GroupMember.filter(extension__number__in=numbers)
            .exclude(group=group)
            .prefetch_related("group", "extension")
        )
        if taken:
            raise Conflict(f"{taken[0].extension.number} is already in group {taken[0].group.name}")
        async with in_transaction():
            await GroupMember.filter(group=group).delete()
            for position, number in enumerate(numbers):
                await GroupMember.create(group=group, extension=extensions[number], position=position)
            group.last_index = -1
            await group.save(update_fields=["last_index"])
            detail = {"members": numbers, "before": {"members": before}, "after": {"members": numbers}}
            await self._auth.audit(actor, "group.members", name, detail)
        return await self._publish(actor, "updated", group)

    async def remove(self, actor: Actor, name: str) -> None:
        """Delete a group (its members stay internal numbers)."""
        name = given(name, "group name", "sales").lower()
        await authorize_org(self._auth, actor, "groups.write", f"group:{name}")
        group = await self._group(name)
        await refuse_if_used(f"group {group.name}", {f"group:{group.name}"})
        async with in_transaction():
            before = asdict(await self._view(group))
            await group.delete()
            await self._auth.audit(actor, "group.remove", name, {"before": before})
        await self._bus.publish(GroupChanged(action="removed", actor=actor.name, group=group.name))

    async def _group(self, name: str) -> Group:
        group = await Group.get_or_none(name=given(name, "group name", "sales").lower())
        if group is None:
            raise NotFound(f"group {name} does not exist")
        return group

    async def _publish(self, actor: Actor, action: Literal["added", "updated"], group: Group) -> GroupView:
        """Tell what the group now is; returns its view."""
        view = await self._view(group)
        await self._bus.publish(
            GroupChanged(
                action=action,
                actor=actor.name,
                group=view.name,
                strategy=view.strategy,
                member_timeout=view.member_timeout,
                timeout=view.timeout,
                fallback=view.fallback,
                members=view.members,
            )
        )
        return view

    async def _view(self, group: Group) -> GroupView:
        members = await GroupMember.filter(group=group).order_by("position").prefetch_related("extension")
        return GroupView(
            group.name,
            group.strategy,
            group.member_timeout,
            group.timeout,
            group.fallback,
            [m.extension.number for m in members],
        )
