"""The events integrators receive, named as cloud PBXs name them, and their bodies. Pure: the caller gives
the domain event, the facts of its call record and the call's sequence number.

Every body has the same fields (null where they do not apply), so a receiver can map them once:
event_id, event, sequence, call_id, sub_call_id, caller, caller_name, callee, did, extension, direction,
status, duration, talk_seconds, recording, at; some types add their own (README, "Webhook events").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.events import DomainEvent

#: every event type a subscription may ask for, with what it says
WEBHOOK_EVENTS: dict[str, str] = {
    "dial-in": "a call from outside reached the PBX",
    "dial-out": "an internal number called outside",
    "internal": "an internal number called another internal number, group, queue or menu",
    "answer": "a person answered the call",
    "hangup": "the call is over (with its status, duration and talk time)",
    "missed": "an inbound call no person answered (a missed-call record opened)",
    "voicemail": "a caller left a voicemail message",
    "recording": "a recording of the call is stored",
    "message-in": "a text message reached an internal number (with the messages feature)",
    "message-out": "an internal number sent a text message (with the messages feature)",
    "agent-login": "a queue agent logged in",
    "agent-logout": "a queue agent logged out",
    "agent-state": "a queue agent's state changed (ready, ringing, in_queue_call, paused, wrapup…)",
    "caller-blocked": "a caller was refused by the blacklist, the whitelist or the anonymous policy",
}
TEST_EVENT = "test"  # sent by `pbx webhook test ID`, to that subscription only

_START = {"inbound": "dial-in", "outbound": "dial-out", "internal": "internal"}
_BY_TYPE = {
    "CallAnswered": "answer",
    "CallEnded": "hangup",
    "MissedCall": "missed",
    "VoicemailLeft": "voicemail",
    "RecordingSaved": "recording",
    "QueueAgentLoggedIn": "agent-login",
    "QueueAgentLoggedOut": "agent-logout",
    "QueueAgentStateChanged": "agent-state",
    "CallerBlocked": "caller-blocked",
    "WebhookTest": TEST_EVENT,
}
_DIRECTION = {"inbound": "in", "outbound": "out", "internal": "internal"}
#: the caller's outcome, in the words integrators use
_STATUS = {
    "answered": "answered",
    "voicemail": "answered",  # the PBX answered; `outcome` says no person did
    "busy": "busy",
    "blocked": "busy",  # a refused caller hears busy
    "no_answer": "no_answer",
    "cancelled": "cancelled",
    "unavailable": "unavailable",
    "in_progress": None,
}


@dataclass(frozen=True)
class CallFacts:
    """What the call record says when the event is written."""

    call_id: str
    caller: str
    caller_name: str
    callee: str
    direction: str  # inbound | outbound | internal
    started_at: datetime
    ended_at: datetime | None
    disposition: str
    answered_by: str
    talk_seconds: float
    outcome: str


def webhook_type(event: DomainEvent) -> str | None:
    """The webhook event type of a domain event (None: integrators are not sent it)."""
    if event.type == "CallStarted":
        return _START.get(str(getattr(event, "direction", "")), "internal")
    return _BY_TYPE.get(event.type)


def status_of(disposition: str) -> str | None:
    return _STATUS.get(disposition, "failed")


def body(
    event: DomainEvent, kind: str, call: CallFacts | None, sequence: int | None, recording_url: str = ""
) -> dict[str, Any]:
    """The body of webhook event `kind` for `event` (its persisted id set)."""
    data = event.model_dump(mode="json")
    facts: dict[str, Any] = {
        "event_id": str(event.id),
        "event": kind,
        "sequence": sequence,
        "call_id": data.get("call_id"),
        "sub_call_id": data.get("sub_call_id"),
        "caller": data.get("caller"),
        "caller_name": None,
        "callee": data.get("callee"),
        "did": None,
        "extension": None,
        "direction": None,
        "status": None,
        "duration": None,
        "talk_seconds": None,
        "recording": None,
        "at": data["at"],
    }
    if call is not None:
        facts |= {
            "caller": call.caller,
            "caller_name": call.caller_name,
            "callee": call.callee,
            "did": call.callee if call.direction == "inbound" else None,
            "extension": call.answered_by or (call.caller if call.direction != "inbound" else None),
            "direction": _DIRECTION.get(call.direction, call.direction),
        }
    facts |= _own_fields(event, kind, data, call, recording_url)
    return facts


def _own_fields(
    event: DomainEvent, kind: str, data: dict[str, Any], call: CallFacts | None, recording_url: str
) -> dict[str, Any]:
    if kind == "hangup" and call is not None:
        end = call.ended_at or event.at
        return {
            "status": status_of(call.disposition),
            "disposition": call.disposition,
            "outcome": call.outcome or None,
            "answered_by": call.answered_by or None,
            "duration": round((end - call.started_at).total_seconds(), 3),
            "talk_seconds": call.talk_seconds,
        }
    if kind == "answer":
        return {
            "status": "answered",
            "extension": data.get("answered_by") or (call.answered_by if call else None),
        }
    if kind == "voicemail":
        return {
            "extension": data["mailbox"],
            "duration": data["duration"],
            "voicemail": data.get("voicemail_id"),
        }
    if kind == "recording":
        return {"recording": {"id": data["name"], "url": recording_url, "duration": data["duration"]}}
    if kind == "caller-blocked":
        return {"reason": data["reason"], "entry": data.get("entry") or None, "status": "busy"}
    if kind == "missed":
        return {
            "extension": (data.get("numbers") or [None])[0],
            "missed_call": data["missed_id"],
            "reason": data["reason"],
            "ended": data["ended"],
            "waited_seconds": data["waited_seconds"],
            "numbers": data.get("numbers") or [],
        }
    if kind.startswith("agent-"):
        own = {"extension": data["agent"], "queue": data["queue"]}
        if kind == "agent-state":
            own |= {"state": data["state"], "previous": data.get("previous")}
        return own
    if kind == TEST_EVENT:
        return {"message": data.get("message", "")}
    return {}


def numbers_concerned(payload: dict[str, Any]) -> set[str]:
    """The numbers a body names: whom a subscription for one number (or group, or queue) is about."""
    found = {
        str(payload[k]) for k in ("caller", "callee", "extension", "answered_by", "did") if payload.get(k)
    }
    return found | {str(n) for n in payload.get("numbers") or ()}
