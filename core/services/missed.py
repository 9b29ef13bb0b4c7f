"""Missed calls: an inbound call (from outside, or to a group or queue) that no person answered opens a
record; it closes as `returned` when the caller and the PBX speak again (someone calls the number back
and is answered, or the caller calls again and is answered), or `handled` when a person marks it.

`MissedCalls` is the call log's side (no actor: the PBX itself writes); `MissedCallService` is people's
(authorised, audited, scoped: a user sees the missed calls of its own numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import InvalidInput, NotFound
from core.events import EventBus, MissedCall, MissedCallResolved
from core.models import Call
from core.models import MissedCall as MissedRecord
from core.routing.decisions import Disposition
from core.routing.destinations import to_e164
from core.services.auth import Actor, AuthService, Denied
from core.services.scoping import in_scope
from core.services.validation import row_id

#: the caller's outcomes that count as missed (blocked callers, nonsense numbers and the PBX's own
#: interruptions do not)
MISSED = {
    Disposition.NO_ANSWER.value,
    Disposition.BUSY.value,
    Disposition.UNAVAILABLE.value,
    Disposition.CANCELLED.value,
    Disposition.VOICEMAIL.value,
    Disposition.NO_ROUTE.value,
    Disposition.DISABLED.value,
    Disposition.FAILED.value,
}
SINCE_RE = re.compile(r"^([0-9]{1,4})([hdw])$")
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)  # dates people mean


@dataclass
class CallPath:
    """Where a call went, as the routing loop saw it: the last place (ext:102, group:sales, queue:support,
    ivr:main, voicemail:102), the internal numbers that rang or were meant, and whether a schedule was
    closed on the way."""

    place: str = ""
    numbers: list[str] = field(default_factory=list)
    closed: bool = False
    shared: bool = False  # it went to a group or a queue on the way

    def went(self, place: str, numbers: tuple[str, ...] | list[str] = ()) -> None:
        self.place = place
        self.numbers += [n for n in numbers if n not in self.numbers]
        self.shared = self.shared or place.startswith(("group:", "queue:"))


def missed_reason(call: Call, path: CallPath) -> str | None:
    """Why the call counts as missed (None: it does not)."""
    if call.answered_at is not None or (call.disposition not in MISSED and not path.closed):
        return None
    if call.direction != "inbound" and not path.shared:
        return None  # an internal call to one person is theirs to see, not a missed call of the PBX
    if call.disposition == Disposition.VOICEMAIL.value:
        return "voicemail"
    if path.closed:
        return "closed"
    if call.disposition == Disposition.CANCELLED.value:
        return "abandoned"
    return call.disposition


def missed_to_dict(m: MissedRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "call_id": m.call_id,  # type: ignore[attr-defined]
        "caller": m.caller,
        "caller_name": m.caller_name,
        "callee": m.callee,
        "numbers": list(m.numbers),
        "ended": m.ended,
        "reason": m.reason,
        "waited_seconds": m.waited_seconds,
        "at": m.at.isoformat(),
        "voicemail_id": m.voicemail_id,
        "status": m.status,
        "resolved_by": m.resolved_by or None,
        "resolved_at": m.resolved_at.isoformat() if m.resolved_at else None,
        "resolved_call_id": m.resolved_call_id,
    }


class MissedCalls:
    """Opens missed-call records as calls end, and closes them as calls are answered."""

    def __init__(self, bus: EventBus, country: str = "US") -> None:
        self._bus = bus
        self._country = country

    async def call_ended(self, call: Call, path: CallPath) -> MissedRecord | None:
        reason = missed_reason(call, path)
        if reason is None:
            return None
        record = await MissedRecord.create(
            call=call,
            caller=call.caller,
            caller_name=call.caller_name,
            callee=call.callee,
            numbers=path.numbers,
            ended=path.place,
            reason=reason,
            waited_seconds=call.wait_seconds,
            at=call.started_at,
        )
        await self._bus.publish(
            MissedCall(
                call_id=call.call_id,
                caller=call.caller,
                callee=call.callee,
                caller_name=call.caller_name,
                missed_id=record.id,
                reason=reason,
                ended=path.place,
                waited_seconds=call.wait_seconds,
                numbers=path.numbers,
            )
        )
        return record

    async def call_answered(self, call: Call, answered_by: str) -> int:
        """A call was answered: the open missed calls of the outside party it joined are returned. The
        other party is the caller of an inbound call (they called again), or the number an internal phone
        called (someone called them back)."""
        if call.direction == "inbound":
            other, by = call.caller, answered_by or call.callee
        elif call.direction == "outbound":
            other, by = to_e164(call.callee, self._country) or call.callee, call.caller
        else:  # an internal caller who missed a group or a queue, called back by a colleague
            other, by = call.callee, call.caller
        if not other or other == "anonymous":  # callers without a number are not one another
            return 0
        count = 0
        for record in await MissedRecord.filter(status="open", caller=other).exclude(call_id=call.call_id):
            record.status, record.resolved_by = "returned", by
            record.resolved_at, record.resolved_call_id = datetime.now(UTC), call.call_id
            await record.save(update_fields=["status", "resolved_by", "resolved_at", "resolved_call_id"])
            await self.resolved(record, "returned", by, call.call_id)
            count += 1
        return count

    async def resolved(self, record: MissedRecord, status: str, actor: str, by_call: str | None) -> None:
        await self._bus.publish(
            MissedCallResolved(
                call_id=record.call_id,  # type: ignore[attr-defined]
                caller=record.caller,
                callee=record.callee,
                missed_id=record.id,
                status=status,  # type: ignore[arg-type]
                actor=actor,
                by_call=by_call,
                numbers=list(record.numbers),
            )
        )


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """`today`, `yesterday`, `24h`, `7d`, `2w`, or a date (2026-12-01): the start of the period (UTC)."""
    raw = (text or "").strip().lower()
    if not raw:
        return None
    now = now or datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if raw == "today":
        return midnight
    if raw == "yesterday":
        return midnight - timedelta(days=1)
    if match := SINCE_RE.fullmatch(raw):
        unit = {"h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    moment = moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise InvalidInput(
            f"--since {text!r} must be today, yesterday, a span (24h, 7d, 2w) or a date (2026-12-01)"
        )
    return moment


class MissedCallService:
    """Missed calls as people see them: listed within their scope, marked handled."""

    def __init__(self, auth: AuthService, bus: EventBus) -> None:
        self._auth = auth
        self._missed = MissedCalls(bus)

    async def missed(
        self, actor: Actor, open_only: bool = False, since: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Missed calls, open ones first, newest first within each."""
        await self._auth.authorize(actor, "calls.read", "missed")
        limit = max(1, min(limit, 5000))
        start = parse_since(since)
        numbers = await in_scope(self._auth, actor)
        found: list[MissedRecord] = []
        for status in ("open",) if open_only else ("open", None):  # open ones first, newest first in each
            query = MissedRecord.filter(status="open") if status else MissedRecord.exclude(status="open")
            if start is not None:
                query = query.filter(at__gte=start)
            offset = 0
            while len(found) < limit:  # the scope is a list in each row: filtered here, page by page
                rows = await query.order_by("-at", "-id").offset(offset).limit(500)
                found += [m for m in rows if numbers is None or set(m.numbers) & numbers]
                if len(rows) < 500:
                    break
                offset += 500
        return [missed_to_dict(m) for m in found[:limit]]

    async def handle(self, actor: Actor, missed_id: int | str) -> dict[str, Any]:
        """Mark a missed call handled (by the actor, now)."""
        text = str(missed_id).strip()
        record = await MissedRecord.get_or_none(id=ident) if (ident := row_id(text)) else None
        if record is None:
            await self._auth.authorize(actor, "calls.control", f"missed:{text}")
            raise NotFound(f"missed call {text} does not exist (see pbx missed)")
        await self._auth.authorize(actor, "calls.control", f"missed:{record.id}")
        numbers = await in_scope(self._auth, actor)
        if numbers is not None and not set(record.numbers) & numbers:
            await self._auth.audit(
                actor, "denied:calls.control", f"missed:{record.id}", {"scope": str(actor.scope)}, ok=False
            )
            raise Denied(f"{actor.name} acts on {actor.scope} only: missed call {record.id} is outside it")
        if record.status != "open":
            raise InvalidInput(
                f"missed call {record.id} is {record.status} already (by {record.resolved_by or 'someone'})"
            )
        record.status, record.resolved_by, record.resolved_at = "handled", actor.name, datetime.now(UTC)
        await record.save(update_fields=["status", "resolved_by", "resolved_at"])
        await self._auth.audit(actor, "missed.handle", str(record.id), {"caller": record.caller})
        await self._missed.resolved(record, "handled", actor.name, None)
        return missed_to_dict(record)
