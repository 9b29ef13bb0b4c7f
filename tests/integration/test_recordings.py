"""Call recording by policy and on demand, proven by real calls (the caller plays audio into the call)."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from core.errors import PermissionDenied
from core.models import Recording
from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


def file_size(path: str) -> int:
    return Path(path).stat().st_size


def call(pbx, hold_ms):
    return place_call("101", PASSWORDS["101"], "102", pbx.sip_port, "answered_caller_bye", hold_ms=hold_ms)


async def test_always_record_policy_records_and_indexes_the_call(pbx):
    await pbx.daemon.recordings.set_policy(SYSTEM, "ext:102", "always")
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
        result = await call(pbx, 2000)
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    async with asyncio.timeout(5):
        while not await Recording.filter(call_id=record.call_id).exists():
            await asyncio.sleep(0.05)
    recording = await Recording.get(call_id=record.call_id)
    assert file_size(recording.path) == recording.size > 1000
    with wave.open(recording.path) as wav:  # a real WAV file, about as long as the conversation
        assert wav.getframerate() == 8000
    assert 1.0 <= recording.duration <= record.duration + 0.5
    assert any(e.type == "RecordingSaved" and e.call_id == record.call_id for e in pbx.events)


async def test_calls_are_not_recorded_by_default(pbx):
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
        assert (await call(pbx, 500)).ok
    await pbx.wait_calls(1)
    await asyncio.sleep(0.5)
    assert await Recording.all().count() == 0


async def test_on_demand_recording(pbx):
    async with SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer"):
        # never: a request to record is refused
        refused = asyncio.create_task(call(pbx, 2000))
        call_id = await wait_answered(pbx)
        with pytest.raises(PermissionDenied, match="recording policy is never"):
            await pbx.daemon.start_recording(call_id)
        assert (await refused).ok
        # on demand: recorded from the request on
        await pbx.daemon.recordings.set_policy(SYSTEM, "ext:101", "on_demand")
        asked = asyncio.create_task(call(pbx, 2500))
        call_id = await wait_answered(pbx, skip=1)
        await asyncio.sleep(0.5)
        await pbx.daemon.start_recording(call_id)
        assert (await asked).ok
    _, recorded = await pbx.wait_calls(2)
    async with asyncio.timeout(5):
        while not await Recording.filter(call_id=recorded.call_id).exists():
            await asyncio.sleep(0.05)
    assert await Recording.all().count() == 1
    recording = await Recording.get(call_id=recorded.call_id)
    assert 0.5 <= recording.duration < recorded.duration  # it started after the answer


async def wait_answered(pbx, skip=0):
    """The CallID of the (skip+1)-th call to be answered."""
    async with asyncio.timeout(10):
        while True:
            answered = [e.call_id for e in pbx.events if e.type == "CallAnswered"]
            if len(answered) > skip:
                return answered[skip]
            await asyncio.sleep(0.05)
