"""The scope half of authorisation, for the services: organisation-wide configuration needs the org scope,
and lists show only what the actor's scope covers."""

from __future__ import annotations

from collections.abc import Iterable

from core.services.auth import Actor, AuthService, Denied


async def authorize_org(auth: AuthService, actor: Actor, permission: str, target: str) -> None:
    """Like `auth.authorize`, for changes to organisation-wide configuration (trunks, routes, groups, IVR
    menus, queues, schedules, the anonymous-caller policy): the right alone is not enough, the actor must
    act for the whole organisation. A refusal is audited and names what is missing."""
    await auth.authorize(actor, permission, target)
    if not actor.scope.whole_organisation:
        await auth.audit(actor, f"denied:{permission}", target, {"scope": str(actor.scope)}, ok=False)
        raise Denied(
            f"{actor.name} acts on {actor.scope} only: {permission} on {target} needs the org scope "
            "(it is organisation-wide configuration)"
        )


async def in_scope(auth: AuthService, actor: Actor) -> frozenset[str] | None:
    """The internal numbers the actor's scope covers; None when it covers the whole organisation."""
    return None if actor.scope.whole_organisation else await auth.numbers_in_scope(actor)


def touches(numbers: frozenset[str] | None, *parties: str | None) -> bool:
    """Whether any of `parties` is in `numbers` (always, for the whole organisation)."""
    return numbers is None or any(p in numbers for p in parties if p)


def only(numbers: frozenset[str] | None, items: Iterable[str]) -> list[str]:
    """The items within scope."""
    return [i for i in items if numbers is None or i in numbers]


async def authorize_call(
    auth: AuthService, actor: Actor, permission: str, call: dict[str, object] | None
) -> None:
    """Like `auth.authorize`, for an action on a call in progress (`call` as the live view shows it; None
    when there is no such call, which the action itself reports): the actor's scope must cover its caller
    or its callee."""
    call_id = str(call.get("call_id", "")) if call else ""
    await auth.authorize(actor, permission, call_id)
    if call is None:
        return
    numbers = await in_scope(auth, actor)
    if not touches(numbers, str(call.get("caller") or ""), str(call.get("callee") or "")):
        await auth.audit(actor, f"denied:{permission}", call_id, {"scope": str(actor.scope)}, ok=False)
        raise Denied(f"{actor.name} acts on {actor.scope} only: call {call_id} is outside it")


def calls_in_scope(
    calls: Iterable[dict[str, object]], numbers: frozenset[str] | None
) -> list[dict[str, object]]:
    """The live calls (as the live view shows them) whose caller or callee is within `numbers`."""
    return [c for c in calls if touches(numbers, str(c.get("caller") or ""), str(c.get("callee") or ""))]
