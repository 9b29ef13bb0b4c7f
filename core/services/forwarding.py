"""Forwarding (redirects) and do-not-disturb of internal numbers."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from core.errors import Conflict, InvalidInput, NotFound
from core.events import EventBus, ExtensionUpdated, ForwardingChanged
from core.models import Extension, ForwardingRule
from core.routing.decisions import ForwardCondition
from core.routing.destinations import DestinationKind
from core.services.auth import Actor, AuthService
from core.services.extensions import extension_event, validate_number
from core.services.scoping import in_scope
from core.services.validation import routable_destination

RING_SECONDS = range(1, 301)


@dataclass(frozen=True)
class ForwardingView:
    """One forwarding rule as shown to users."""

    number: str
    condition: str
    destination: str
    ring_seconds: int | None = None


def _condition(text: str) -> ForwardCondition:
    try:
        return ForwardCondition(text.strip().lower().replace("-", "_"))
    except ValueError:
        choices = ", ".join(c.value for c in ForwardCondition)
        raise InvalidInput(f"unknown forwarding condition {text!r}: use one of {choices}") from None


class ForwardingService:
    """Set, clear and list forwarding; switch do-not-disturb. Every change is audited and published."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str = "US") -> None:
        self._auth = auth
        self._bus = bus
        self._country = country  # how national numbers in external: destinations are read

    async def list(self, actor: Actor, number: str | None = None) -> list[ForwardingView]:
        """Forwarding rules, of one internal number or of all the actor's scope covers."""
        if number is not None:
            number = validate_number(number)
            await self._auth.authorize(actor, "forwarding.read", number, number=number)
        else:
            await self._auth.authorize(actor, "forwarding.read")
        query = ForwardingRule.all().prefetch_related("extension")
        if number is not None:
            query = query.filter(extension=await self._extension(number))
        elif (numbers := await in_scope(self._auth, actor)) is not None:
            query = query.filter(extension__number__in=list(numbers))
        order = [c.value for c in ForwardCondition]
        rules = sorted(await query, key=lambda r: (r.extension.number, order.index(r.condition)))
        return [ForwardingView(r.extension.number, r.condition, r.destination, r.ring_seconds) for r in rules]

    async def set(
        self, actor: Actor, number: str, condition: str, destination: str, ring_seconds: int | None = None
    ) -> ForwardingView:
        """Forward `number`'s calls to `destination` when `condition` holds (replacing any rule for it)."""
        number, cond = validate_number(number), _condition(condition)
        dest = await routable_destination(destination, self._country)
        if ring_seconds is not None and cond is not ForwardCondition.NO_ANSWER:
            raise InvalidInput("ring seconds apply only to no_answer forwarding")
        if ring_seconds is not None and ring_seconds not in RING_SECONDS:
            raise InvalidInput("ring seconds must be between 1 and 300")
        await self._auth.authorize(actor, "forwarding.write", number, number=number)
        ext = await self._extension(number)
        before = await self._rules(ext)
        if dest.kind is DestinationKind.EXTENSION:
            if dest.target == number:
                raise InvalidInput(f"{number} cannot forward to itself")
            if cond is ForwardCondition.ALWAYS:
                await self._refuse_loop(number, dest.target)
        async with in_transaction():
            await ForwardingRule.filter(extension=ext, condition=cond.value).delete()
            await ForwardingRule.create(
                extension=ext, condition=cond.value, destination=str(dest), ring_seconds=ring_seconds
            )
            await self._auth.audit(
                actor,
                "forwarding.set",
                number,
                {
                    "condition": cond.value,
                    "destination": str(dest),
                    "ring_seconds": ring_seconds,
                    "before": before,
                    "after": await self._rules(ext),
                },
            )
        await self._publish(ext)
        return ForwardingView(number, cond.value, str(dest), ring_seconds)

    async def clear(self, actor: Actor, number: str, condition: str | None = None) -> int:
        """Remove one rule (or all of a number's); returns how many were removed."""
        number = validate_number(number)
        cond = _condition(condition) if condition is not None else None
        await self._auth.authorize(actor, "forwarding.write", number, number=number)
        ext = await self._extension(number)
        before = await self._rules(ext)
        query = ForwardingRule.filter(extension=ext)
        if cond is not None:
            query = query.filter(condition=cond.value)
        async with in_transaction():
            removed = await query.delete()
            detail = {"condition": cond and cond.value, "before": before, "after": await self._rules(ext)}
            await self._auth.audit(actor, "forwarding.clear", number, detail)
        await self._publish(ext)
        return removed

    async def set_dnd(self, actor: Actor, number: str, on: bool) -> None:
        """Switch do-not-disturb: callers get busy (or the busy forwarding) without the phone ringing."""
        number = validate_number(number)
        await self._auth.authorize(actor, "forwarding.write", number, number=number)
        ext = await self._extension(number)
        before, ext.dnd = ext.dnd, on
        async with in_transaction():
            await ext.save(update_fields=["dnd"])
            await self._auth.audit(
                actor,
                "dnd.on" if on else "dnd.off",
                number,
                {"before": {"dnd": before}, "after": {"dnd": on}},
            )
        await self._bus.publish(extension_event(ExtensionUpdated, ext))

    async def _extension(self, number: str) -> Extension:
        ext = await Extension.get_or_none(number=number)
        if ext is None:
            raise NotFound(f"internal number {number} does not exist")
        return ext

    async def _refuse_loop(self, number: str, target: str) -> None:
        """Unconditional forwards that lead back to `number` would send every call round forever."""
        always = {
            r.extension.number: r.destination
            for r in await ForwardingRule.filter(condition=ForwardCondition.ALWAYS.value).prefetch_related(
                "extension"
            )
        }
        path, current = [number, target], target
        while (nxt := always.get(current, "")).startswith("ext:"):
            current = nxt.removeprefix("ext:")
            path.append(current)
            if current == number:
                raise Conflict(f"forwarding loop: {' → '.join(path)}")
            if current in path[:-1]:
                break  # a loop elsewhere that this rule does not close

    @staticmethod
    async def _rules(ext: Extension) -> dict[str, dict[str, object]]:
        """A number's rules by condition, as the audit log keeps them."""
        return {
            r.condition: {"destination": r.destination, "ring_seconds": r.ring_seconds}
            for r in await ForwardingRule.filter(extension=ext)
        }

    async def _publish(self, ext: Extension) -> None:
        rules = await ForwardingRule.filter(extension=ext)
        await self._bus.publish(
            ForwardingChanged(
                number=ext.number,
                rules={
                    r.condition: {"destination": r.destination, "ring_seconds": r.ring_seconds} for r in rules
                },
            )
        )
