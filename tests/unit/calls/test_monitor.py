"""Supervisors on calls against a fake Asterisk: listen and whisper (a snoop on the party, bridged with the
supervisor's phone), barge (the phone joins the call's bridge); a supervisor leaves when it hangs up or
when the call ends."""

from __future__ import annotations

import pytest

from core.calls.steps.bridge import CallNotUp
from core.errors import Conflict, InvalidInput
from core.routing.forwarding import ExtensionInfo
from tests.unit.calls.fake_ari import CallLab, FakeLookups
from tests.unit.calls.test_call_control import _answered

pytestmark = pytest.mark.usefixtures("db")


def _lab() -> CallLab:
    phones = {n: ExtensionInfo(n, f"Phone {n}") for n in ("101", "102", "104", "105")}
    return CallLab(FakeLookups(phones=phones), online=("101", "102", "105"))


def _supervisor_answers(lab: CallLab, monitor_id: str) -> str:
    channel = lab.ari.sent("originate")[-1][1]
    lab.send({"type": "StasisStart", "args": ["monitor", monitor_id], "channel": {"id": channel}})
    return channel


@pytest.mark.parametrize(("mode", "whisper"), [("listen", "none"), ("whisper", "out")])
async def test_listen_and_whisper_bridge_the_supervisor_with_a_snoop_on_the_party(mode, whisper):
    lab = await _lab().start()
    call_id, _caller, callee = await _answered(lab)
    monitor_id = await lab.manager.control.listen(call_id, "105", mode, "callee")
    endpoint, _, app_args, _, _, _ = lab.ari.sent("originate")[-1]
    assert (endpoint, app_args) == ("PJSIP/105", f"monitor,{monitor_id}")
    supervisor = _supervisor_answers(lab, monitor_id)
    (snoop,) = await lab.until(lambda: lab.ari.sent("snoop"))
    assert (snoop[0], snoop[2], snoop[3], snoop[4]) == (callee, "both", whisper, f"snoop,{monitor_id}")
    lab.send({"type": "StasisStart", "args": ["snoop", monitor_id], "channel": {"id": snoop[1]}})
    await lab.until(lambda: len(lab.ari.sent("add_to_bridge")) == 2)
    assert lab.ari.sent("add_to_bridge")[1] == (f"pbx-bridge-monitor-{monitor_id}", [supervisor, snoop[1]])
    lab.hang_up(supervisor)  # the supervisor leaves; the call goes on
    await lab.until(lambda: (snoop[1], "normal") in lab.ari.sent("hangup"))
    assert (f"pbx-bridge-monitor-{monitor_id}",) in lab.ari.sent("destroy_bridge")
    assert lab.manager.live[call_id].state == "up"
    lab.hang_up(callee)
    (call,) = await lab.finished()
    assert call.disposition == "answered"


async def test_barge_joins_the_calls_bridge_and_the_supervisor_leaves_with_the_call():
    lab = await _lab().start()
    call_id, caller, _callee = await _answered(lab)
    monitor_id = await lab.manager.control.listen(call_id, "105", "barge", "callee")
    supervisor = _supervisor_answers(lab, monitor_id)
    await lab.until(lambda: len(lab.ari.sent("add_to_bridge")) == 2)
    assert lab.ari.sent("add_to_bridge")[1] == (f"pbx-bridge-{call_id}", [supervisor])
    assert lab.ari.sent("snoop") == []
    lab.hang_up(caller)
    await lab.finished()
    assert (supervisor, "normal") in lab.ari.sent("hangup")
    assert lab.manager.monitors.active == {}


async def test_what_cannot_be_listened_to_is_refused():
    lab = await _lab().start()
    call_id, _, _ = await _answered(lab)
    control = lab.manager.control
    with pytest.raises(Conflict, match="102 is on call"):
        await control.listen(call_id, "102", "listen", "callee")
    with pytest.raises(Conflict, match="104 has no phone registered"):
        await control.listen(call_id, "104", "listen", "callee")
    with pytest.raises(InvalidInput, match="listen, whisper or barge"):
        await control.listen(call_id, "105", "spy", "callee")
    assert len(lab.ari.sent("originate")) == 1
    for task in lab.manager._tasks:
        task.cancel()


async def test_a_call_not_answered_cannot_be_listened_to():
    lab = await _lab().start()
    lab.call("101", "102")
    await lab.dialled()
    (call_id,) = lab.manager.live
    with pytest.raises(CallNotUp, match="nothing to listen to yet"):
        await lab.manager.control.listen(call_id, "105", "listen", "callee")
    for task in lab.manager._tasks:
        task.cancel()
