"""A phone's own transfer key: SIP REFER. Every endpoint has PJSIP_TRANSFER_HANDLING ari-only, so
Asterisk hands a REFER to our app as an ARI `ChannelTransfer` event on the channel it came in on, and
the phone waits for the app to say how it went (`transfer_progress`: a NOTIFY with 200, or a refusal).

- **Blind** (`Refer-To: <sip:103@…>`): the other side of the call goes to that number as in an
  operator's blind transfer (core/calls/actions.py), the number read as if the phone had dialled it
  (core/routing/transfer.py: an outside number needs the phone's own outbound permission).
- **Attended** (`Refer-To` with `Replaces`: the phone's other call): the other sides of the phone's two
  calls are bridged in the call the REFER came in on, whose record goes on with a new callee leg; the
  phone's two channels are released, and the other call ends with both its legs transferred.

Anything else (a trunk's REFER, a call not simply talking, a number the phone may not call) is
declined: the phone hears so and keeps its call.
"""

from __future__ import annotations

import contextlib
import logging
import re

from core.ari.client import AriError
from core.calls import actions
from core.calls.deps import CallDeps
from core.calls.flow import CallFlow, Event
from core.calls.steps.bridge import CallNotUp
from core.routing import Disposition, Refusal, is_external
from core.routing.destinations import Destination, DestinationKind
from core.routing.transfer import refer_destination

logger = logging.getLogger(__name__)

#: a phone's channel: `PJSIP/<endpoint>-<sequence>`
_CHANNEL_NAME = re.compile(r"^PJSIP/(?P<endpoint>[^/]+)-[0-9a-fA-F]+$")


class Declined(Exception):
    """Why a phone's transfer is not carried out."""


def source_channel(event: Event) -> str | None:
    """The channel the REFER came in on."""
    return ((event.get("referred_by") or {}).get("source_channel") or {}).get("id")


async def on_transfer(flow: CallFlow, event: Event) -> None:
    """Carry out (or decline) the transfer a phone asked for on one of this call's channels."""
    source = source_channel(event) or ""
    try:
        if ((event.get("refer_to") or {}).get("destination_channel") or {}).get("id"):
            await _attended(flow, event, source)
        else:
            await _blind(flow, event, source)
    except (Declined, CallNotUp) as why:
        logger.info("call %s: a phone's transfer was declined: %s", flow.live.call_id, why)
        await decline(flow.deps, source)
    except Exception:  # the call's own task goes on; what failed here must be seen
        logger.exception("call %s: a phone's transfer failed", flow.live.call_id)
        await decline(flow.deps, source)


async def decline(deps: CallDeps, channel_id: str | None) -> None:
    """Tell the phone its transfer is refused (it keeps its call)."""
    await _progress(deps, channel_id, "channel_declined")


async def _progress(deps: CallDeps, channel_id: str | None, state: str) -> None:
    client = deps.ari.current
    if client is None or not channel_id:
        return
    with contextlib.suppress(AriError):  # the phone hung up meanwhile: nobody to tell
        await client.transfer_progress(channel_id, state)


def _phone(deps: CallDeps, channel: Event) -> str | None:
    """The internal number whose phone a channel is, if it is one."""
    match = _CHANNEL_NAME.match(str(channel.get("name") or ""))
    number = match.group("endpoint") if match else None
    return number if number is not None and deps.directory.get(number) is not None else None


async def _blind(flow: CallFlow, event: Event, source: str) -> None:
    deps = flow.deps
    transferer = _phone(deps, (event.get("referred_by") or {}).get("source_channel") or {})
    if transferer is None:
        raise Declined("only an internal number's phone may transfer a call")
    if source not in (flow.caller_id, flow.callee_id):
        raise Declined("the REFER came on a channel that is not one of the call's two sides")
    party = "caller" if source == flow.callee_id else "callee"  # the other side goes on
    actions.check_transfer(flow, party)
    dialled = str(((event.get("refer_to") or {}).get("requested_destination") or {}).get("destination") or "")
    exists = dialled.isdigit() and not is_external(dialled) and await _internal(deps, dialled)
    settings = deps.settings
    dest = refer_destination(
        dialled,
        deps.directory.get(transferer),
        exists,
        settings.country,
        settings.local_prefixes,
        await deps.lookups.outbound_trunk(),
    )
    if isinstance(dest, Refusal):
        raise Declined(f"{transferer} may not transfer to {dialled!r}: {dest.disposition.value}")
    await _progress(deps, source, "channel_answered")  # before its channel is released
    await actions.transfer(flow, dest, party)
    flow.records.publish(lambda call: deps.log.transferred_by_phone(call, party, str(dest), "blind"))


async def _internal(deps: CallDeps, number: str) -> bool:
    """An internal number of that name exists: a phone, or the number of a menu or a queue."""
    return deps.directory.get(number) is not None or await deps.lookups.number_owner(number) is not None


async def _attended(flow: CallFlow, event: Event, source: str) -> None:
    deps, refer_to = flow.deps, event.get("refer_to") or {}
    replaced = refer_to.get("destination_channel") or {}
    phone = _phone(deps, (event.get("referred_by") or {}).get("source_channel") or {})
    if phone is None or _phone(deps, replaced) != phone:
        raise Declined("an attended transfer joins two calls of one internal number's phone")
    if source not in (flow.caller_id, flow.callee_id):
        raise Declined("the REFER came on a channel that is not one of the call's two sides")
    other = flow.calls.get(str(replaced.get("id")))
    if other is None or other is flow:
        raise Declined("the call it replaces is not another call of ours")
    for call, channel in ((flow, source), (other, str(replaced["id"]))):
        actions.check_transfer(call, "caller" if channel == call.callee_id else "callee")
        if call.held is not None:
            raise CallNotUp(f"call {call.live.call_id} has a party on hold")
    party = "caller" if source == flow.callee_id else "callee"  # who goes on, as this call names it
    if party == "callee":
        flow.swap_parties()  # the one who stays is the flow's caller; the phone its callee
    joined = other.callee_id if replaced["id"] == other.caller_id else other.caller_id
    assert joined is not None and flow.bridge_id is not None and other.bridge_id is not None
    number = other.caller_number if joined == other.caller_id else other.answered_number or ""
    endpoint = (await other.records.leg(joined)).endpoint
    other.handed_over = joined  # it ends without hanging this one up
    flow.own(joined)  # its events come here now
    await _progress(deps, source, "channel_answered")
    with contextlib.suppress(AriError):
        await flow.client.remove_from_bridge(other.bridge_id, [joined])
    flow.release_agent()  # a queue's agent (the phone) wraps up now
    flow.callee_id, flow.answered_number = joined, number
    flow.live.callee = flow.live.answered_by = number  # the live view: whom the caller talks to now
    flow.records.add_leg(joined, "callee", endpoint)
    with contextlib.suppress(AriError):  # it hung up meanwhile: the talk loop sees it leave
        await flow.client.add_to_bridge(flow.bridge_id, [joined])
    await flow.hangup_quietly(source)
    await flow.records.end_leg(source, Disposition.TRANSFERRED.value, 16)
    await other.hangup_quietly(str(replaced["id"]))  # the other call's talk sees it leave, and ends
    records = flow.records
    await deps.log.answered(
        await records.settled(),
        [await records.leg(flow.caller_id), await records.leg(joined)],
        await records.leg(joined),
        at=flow.live.answered_at,
        answered_by=number,
    )
    kind = DestinationKind.EXTERNAL if is_external(number) else DestinationKind.EXTENSION
    await deps.log.transferred_by_phone(
        await records.settled(), party, str(Destination(kind, number)), "completed"
    )
    flow.queues.refresh()
