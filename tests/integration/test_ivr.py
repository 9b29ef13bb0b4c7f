"""IVR menus, proven by real SIP calls: the caller's keys travel as RFC 4733 DTMF through Asterisk."""

from __future__ import annotations

import math
import struct
import wave

import pytest

from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration

PROMPT = "sound:demo-congrats"  # about 10 s long: a key pressed cuts it short


def phone(pbx, number, behaviour="answer"):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour)


def call(pbx, dialled, dtmf, hold_ms=2500, scenario="dtmf_caller_bye"):
    return place_call("101", PASSWORDS["101"], dialled, pbx.sip_port, scenario, dtmf=dtmf, hold_ms=hold_ms)


async def menus(pbx, **main):
    """main (number 500): 1 → 102, 2 → the sales menu; sales: 1 → 103."""
    await pbx.daemon.ivrs.save(SYSTEM, "sales", prompt=PROMPT)
    await pbx.daemon.ivrs.set_option(SYSTEM, "sales", "1", "ext:103")
    await pbx.daemon.ivrs.save(SYSTEM, "main", prompt=PROMPT, number="500", **main)
    await pbx.daemon.ivrs.set_option(SYSTEM, "main", "1", "ext:102")
    await pbx.daemon.ivrs.set_option(SYSTEM, "main", "2", "ivr:sales")


def choices(pbx, call_id):
    return [
        (e.reason, e.destination) for e in pbx.events if e.type == "CallRerouted" and e.call_id == call_id
    ]


def answered_by(record):
    return [leg.endpoint for leg in record.legs if leg.role == "callee" and leg.disposition == "answered"]


async def test_a_key_chooses_an_option(pbx):
    await menus(pbx)
    async with phone(pbx, "102") as p102:
        result = await call(pbx, "500", [(1000, "1")])
        assert result.ok, result.stderr_tail
        assert p102.invites_received() == 1
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.disposition) == ("500", "answered")
    assert answered_by(record) == ["PJSIP/102"]
    assert choices(pbx, record.call_id) == [("ivr:main 1", "ext:102")]


async def test_nested_menus(pbx):
    await menus(pbx)
    async with phone(pbx, "103"):
        result = await call(pbx, "500", [(1000, "2"), (1500, "1")])
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert answered_by(record) == ["PJSIP/103"]
    assert choices(pbx, record.call_id) == [("ivr:main 2", "ivr:sales"), ("ivr:sales 1", "ext:103")]


async def test_direct_dial_of_an_internal_number(pbx):
    await menus(pbx, direct_dial=True)  # "1" is an option and begins 101–105: the menu waits for more
    async with phone(pbx, "103"):
        result = await call(pbx, "500", [(1000, "103")])
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert answered_by(record) == ["PJSIP/103"]
    assert choices(pbx, record.call_id) == [("ivr:main 103", "ext:103")]


async def test_invalid_key_then_silence_ends_at_the_fallback(pbx):
    await menus(pbx, attempts=2, timeout=1, fallback="ext:103")
    await pbx.daemon.ivrs.save(SYSTEM, "main", prompt="sound:beep")
    async with phone(pbx, "103"):
        # 9 is no option: "invalid option", the menu again, no key within 1 s: the fallback
        result = await call(pbx, "500", [(600, "9")], hold_ms=6000)
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert answered_by(record) == ["PJSIP/103"]
    assert choices(pbx, record.call_id) == [("ivr:main no choice", "ext:103")]


async def test_caller_hanging_up_in_the_menu(pbx):
    await menus(pbx)
    result = await place_call(
        "101", PASSWORDS["101"], "500", pbx.sip_port, "answered_caller_bye", hold_ms=800
    )
    assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert (record.callee, record.disposition) == ("500", "cancelled")
    assert choices(pbx, record.call_id) == []


async def test_a_menu_ending_at_busy_plays_the_busy_tone_then_hangs_up(pbx):
    await menus(pbx, attempts=1, timeout=1, fallback="busy")
    await pbx.daemon.ivrs.save(SYSTEM, "main", prompt="sound:beep")
    result = await place_call("101", PASSWORDS["101"], "500", pbx.sip_port, "answered_wait_bye", timeout=20)
    assert result.ok, result.stderr_tail  # 200 (the menu), then the PBX's BYE after the tone
    (record,) = await pbx.wait_calls(1)
    assert (record.disposition, record.sip_code) == ("busy", None)  # the caller never got a 486
    assert (record.ended_at - record.started_at).total_seconds() >= 3 + 1  # the menu's second, then the tone
    assert choices(pbx, record.call_id) == [("ivr:main no choice", "busy")]


def tone_wav(path, seconds=2.0, rate=8000):
    """A 440 Hz tone as 8 kHz, 16-bit mono WAV: what an uploaded prompt must be."""
    frames = bytearray()
    for i in range(int(seconds * rate)):
        frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


async def test_an_uploaded_prompt_plays_and_the_repeat_key_replays_the_menu(pbx, tmp_path, caplog):
    await menus(pbx, attempts=1)  # one play only: the repeat key must not count as an attempt
    tone_wav(tmp_path / "greeting.wav")
    view = await pbx.daemon.ivrs.upload_prompt(SYSTEM, "main", tmp_path / "greeting.wav")
    assert view.prompt.startswith("sound:/")
    async with phone(pbx, "102"):
        result = await call(pbx, "500", [(1000, "*"), (1500, "1")])
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert answered_by(record) == ["PJSIP/102"]
    assert choices(pbx, record.call_id) == [("ivr:main 1", "ext:102")]
    assert "could not be played" not in caplog.text  # Asterisk found and played the uploaded file


async def test_a_prompt_that_cannot_be_played_is_reported(pbx, caplog):
    await menus(pbx)
    await pbx.daemon.ivrs.save(SYSTEM, "main", prompt="sound:no-such-sound-file")
    async with phone(pbx, "102"):
        result = await call(pbx, "500", [(1500, "1")])
        assert result.ok, result.stderr_tail  # the menu still works: the caller's keys still count
    assert "IVR main: its prompt sound:no-such-sound-file could not be played" in caplog.text


async def test_a_menu_choice_leads_into_a_queue(pbx):
    await pbx.daemon.queues.save(SYSTEM, "support", agent_timeout=3)
    await pbx.daemon.queues.add_agent(SYSTEM, "support", "103")
    await menus(pbx)
    await pbx.daemon.ivrs.set_option(SYSTEM, "main", "3", "queue:support")
    async with phone(pbx, "103"):
        result = await call(pbx, "500", [(1000, "3")])
        assert result.ok, result.stderr_tail
    (record,) = await pbx.wait_calls(1)
    assert answered_by(record) == ["PJSIP/103"]
    assert choices(pbx, record.call_id) == [("ivr:main 3", "queue:support")]
    left = [(e.reason, e.agent) for e in pbx.events if e.type == "QueueCallerLeft"]
    assert left == [("answered", "103")]
