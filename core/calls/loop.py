"""The routing loop: one per call. It asks the pure routing functions (core.routing) what to do, has a
step carry it out (core/calls/steps/), and goes on with what the step returns until the call is over.

Destinations are typed (`Destination`) all the way: the loop branches on their kind, never on text.
Loops are cut by remembering the places a call has been (an internal number, or a group, queue or
schedule by its written form) and ending the call when it comes back to one.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, assert_never

from core.calls.flow import CallFlow
from core.calls.media import refuse
from core.calls.steps.dial import dial, ring_group
from core.calls.steps.ivr import ivr
from core.calls.steps.queue import queue
from core.calls.steps.voicemail import voicemail
from core.routing import (
    REFUSALS,
    Blocked,
    Decision,
    DialExtension,
    DialExternal,
    Disposition,
    EnterIvr,
    Forward,
    JoinQueue,
    LeaveVoicemail,
    OutboundPermission,
    Refusal,
    Rerouted,
    RingGroup,
    Scheduled,
    after_unanswered,
    decide_forward_external,
    decide_internal,
    decide_outbound,
    decide_schedule,
    destination_target,
    forward_target,
    inbound_destination,
    is_external,
    permission_needed,
    plan_group,
    screen_caller,
    to_e164,
)
from core.routing.destinations import Destination, DestinationKind

if TYPE_CHECKING:
    from core.models import Call


async def run_call(flow: CallFlow) -> None:
    """Follow the routing decisions (and forwards) until the call is answered and over, or refused."""
    flow.calls.show(flow.live)
    # The records are written alongside routing, not before it: set-up time is what callers feel.
    flow.records.open(
        flow.caller_number,
        flow.caller_name,
        flow.dialled,
        flow.direction,
        flow.live.call_id,
        flow.live.started_at,
    )
    flow.records.add_leg(flow.caller_id, "caller", flow.caller_chan.get("name", ""))
    visited: list[str] = []  # the places this call has been routed through
    path = flow.records.path  # where it went, for the record (a missed call's says where it ended)
    decision = await first_decision(flow)
    while True:
        match decision:
            case Refusal():
                await refuse(flow, decision)
                return
            case Forward():
                visited.append(decision.number)
                flow.records.publish(_forwarded(flow, decision))
                target = forward_target(decision, visited)
                decision = (
                    target if isinstance(target, Refusal) else await resolve(flow, decision.destination)
                )
            case Scheduled():
                visited.append(f"schedule:{decision.schedule}")
                path.closed = path.closed or not decision.is_open
                flow.records.publish(_scheduled(flow, decision))
                if place(decision.destination) in visited:  # schedules sending calls round in a loop
                    decision = REFUSALS[Disposition.UNAVAILABLE]
                else:
                    decision = await resolve(flow, decision.destination)
            case RingGroup():
                visited.append(f"group:{decision.group}")
                path.went(f"group:{decision.group}", [n for step in decision.steps for n in step.numbers])
                flow.recording_policies.append(decision.recording)
                outcome = await ring_group(flow, decision)
                if outcome is None:
                    if (sent := await sent_on(flow)) is None:
                        return
                    decision, visited = sent, []
                    continue
                decision = decision.after_nobody_answered(outcome)
            case LeaveVoicemail():
                path.went(f"voicemail:{decision.mailbox}", [decision.mailbox])
                await voicemail(flow, decision.mailbox)
                return
            case EnterIvr():
                path.went(f"ivr:{decision.ivr}")
                chosen = await ivr(flow, decision.ivr)
                if chosen is None:  # the caller hung up in the menu
                    return
                visited = []  # the caller chose: a new route, where going back to a menu is no loop
                if isinstance(chosen, Rerouted):
                    flow.records.publish(_rerouted(flow, chosen))
                    decision = await resolve(flow, chosen.destination)
                else:
                    decision = chosen
            case JoinQueue():
                visited.append(f"queue:{decision.queue}")
                path.went(f"queue:{decision.queue}")
                queued = await queue(flow, decision.queue)
                if queued is None:
                    if (sent := await sent_on(flow)) is None:
                        return
                    decision, visited = sent, []
                    continue
                decision = queued
            case DialExtension() | DialExternal():
                visited.append(decision.number)
                internal = isinstance(decision, DialExtension)
                path.went(
                    f"ext:{decision.number}" if internal else decision.number, [decision.number] * internal
                )
                outcome = await dial(flow, decision)
                if outcome is None:  # answered (and over, or sent on), or the caller gave up
                    if (sent := await sent_on(flow)) is None:
                        return
                    decision, visited = sent, []
                    continue
                decision = after_unanswered(flow.deps.directory.get(decision.number), outcome)
            case _:  # a new kind of decision needs its step here (mypy says so first)
                assert_never(decision)


async def sent_on(flow: CallFlow) -> Decision | None:
    """Where an operator sent the call (a transfer of an answered call, a redirect of a ringing one), or
    None when nobody did: the call is over. A new route, where going back to a number is no loop."""
    dest = flow.take_reroute()
    if dest is None:
        return None
    numbered = dest.kind in (DestinationKind.EXTENSION, DestinationKind.EXTERNAL)
    flow.live.callee = dest.target if numbered else str(dest)  # what the live view shows it ringing
    return await resolve(flow, dest)


async def first_decision(flow: CallFlow) -> Decision:
    """Inbound calls start at their public number's route; internal ones at the dialled number."""
    settings, lookups = flow.deps.settings, flow.deps.lookups
    if flow.inbound:
        did = to_e164(flow.dialled, settings.country)
        route = await lookups.inbound_route(did) if did else None
        if route is None:  # sent to a registration's contact (its username): the trunk's own number
            registered = await lookups.registered_trunk_number(flow.dialled)
            if registered is not None:
                did = registered
                route = await lookups.inbound_route(did)
        if route is not None:
            flow.recording_policies.append(route.recording)
        screening = screen_caller(
            flow.caller_number, await lookups.caller_lists(), bool(route and route.whitelist_only)
        )
        if isinstance(screening, Blocked):
            flow.records.publish(_blocked(flow, screening))
            return screening.refusal
        if isinstance(screening, Rerouted):
            flow.records.publish(_rerouted(flow, screening))
            dest: Destination | Refusal = screening.destination
        else:
            dest = inbound_destination(did, {route.did: route.destination} if route else {})
        return dest if isinstance(dest, Refusal) else await resolve(flow, dest)
    if is_external(flow.dialled):
        number = to_e164(flow.dialled, settings.country)
        needed = (
            permission_needed(number, settings.country, settings.local_prefixes)
            if number
            else OutboundPermission.INTERNATIONAL
        )
        trunk = await lookups.outbound_trunk()
        return decide_outbound(flow.deps.directory.get(flow.caller_number), number, needed, trunk)
    return await internal_number(flow, flow.dialled)


async def resolve(flow: CallFlow, dest: Destination) -> Decision:
    """The decision for a destination, by its kind."""
    lookups = flow.deps.lookups
    match dest.kind:
        case DestinationKind.EXTENSION:
            return await internal_number(flow, dest.target)
        case DestinationKind.EXTERNAL:
            return decide_forward_external(dest.target, await lookups.outbound_trunk())
        case DestinationKind.SCHEDULE:
            schedule = await lookups.schedule(dest.target)
            if schedule is None:  # deleted since it was configured
                return REFUSALS[Disposition.UNAVAILABLE]
            return decide_schedule(schedule, datetime.now(UTC))
        case DestinationKind.GROUP:
            group = await lookups.group(dest.target)
            if group is None:  # deleted since it was configured
                return REFUSALS[Disposition.UNAVAILABLE]
            return plan_group(group, flow.deps.directory.can_take_a_call, random.shuffle)
        case DestinationKind.VOICEMAIL:
            return LeaveVoicemail(dest.target)
        case DestinationKind.IVR:
            return EnterIvr(dest.target)
        case DestinationKind.QUEUE:
            return JoinQueue(dest.target)
    answer = destination_target(dest)  # busy, hangup: the caller's final answer
    assert isinstance(answer, Refusal), dest
    return answer


async def internal_number(flow: CallFlow, number: str) -> Decision:
    """The decision for an internal number: a phone, or the number of an IVR menu or a queue."""
    directory = flow.deps.directory
    info = directory.get(number)
    if info is None:
        owner = await flow.deps.lookups.number_owner(number)
        if owner is not None:
            return await resolve(flow, owner)
    return decide_internal(flow.caller_number, number, info, directory.online(number))


def place(dest: Destination) -> str:
    """How the loop check names where a destination leads (an internal number by itself)."""
    target = destination_target(dest)
    return target if isinstance(target, str) else str(dest)


# -- what the call's record says about the way it took ------------------------------------------------
Write = Callable[["Call"], Awaitable[None]]


def _blocked(flow: CallFlow, blocked: Blocked) -> Write:
    async def write(call: Call) -> None:
        if blocked.entry:
            await flow.deps.reports.blacklist_hit(blocked.entry)
        await flow.deps.log.blocked(call, blocked.reason, blocked.entry)

    return write


def _rerouted(flow: CallFlow, rerouted: Rerouted) -> Write:
    async def write(call: Call) -> None:
        await flow.deps.log.rerouted(call, rerouted.reason, str(rerouted.destination))

    return write


def _scheduled(flow: CallFlow, scheduled: Scheduled) -> Write:
    state = "open" if scheduled.is_open else "closed"

    async def write(call: Call) -> None:
        await flow.deps.log.rerouted(
            call, f"schedule:{scheduled.schedule} {state}", str(scheduled.destination)
        )

    return write


def _forwarded(flow: CallFlow, forward: Forward) -> Write:
    async def write(call: Call) -> None:
        await flow.deps.log.forwarded(call, forward.number, forward.condition.value, str(forward.destination))

    return write
