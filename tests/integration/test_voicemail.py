"""Voicemail: a caller forwarded to a mailbox hears the greeting and leaves a message (real audio)."""

from __future__ import annotations

import asyncio
import wave

import pytest

from core.models import Voicemail
from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


async def test_busy_number_sends_the_caller_to_voicemail(pbx):
    await pbx.daemon.forwarding.set(SYSTEM, "102", "busy", "voicemail:102")
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "busy"):
        # the greeting (vm-intro, 5.7 s) and the beep play first; the caller's audio (g711a.pcap, ~8 s from
        # the answer) goes on a little longer, then it is quiet until the caller hangs up at 9 s
        result = await place_call(
            "101", PASSWORDS["101"], "102", pbx.sip_port, "answered_caller_bye", hold_ms=9000
        )
        assert result.ok, result.stderr_tail  # the PBX answered the caller
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.callee) == ("voicemail", "102")
    async with asyncio.timeout(5):
        while not await Voicemail.filter(mailbox="102").exists():
            await asyncio.sleep(0.05)
    message = await Voicemail.get(mailbox="102")
    assert message.caller == "101" and message.size > 1000
    with wave.open(message.path) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds == pytest.approx(message.duration, abs=0.05)
    # what was said after the beep, trailing silence trimmed: not the greeting, not the quiet end
    assert 0.5 <= message.duration <= 9.0 - 5.5
    left = [e for e in pbx.events if e.type == "VoicemailLeft"]
    assert [(e.mailbox, e.call_id) for e in left] == [("102", record.call_id)]


async def test_voicemail_as_an_inbound_or_unavailable_destination_must_exist(pbx):
    from core.errors import NotFound

    with pytest.raises(NotFound, match="internal number 555"):
        await pbx.daemon.forwarding.set(SYSTEM, "102", "unavailable", "voicemail:555")
