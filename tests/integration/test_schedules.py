"""Schedules send real calls to the open or the closed destination (the override makes the test clock-proof;
the clock itself is covered by the routing table tests)."""

from __future__ import annotations

import pytest

from core.models import EventRecord
from core.services.auth import SYSTEM
from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS

pytestmark = pytest.mark.integration


async def test_schedule_sends_calls_by_opening_state(pbx):
    schedules = pbx.daemon.services.schedules
    await schedules.save(SYSTEM, "office", timezone="Europe/Berlin", open_to="ext:102", closed_to="ext:103")
    await schedules.set_hours(SYSTEM, "office", [("mon-fri", "09:00-17:00")])
    await pbx.daemon.forwarding.set(SYSTEM, "105", "always", "schedule:office")
    async with (
        SippPhone("102", PASSWORDS["102"], pbx.sip_port, "answer") as p102,
        SippPhone("103", PASSWORDS["103"], pbx.sip_port, "answer") as p103,
    ):
        for state in ("open", "closed"):
            await schedules.set_override(SYSTEM, "office", state)
            result = await place_call(
                "101", PASSWORDS["101"], "105", pbx.sip_port, "answered_caller_bye", hold_ms=300
            )
            assert result.ok, result.stderr_tail
        assert (p102.invites_received(), p103.invites_received()) == (1, 1)
    opened, closed = await pbx.wait_calls(2)
    reroutes = [
        (await EventRecord.get(call_id=c.call_id, type="CallRerouted")).payload for c in (opened, closed)
    ]
    assert [(r["reason"], r["destination"]) for r in reroutes] == [
        ("schedule:office open", "ext:102"),
        ("schedule:office closed", "ext:103"),
    ]
