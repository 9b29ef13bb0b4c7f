"""Live call control for people: hang up, transfer, redirect, hold and resume calls in progress.

Every action needs `calls.control`, and the actor's scope must cover the call's caller or callee (a
number-level user acts on its own calls only). A destination must exist (like any route's). What the
call's state does not allow (transferring a call still ringing, redirecting an answered one) is refused
with what to do instead. Each action is audited with the call as it was, and published as an event
(core/events/call_control.py) once Asterisk has been told.

The call engine is the daemon's: `control` is set when the daemon runs; without one (the CLI on the
database alone) there are no calls in progress to act on.
"""

from __future__ import annotations

from typing import Any, Protocol

from core.errors import Conflict, InvalidInput, NotFound
from core.events import (
    CallHeld,
    CallHungUp,
    CallMonitored,
    CallPlaced,
    CallRedirected,
    CallResumed,
    CallTransferred,
    EventBus,
)
from core.models import Extension
from core.routing.destinations import Destination, to_e164
from core.routing.outbound import is_external
from core.services.auth import Actor, AuthService
from core.services.scoping import authorize_call
from core.services.validation import number_owner, routable_destination

PARTIES = ("caller", "callee")
MODES = ("listen", "whisper", "barge")


class LiveCallControl(Protocol):
    """What the call engine (core/calls/control.py) does to a call in progress, by call id."""

    def live_call(self, call_id: str) -> dict[str, Any] | None: ...
    async def hang_up(self, call_id: str) -> None: ...
    async def transfer(self, call_id: str, dest: Destination, party: str, attended: bool = False) -> None: ...
    async def complete_transfer(self, call_id: str) -> tuple[str, str]: ...
    async def cancel_transfer(self, call_id: str) -> tuple[str, str]: ...
    async def redirect(self, call_id: str, dest: Destination) -> None: ...
    async def hold(self, call_id: str, party: str) -> None: ...
    async def resume(self, call_id: str) -> str: ...
    async def place(self, from_number: str, to: str) -> str: ...
    async def listen(self, call_id: str, supervisor: str, mode: str, party: str) -> str: ...


class LiveCallService:
    """Actions on calls in progress, authorised by right and scope, audited, published."""

    def __init__(self, auth: AuthService, bus: EventBus, country: str | None = None) -> None:
        self._auth, self._bus, self._country = auth, bus, country
        self.control: LiveCallControl | None = None

    async def hang_up(self, actor: Actor, call_id: str) -> None:
        control, call = await self._call(actor, call_id)
        await control.hang_up(call_id)
        await self._done(actor, "call.hangup", call, {})
        await self._bus.publish(CallHungUp(**_parties(call), actor=actor.name))

    async def transfer(
        self, actor: Actor, call_id: str, destination: str, party: str = "caller", attended: bool = False
    ) -> str:
        """Transfer `party` of an answered call to `destination`: blind (at once, the other side
        released), or attended (the party on hold while the other side talks to the destination, until
        complete_transfer or cancel_transfer). Returns the destination as written everywhere."""
        party = _party(party)
        control, call = await self._call(actor, call_id)
        dest = await routable_destination(destination, self._country)
        await control.transfer(call_id, dest, party, attended)
        stage = "consulting" if attended else "blind"
        await self._done(
            actor, "call.transfer", call, {"party": party, "destination": str(dest), "stage": stage}
        )
        await self._bus.publish(
            CallTransferred(
                **_parties(call), actor=actor.name, party=party, destination=str(dest), stage=stage
            )
        )
        return str(dest)

    async def complete_transfer(self, actor: Actor, call_id: str) -> str:
        """An attended transfer's held party and its destination are bridged; the operator released."""
        return await self._finish_transfer(actor, call_id, "completed")

    async def cancel_transfer(self, actor: Actor, call_id: str) -> str:
        """An attended transfer is called off: the destination hung up, the held party back."""
        return await self._finish_transfer(actor, call_id, "cancelled")

    async def _finish_transfer(self, actor: Actor, call_id: str, stage: str) -> str:
        control, call = await self._call(actor, call_id)
        finish = control.complete_transfer if stage == "completed" else control.cancel_transfer
        destination, party = await finish(call_id)
        action = "call.transfer.complete" if stage == "completed" else "call.transfer.cancel"
        await self._done(actor, action, call, {"destination": destination})
        await self._bus.publish(
            CallTransferred(
                **_parties(call), actor=actor.name, party=party, destination=destination, stage=stage
            )
        )
        return destination

    async def redirect(self, actor: Actor, call_id: str, destination: str) -> str:
        """A ringing call goes to `destination` instead; returns it as written everywhere."""
        control, call = await self._call(actor, call_id)
        dest = await routable_destination(destination, self._country)
        await control.redirect(call_id, dest)
        await self._done(actor, "call.redirect", call, {"destination": str(dest)})
        await self._bus.publish(CallRedirected(**_parties(call), actor=actor.name, destination=str(dest)))
        return str(dest)

    async def hold(self, actor: Actor, call_id: str, party: str = "caller") -> None:
        """`party` of an answered call hears music on hold until resumed."""
        party = _party(party)
        control, call = await self._call(actor, call_id)
        await control.hold(call_id, party)
        await self._done(actor, "call.hold", call, {"party": party})
        await self._bus.publish(CallHeld(**_parties(call), actor=actor.name, party=party))

    async def resume(self, actor: Actor, call_id: str) -> str:
        """The held party is back in the call; returns which party it was."""
        control, call = await self._call(actor, call_id)
        party = await control.resume(call_id)
        await self._done(actor, "call.resume", call, {"party": party})
        await self._bus.publish(CallResumed(**_parties(call), actor=actor.name, party=party))
        return party

    async def listen(
        self, actor: Actor, call_id: str, supervisor: str, mode: str = "listen", party: str = "callee"
    ) -> dict[str, str]:
        """Ring `supervisor`'s phone to listen to the call (hearing both sides, unheard), whisper to
        `party` (only it hears the supervisor) or barge in (everyone hears everyone). Needs calls.listen,
        and the actor's scope must cover both the call and the supervisor's number."""
        mode, party, number = (mode or "").strip().lower(), _party(party), (supervisor or "").strip()
        if mode not in MODES:
            raise InvalidInput(f"mode {mode!r} must be listen, whisper or barge")
        control, call = await self._call(actor, call_id, "calls.listen")
        await self._auth.authorize(actor, "calls.listen", number, number=number)
        if not await Extension.exists(number=number):
            raise NotFound(f"internal number {number or supervisor!r} does not exist")
        monitor_id = await control.listen(call_id, number, mode, party)
        await self._done(actor, "call.listen", call, {"supervisor": number, "mode": mode, "party": party})
        await self._bus.publish(
            CallMonitored(**_parties(call), actor=actor.name, supervisor=number, mode=mode, party=party)
        )
        return {
            "call_id": call_id,
            "supervisor": number,
            "mode": mode,
            "party": party,
            "monitor_id": monitor_id,
        }

    async def place(self, actor: Actor, from_number: str, to: str) -> dict[str, str]:
        """Click-to-call: ring `from_number` first; when it answers, call `to` as its own outgoing call
        (its outbound permission applies). `to`: an internal number, or an outside one (national forms
        read in the PBX's country)."""
        number = (from_number or "").strip()
        await self._auth.authorize(actor, "calls.control", number, number=number)
        control = self.control
        if control is None:
            raise Conflict("calls are placed through the running PBX: start it (pbx serve)")
        if not await Extension.exists(number=number):
            raise NotFound(f"internal number {number or from_number!r} does not exist")
        dialled = await _callable(to, self._country)
        call_id = await control.place(number, dialled)
        await self._auth.audit(actor, "call.place", call_id, {"from": number, "to": dialled})
        await self._bus.publish(CallPlaced(call_id=call_id, caller=number, callee=dialled, actor=actor.name))
        return {"call_id": call_id, "from": number, "to": dialled}

    # -- rules ------------------------------------------------------------------------------------
    async def _call(
        self, actor: Actor, call_id: str, permission: str = "calls.control"
    ) -> tuple[LiveCallControl, dict[str, Any]]:
        """The engine and the call, once the actor may act on it (refusals audited)."""
        control = self.control
        call = control.live_call(call_id) if control else None
        await authorize_call(self._auth, actor, permission, call)
        if control is None:
            raise Conflict("calls in progress are controlled through the running PBX: start it (pbx serve)")
        if call is None:
            raise NotFound(f"no call {call_id} in progress: it has ended, or never was")
        return control, call

    async def _done(self, actor: Actor, action: str, call: dict[str, Any], detail: dict[str, Any]) -> None:
        before = {k: call.get(k) for k in ("caller", "callee", "state")}
        await self._auth.audit(actor, action, str(call["call_id"]), {"before": before, **detail})


async def _callable(to: str, country: str | None) -> str:
    """A number a phone can call: an internal number that exists, or an outside number in E.164."""
    text = (to or "").strip()
    if text.isdigit() and not is_external(text):
        if not await Extension.exists(number=text) and await number_owner(text) is None:
            raise NotFound(f"internal number {text} does not exist")
        return text
    e164 = to_e164(text, country) if text else None
    if e164 is None:
        raise InvalidInput(
            f"{to!r} is not a number to call: an internal number (e.g. 102) or a phone number "
            "(e.g. +15551234567, or national)"
        )
    return e164


def _party(party: str) -> str:
    value = (party or "").strip().lower()
    if value not in PARTIES:
        raise InvalidInput(f"party {party!r} must be caller or callee")
    return value


def _parties(call: dict[str, Any]) -> dict[str, str]:
    return {"call_id": str(call["call_id"]), "caller": str(call["caller"]), "callee": str(call["callee"])}
