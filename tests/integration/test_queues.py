"""Call queues, proven by real SIP calls: callers wait (music on hold), agents are rung by strategy,
local agents are phones, remote agents are outside numbers reached through the carrier sipp."""

from __future__ import annotations

import asyncio

import pytest

from core.models import Recording
from core.services.auth import SYSTEM
from pbxtest.sipp import SippCarrier, SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


def phone(pbx, number, behaviour="answer"):
    return SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour)


def call(pbx, hold_ms, caller="101", dialled="600", scenario="answered_caller_bye"):
    return place_call(caller, PASSWORDS[caller], dialled, pbx.sip_port, scenario, hold_ms=hold_ms)


async def support(pbx, agents, **settings):
    settings = {"number": "600", "strategy": "top_down", "agent_timeout": 2, "wrapup": 1, **settings}
    await pbx.daemon.queues.save(SYSTEM, "support", **settings)
    for number in agents:
        await pbx.daemon.queues.add_agent(SYSTEM, "support", number)


def callee_legs(record):
    return [
        (leg.endpoint, leg.disposition)
        for leg in sorted(record.legs, key=lambda g: g.started_at)
        if leg.role == "callee"
    ]


def agent_states(pbx, agent):
    return [e.state for e in pbx.events if e.type == "QueueAgentStateChanged" and e.agent == agent]


def queue_events(pbx, call_id):
    return [
        (e.type, getattr(e, "position", None) or getattr(e, "reason", None), getattr(e, "agent", None))
        for e in pbx.events
        if e.type.startswith("QueueCaller") and e.call_id == call_id
    ]


async def until(predicate, timeout=10.0):
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_answered_by_the_second_agent_after_the_first_rings_out(pbx):
    await support(pbx, ["102", "103"])
    async with phone(pbx, "102", "ring"), phone(pbx, "103"):
        await until(lambda: agent_states(pbx, "103")[-1:] == ["ready"])
        result = await call(pbx, hold_ms=5000)
        assert result.ok, result.stderr_tail
        assert result.codes_seen[-1] == 200  # the queue answers the caller at once (music on hold)
        (record,) = await pbx.wait_calls(1)
        await until(lambda: agent_states(pbx, "103")[-1:] == ["ready"])  # after its wrap-up
        states = {n: agent_states(pbx, n) for n in ("102", "103")}
    assert (record.callee, record.disposition) == ("600", "answered")
    assert callee_legs(record) == [("PJSIP/102", "no_answer"), ("PJSIP/103", "answered")]
    assert queue_events(pbx, record.call_id) == [
        ("QueueCallerJoined", 1, None),
        ("QueueCallerLeft", "answered", "103"),
    ]
    assert states["102"] == ["unregistered", "ready", "ringing", "delayed"]
    assert states["103"] == ["unregistered", "ready", "ringing", "in_queue_call", "wrapup", "ready"]


async def test_a_remote_agent_is_called_through_the_trunk(pbx):
    async with SippCarrier("answer") as carrier:
        await pbx.daemon.trunks.add(SYSTEM, "carrier", carrier.ip, carrier.port, "+15550001000")
        await support(pbx, ["+1 555 765 4321"])
        result = await call(pbx, hold_ms=2000)
        assert result.ok, result.stderr_tail
        (invite,) = await carrier.wait_invites(1)
    assert (invite.uri_user, invite.from_user) == ("+15557654321", "+15550001000")
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("PJSIP/trunk-carrier/+15557654321", "answered")]
    assert queue_events(pbx, record.call_id)[-1] == ("QueueCallerLeft", "answered", "+15557654321")


async def test_callers_are_served_in_order_and_may_give_up(pbx):
    await support(pbx, ["102"], announce_every=1)
    await pbx.daemon.queues.pause(SYSTEM, "support", "102")
    async with phone(pbx, "102"):
        first = asyncio.ensure_future(call(pbx, hold_ms=4000))
        await until(lambda: any(e.type == "QueueCallerJoined" for e in pbx.events))
        second = asyncio.ensure_future(call(pbx, hold_ms=2500, caller="103"))
        await until(lambda: sum(e.type == "QueueCallerJoined" for e in pbx.events) == 2)
        await asyncio.sleep(1.5)  # both hear music and their position
        await pbx.daemon.queues.pause(SYSTEM, "support", "102", paused=False)
        assert (await first).ok and (await second).ok
    a, b = await pbx.wait_calls(2)
    assert (a.caller, a.disposition, callee_legs(a)) == ("101", "answered", [("PJSIP/102", "answered")])
    assert (b.caller, b.disposition, callee_legs(b)) == ("103", "cancelled", [])
    assert queue_events(pbx, a.call_id) == [
        ("QueueCallerJoined", 1, None),
        ("QueueCallerLeft", "answered", "102"),
    ]
    assert queue_events(pbx, b.call_id) == [
        ("QueueCallerJoined", 2, None),
        ("QueueCallerLeft", "abandoned", None),
    ]
    paused = [e.paused for e in pbx.events if e.type == "QueueAgentPaused"]
    assert paused == [True, False]


async def test_overflow_after_the_longest_wait_and_when_nobody_is_logged_in(pbx):
    await support(pbx, ["102"], max_wait=5, overflow="ext:103")
    await pbx.daemon.queues.save(SYSTEM, "support", agent_timeout=1)
    async with phone(pbx, "102", "ring"), phone(pbx, "103"):
        waited = await call(pbx, hold_ms=7000)
        assert waited.ok, waited.stderr_tail
        await pbx.daemon.queues.login(SYSTEM, "support", "102", logged_in=False)
        nobody = await call(pbx, hold_ms=500)
        assert nobody.ok, nobody.stderr_tail
    first, second = await pbx.wait_calls(2)
    assert callee_legs(first)[-1] == ("PJSIP/103", "answered")
    assert queue_events(pbx, first.call_id)[-1] == ("QueueCallerLeft", "timeout", None)
    assert callee_legs(second) == [("PJSIP/103", "answered")]  # straight on: nobody to wait for
    assert queue_events(pbx, second.call_id) == []
    forwards = [(e.number, e.condition, e.destination) for e in pbx.events if e.type == "CallForwarded"]
    assert forwards == [
        ("queue:support", "no_answer", "ext:103"),
        ("queue:support", "unavailable", "ext:103"),
    ]
    assert agent_states(pbx, "102")[-1] == "logged_out"


async def test_a_queue_that_records_its_calls(pbx):
    await support(pbx, ["102"])
    await pbx.daemon.recordings.set_policy(SYSTEM, "queue:support", "always")
    async with phone(pbx, "102"):
        result = await call(pbx, hold_ms=2000)
        assert result.ok, result.stderr_tail
        (record,) = await pbx.wait_calls(1)
    async with asyncio.timeout(5):
        while not await Recording.filter(call_id=record.call_id).exists():
            await asyncio.sleep(0.05)
    recording = await Recording.get(call_id=record.call_id)
    assert recording.size > 1000 and 0.5 <= recording.duration <= record.duration + 0.5
    assert any(e.type == "RecordingSaved" and e.call_id == record.call_id for e in pbx.events)


async def test_an_agent_on_another_call_is_busy_elsewhere(pbx):
    await support(pbx, ["102"])
    async with phone(pbx, "102"):
        await until(lambda: agent_states(pbx, "102")[-1:] == ["ready"])
        direct = asyncio.ensure_future(call(pbx, hold_ms=1500, caller="104", dialled="102"))
        await until(lambda: agent_states(pbx, "102")[-1:] == ["busy_elsewhere"])
        assert (await direct).ok
        await until(lambda: agent_states(pbx, "102")[-1:] == ["ready"])
        assert agent_states(pbx, "102") == ["unregistered", "ready", "busy_elsewhere", "ready"]
