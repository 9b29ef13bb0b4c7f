"""Voicemail against a fake Asterisk: the greeting, the recording, the message reported when it ends."""

from __future__ import annotations

import pytest

from core.routing.decisions import ForwardCondition
from core.routing.destinations import Destination, DestinationKind
from core.routing.forwarding import ExtensionInfo, ForwardRule
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


async def test_an_unanswered_call_forwarded_to_voicemail_takes_a_message():
    rule = ForwardRule(Destination(DestinationKind.VOICEMAIL, "102"))
    phones = {
        "101": ExtensionInfo("101"),
        "102": ExtensionInfo("102", forwarding={ForwardCondition.NO_ANSWER: rule}),
    }
    lab = await CallLab(FakeLookups(phones=phones), ring_timeout=1, online=("101", "102")).start()
    caller = lab.call("101", "102")
    await lab.dialled()
    await lab.until(lambda: lab.ari.sent("record_channel"))
    assert lab.ari.sent("answer") == [(caller,)]
    assert (caller, "sound:vm-intro", None) in lab.ari.sent("play")
    (channel, name, fmt, max_seconds, max_silence) = lab.ari.sent("record_channel")[0]
    assert (channel, fmt, max_seconds, max_silence) == (caller, "wav", 180, 10)
    lab.hang_up(caller)
    (call,) = await lab.finished()
    assert call.disposition == "voicemail"
    assert lab.lookups.reported == [("voicemail_done", ("102", "101", name))]
    assert lab.event_types(call.call_id)[-1] == "CallEnded"
