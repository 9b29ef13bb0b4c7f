"""Recording against a fake Asterisk: by policy when answered, on demand through call control."""

from __future__ import annotations

import pytest

from core.calls import CallNotUp
from core.errors import PermissionDenied
from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups

pytestmark = pytest.mark.usefixtures("db")


def _lab(recording: str) -> CallLab:
    phones = {"101": ExtensionInfo("101"), "102": ExtensionInfo("102", recording=recording)}
    return CallLab(FakeLookups(phones=phones), online=("101", "102"))


async def _answered(lab: CallLab) -> tuple[str, str, str]:
    caller = lab.call("101", "102")
    (callee,) = await lab.dialled()
    lab.answer(callee)
    await lab.until(lambda: [c for c in lab.manager.live.values() if c.state == "up"])
    return caller, callee, next(iter(lab.manager.live))


async def test_a_number_recorded_always_is_recorded_from_the_answer_and_indexed_at_the_end():
    lab = await _lab("always").start()
    caller, _, call_id = await _answered(lab)
    assert lab.ari.sent("record_bridge") == [(f"pbx-bridge-{call_id}", call_id, "wav")]
    lab.hang_up(caller)
    await lab.finished()
    assert lab.lookups.reported == [("recording_done", call_id)]


async def test_on_demand_recording_starts_when_asked_and_stops_when_asked():
    lab = await _lab("on_demand").start()
    caller, _, call_id = await _answered(lab)
    assert lab.ari.sent("record_bridge") == []
    assert await lab.manager.control.start_recording(call_id) == call_id
    assert await lab.manager.control.start_recording(call_id) == call_id  # idempotent
    assert len(lab.ari.sent("record_bridge")) == 1
    await lab.manager.control.stop_recording(call_id)
    assert lab.ari.sent("stop_recording") == [(call_id,)]
    lab.hang_up(caller)
    await lab.finished()


async def test_a_call_whose_policy_is_never_may_not_be_recorded():
    lab = await _lab("never").start()
    caller, _, call_id = await _answered(lab)
    with pytest.raises(PermissionDenied, match="recording policy is never"):
        await lab.manager.control.start_recording(call_id)
    lab.hang_up(caller)
    await lab.finished()


async def test_a_call_still_ringing_cannot_be_recorded():
    lab = await _lab("on_demand").start()
    caller = lab.call("101", "102")
    await lab.dialled()
    flow = lab.manager.table.get(caller)
    flow.policy = flow.recording_policy("102")
    with pytest.raises(CallNotUp):
        await lab.manager.control.start_recording(flow.live.call_id)
    lab.hang_up(caller)
    await lab.finished()
