"""Internal number groups and their ring strategies, proven by real SIP calls.

Calls reach the group the way users set it up: 105 forwards everything to group:sales.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


async def make_group(pbx, members, **settings):
    await pbx.daemon.groups.save(SYSTEM, "sales", **settings)
    await pbx.daemon.groups.set_members(SYSTEM, "sales", members)
    await pbx.daemon.forwarding.set(SYSTEM, "105", "always", "group:sales")


@contextlib.asynccontextmanager
async def phones(pbx, **behaviours):
    async with contextlib.AsyncExitStack() as stack:
        yield {
            number: await stack.enter_async_context(
                SippPhone(number, PASSWORDS[number], pbx.sip_port, behaviour)
            )
            for number, behaviour in behaviours.items()
        }


def call_group(pbx, scenario="answered_caller_bye", **kw):
    return place_call(
        "101", PASSWORDS["101"], "105", pbx.sip_port, scenario, hold_ms=kw.pop("hold_ms", 300), **kw
    )


def callee_legs(record):
    legs = sorted((leg for leg in record.legs if leg.role == "callee"), key=lambda g: g.started_at)
    return [(leg.endpoint.removeprefix("PJSIP/"), leg.disposition) for leg in legs]


async def test_ring_all_the_first_to_answer_takes_the_call(pbx):
    await make_group(pbx, ["102", "103"], strategy="ring_all")
    async with phones(pbx, **{"102": "ring", "103": "answer"}) as p:
        result = await call_group(pbx)
        assert result.ok, result.stderr_tail
        await asyncio.sleep(0.3)
        assert "CANCEL" in p["102"].message_log()  # stopped ringing when 103 answered
    (record,) = await pbx.wait_calls(1)
    assert sorted(callee_legs(record)) == [("102", "answered_elsewhere"), ("103", "answered")]


async def test_hunt_goes_on_when_a_member_is_busy_or_does_not_answer(pbx):
    await make_group(pbx, ["102", "103", "104"], strategy="hunt", member_timeout=2)
    async with phones(pbx, **{"102": "busy", "103": "ring", "104": "answer"}):
        started = asyncio.get_running_loop().time()
        result = await call_group(pbx)
        elapsed = asyncio.get_running_loop().time() - started
        assert result.ok, result.stderr_tail
    assert elapsed >= 2  # 103 rang for its 2 s first
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("102", "busy"), ("103", "no_answer"), ("104", "answered")]


async def test_round_robin_remembers_where_it_started(pbx):
    await make_group(pbx, ["102", "103", "104"], strategy="round_robin")
    async with phones(pbx, **{"102": "answer", "103": "answer", "104": "answer"}):
        for _ in range(4):
            result = await call_group(pbx)
            assert result.ok, result.stderr_tail
    records = await pbx.wait_calls(4)
    assert [callee_legs(r)[0][0] for r in records] == ["102", "103", "104", "102"]


async def test_least_recent_rings_the_one_rung_longest_ago(pbx):
    await make_group(pbx, ["102", "103", "104"], strategy="least_recent")
    async with phones(pbx, **{"102": "answer", "103": "answer", "104": "answer"}):
        for _ in range(3):
            assert (await call_group(pbx)).ok
    records = await pbx.wait_calls(3)
    assert [callee_legs(r)[0][0] for r in records] == ["102", "103", "104"]


async def test_members_who_cannot_take_calls_are_skipped_and_the_fallback_answers(pbx):
    await make_group(pbx, ["102", "103"], strategy="hunt", fallback="ext:104")
    await pbx.daemon.forwarding.set_dnd(SYSTEM, "103", True)
    async with phones(pbx, **{"103": "answer", "104": "answer"}) as p:  # 102 is not even registered
        result = await call_group(pbx)
        assert result.ok, result.stderr_tail
        assert p["103"].invites_received() == 0
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("104", "answered")]


async def test_group_timeout_ends_in_the_fallback(pbx):
    await make_group(pbx, ["102", "103"], strategy="hunt", member_timeout=10, timeout=3, fallback="ext:104")
    async with phones(pbx, **{"102": "ring", "103": "ring", "104": "answer"}) as p:
        started = asyncio.get_running_loop().time()
        result = await call_group(pbx)
        elapsed = asyncio.get_running_loop().time() - started
        assert result.ok, result.stderr_tail
        assert p["103"].invites_received() == 0  # the group's 3 s ran out while 102 rang
    assert 3 <= elapsed < 8
    (record,) = await pbx.wait_calls(1)
    assert callee_legs(record) == [("102", "no_answer"), ("104", "answered")]
    forwards = [(e.number, e.destination) for e in pbx.events if e.type == "CallForwarded"]
    assert forwards == [("105", "group:sales"), ("group:sales", "ext:104")]


async def test_a_busy_group_without_fallback_tells_the_caller_busy(pbx):
    await make_group(pbx, ["102", "103"], strategy="ring_all")
    async with phones(pbx, **{"102": "busy", "103": "busy"}):
        result = await call_group(pbx, "expect_failure")
    assert result.ok and result.final_code == 486
    (record,) = await pbx.wait_calls(1)
    assert sorted(callee_legs(record)) == [("102", "busy"), ("103", "busy")]
