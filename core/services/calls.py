"""Call records (CDRs): one Call per CallID, one CallLeg per SubCallID, with events at every step."""

from __future__ import annotations

import uuid
from collections.abc import Container
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q

from core.events import (
    CallAnswered,
    CallEnded,
    CallerBlocked,
    CallForwarded,
    CallPickedUp,
    CallRerouted,
    CallRinging,
    CallStarted,
    CallTransferred,
    EventBus,
)
from core.models import Call, CallLeg
from core.routing.decisions import Disposition
from core.services.auth import Actor, AuthService
from core.services.missed import CallPath, MissedCalls
from core.services.scoping import in_scope


def _now() -> datetime:
    return datetime.now(UTC)


class CallLog:
    """Writes call records; every change is persisted before its event is published."""

    def __init__(self, bus: EventBus, node: str = "", country: str = "US") -> None:
        self._bus = bus
        self._node = node
        self.missed = MissedCalls(bus, country)

    async def start(
        self,
        caller: str,
        caller_name: str,
        callee: str,
        direction: str,
        call_id: str | None = None,
        started_at: datetime | None = None,
    ) -> Call:
        """A new call entered the PBX."""
        call = await Call.create(
            call_id=call_id or str(uuid.uuid4()),
            caller=caller,
            caller_name=caller_name,
            callee=callee,
            direction=direction,
            started_at=started_at or _now(),
            node=self._node,
        )
        await self._bus.publish(
            CallStarted(
                call_id=call.call_id,
                caller=caller,
                callee=callee,
                caller_name=caller_name,
                direction=direction,
            )
        )
        return call

    async def add_leg(
        self, call: Call, role: str, channel_id: str, endpoint: str, at: datetime | None = None
    ) -> CallLeg:
        """A channel joined the call (`at`: when; legs are written in the background, not in order)."""
        return await CallLeg.create(
            sub_call_id=str(uuid.uuid4()),
            call=call,
            role=role,
            channel_id=channel_id,
            endpoint=endpoint,
            started_at=at or _now(),
        )

    async def forwarded(self, call: Call, number: str, condition: str, destination: str) -> None:
        """The call was sent on from internal number `number`."""
        await self._bus.publish(
            CallForwarded(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                number=number,
                condition=condition,
                destination=destination,
            )
        )

    async def blocked(self, call: Call, reason: str, entry: str) -> None:
        """The caller was refused by the lists."""
        await self._bus.publish(
            CallerBlocked(
                call_id=call.call_id, caller=call.caller, callee=call.callee, reason=reason, entry=entry
            )
        )

    async def rerouted(self, call: Call, reason: str, destination: str) -> None:
        """The caller was sent somewhere by a rule of their own."""
        await self._bus.publish(
            CallRerouted(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                reason=reason,
                destination=destination,
            )
        )

    async def ringing(self, call: Call, leg: CallLeg) -> None:
        """The dialled leg is ringing."""
        await self._bus.publish(
            CallRinging(
                call_id=call.call_id, caller=call.caller, callee=call.callee, sub_call_id=leg.sub_call_id
            )
        )

    async def picked_up(self, call: Call, number: str, leg: CallLeg) -> None:
        """Internal number `number` answered the ringing call with a pickup code."""
        await self._bus.publish(
            CallPickedUp(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                actor="phone",
                number=number,
                sub_call_id=leg.sub_call_id,
            )
        )

    async def transferred_by_phone(
        self, call: Call, party: str, destination: str, stage: str = "completed"
    ) -> None:
        """A phone transferred the call (`actor` is "phone"): the operator hung up during an attended
        transfer, completing it, or the phone's own transfer key sent a REFER (blind or attended)."""
        await self._bus.publish(
            CallTransferred(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                actor="phone",
                party=party,
                destination=destination,
                stage=stage,
            )
        )

    async def pbx_answered(self, call: Call, at: datetime | None = None) -> None:
        """The PBX itself answered the caller (an IVR, a queue, voicemail): no person yet."""
        if call.pbx_answered_at is None:
            call.pbx_answered_at = at or _now()
            await call.save(update_fields=["pbx_answered_at"])

    async def answered(
        self,
        call: Call,
        legs: list[CallLeg],
        answered_leg: CallLeg,
        at: datetime | None = None,
        answered_by: str = "",
    ) -> None:
        """A person (`answered_by`, an internal or remote agent's number) answered and the legs are bridged
        (`at`: when, as the live view shows it). The call's answer and the wait before it are the first
        person's; after a transfer, the next one answers only its leg."""
        now, first = at or _now(), call.answered_at is None
        if first:
            call.answered_at, call.answered_by = now, answered_by
            call.wait_seconds = round(max(0.0, (now - call.started_at).total_seconds()), 3)
            await call.save(update_fields=["answered_at", "answered_by", "wait_seconds"])
        for leg in legs:
            if leg.answered_at is None or leg is answered_leg:
                leg.answered_at = now
                await leg.save(update_fields=["answered_at"])
        await self._bus.publish(
            CallAnswered(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                sub_call_id=answered_leg.sub_call_id,
                answered_by=answered_by,
            )
        )
        if first:  # the caller and the PBX speak: their open missed calls are returned
            await self.missed.call_answered(call, answered_by)

    async def end_leg(self, leg: CallLeg, disposition: str, cause: int | None) -> None:
        """A leg is over."""
        if leg.ended_at is not None:
            return
        leg.ended_at, leg.disposition, leg.hangup_cause = _now(), disposition, cause
        await leg.save(update_fields=["ended_at", "disposition", "hangup_cause"])

    async def finish(
        self, call: Call, disposition: Disposition, sip_code: int | None = None, path: CallPath | None = None
    ) -> None:
        """The call is over; idempotent. With the way it went (`path`), a missed call opens a record."""
        if call.ended_at is not None:
            return
        call.ended_at = _now()
        call.disposition = disposition.value
        call.sip_code = sip_code
        call.duration = (
            round((call.ended_at - call.answered_at).total_seconds(), 3) if call.answered_at else 0.0
        )
        call.talk_seconds = call.duration
        if call.answered_at is None:  # nobody answered: they waited until the end
            call.wait_seconds = round(max(0.0, (call.ended_at - call.started_at).total_seconds()), 3)
        call.outcome = outcome(call)
        call.place = path.place[:100] if path is not None else call.place
        await call.save(
            update_fields=[
                "place",
                "ended_at",
                "disposition",
                "sip_code",
                "duration",
                "talk_seconds",
                "wait_seconds",
                "outcome",
            ]
        )
        await self._bus.publish(
            CallEnded(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                disposition=call.disposition,
                duration=call.duration,
                sip_code=sip_code,
            )
        )
        if path is not None:
            await self.missed.call_ended(call, path)

    async def open_call(self, call_id: str) -> tuple[Call, list[CallLeg]] | None:
        """A call whose record is still open, with its open legs (None when it has ended or never was)."""
        call = await Call.get_or_none(call_id=call_id, ended_at=None)
        if call is None:
            return None
        return call, list(await CallLeg.filter(call_id=call.call_id, ended_at=None))

    async def close_interrupted(self, in_progress: Container[str] = ()) -> int:
        """Calls left open by a daemon that stopped mid-call, and not taken over, were interrupted: their
        open legs and the call are closed as such. `in_progress` holds the call ids being followed now;
        it is asked as each record comes up, so a call that started meanwhile is left alone."""
        count = 0
        for call in await Call.filter(ended_at=None):
            if call.call_id in in_progress:
                continue
            for leg in await CallLeg.filter(call_id=call.call_id, ended_at=None):
                await self.end_leg(leg, Disposition.INTERRUPTED.value, None)
            await self.finish(call, Disposition.INTERRUPTED)
            count += 1
        return count


def outcome(call: Call) -> str:
    """The outcome for a person: answered (someone took it), voicemail (a message was left or could have
    been), abandoned (the caller hung up first), else missed. The disposition stays the caller's SIP
    outcome."""
    if call.answered_at is not None:
        return "answered"
    if call.disposition == Disposition.VOICEMAIL.value:
        return "voicemail"
    if call.disposition == Disposition.CANCELLED.value:
        return "abandoned"
    return "missed"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def call_to_dict(call: Call, legs: list[CallLeg] | None = None) -> dict[str, Any]:
    """The public shape of a call record (API, CLI, console)."""
    data: dict[str, Any] = {
        "call_id": call.call_id,
        "caller": call.caller,
        "caller_name": call.caller_name,
        "callee": call.callee,
        "direction": call.direction,
        "started_at": _iso(call.started_at),
        "answered_at": _iso(call.answered_at),
        "ended_at": _iso(call.ended_at),
        "duration": call.duration,
        "disposition": call.disposition,
        "sip_code": call.sip_code,
        "pbx_answered_at": _iso(call.pbx_answered_at),
        "answered_by": call.answered_by or None,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "outcome": call.outcome or None,
        "place": call.place or None,
    }
    if legs is not None:
        data["legs"] = [
            {
                "sub_call_id": leg.sub_call_id,
                "role": leg.role,
                "endpoint": leg.endpoint,
                "channel_id": leg.channel_id,
                "started_at": _iso(leg.started_at),
                "answered_at": _iso(leg.answered_at),
                "ended_at": _iso(leg.ended_at),
                "disposition": leg.disposition,
                "hangup_cause": leg.hangup_cause,
            }
            for leg in legs
        ]
    return data


class CallHistory:
    """Read side of call records."""

    def __init__(self, auth: AuthService) -> None:
        self._auth = auth

    async def recent(self, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent calls, newest first, with their legs: of those the actor's scope covers (a call
        whose caller or callee is one of its numbers)."""
        await self._auth.authorize(actor, "calls.read")
        limit = max(1, min(limit, 1000))
        query = Call.all()
        if (numbers := await in_scope(self._auth, actor)) is not None:
            query = query.filter(Q(caller__in=list(numbers)) | Q(callee__in=list(numbers)))
        calls = await query.order_by("-started_at").limit(limit).prefetch_related("legs")
        return [call_to_dict(c, sorted(c.legs, key=lambda leg: leg.started_at)) for c in calls]
