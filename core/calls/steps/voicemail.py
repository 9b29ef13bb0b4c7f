"""Voicemail: answer, play the greeting, record the caller's message until they hang up (or press #)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.calls.flow import CallFlow
from core.calls.media import answer_caller
from core.routing import Disposition

VOICEMAIL_MAX_SECONDS = 180  # a message longer than this is cut
VOICEMAIL_MAX_SILENCE = 10  # seconds of silence that end a message


async def voicemail(flow: CallFlow, mailbox: str) -> None:
    """Take a message for `mailbox`; the call is over when this returns."""
    name = f"vm-{flow.live.call_id}"
    await answer_caller(flow)
    flow.live.state, flow.live.answered_at = "voicemail", datetime.now(UTC)
    # ARI runs a channel's operations in order: the recording starts when the greeting ends
    await flow.client.play(flow.caller_id, "sound:vm-intro")
    await flow.client.record_channel(
        flow.caller_id, name, flow.deps.recording_format, VOICEMAIL_MAX_SECONDS, VOICEMAIL_MAX_SILENCE
    )
    while not flow.caller_left(event := await flow.events.get()):
        pass
    await flow.records.end_leg(flow.caller_id, Disposition.VOICEMAIL.value, event.get("cause"))
    call = await flow.records.finish(Disposition.VOICEMAIL)
    await flow.deps.reports.voicemail_done(call, mailbox, flow.caller_number, name)
