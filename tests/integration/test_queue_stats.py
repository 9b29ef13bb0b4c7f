"""Queue statistics from real queue calls through Asterisk and our app, with `pbx serve` killed (SIGKILL)
and restarted in between: answered fast, answered slow, abandoned early (a short abandon), abandoned
late. The figures match the hand-computed ones, and the restart changes none of them."""

from __future__ import annotations

import asyncio

import pytest

from pbxtest.sipp import SippPhone, place_call
from tests.integration.conftest import PASSWORDS
from tests.integration.test_daemon_restart import daemon_port, daemon_process

pytestmark = pytest.mark.integration


async def queue_figures(daemon) -> dict:
    answer = await daemon.api.get("stats/queues", params={"queue": "support"})
    assert answer.status_code == 200, answer.text
    (figures,) = answer.json()
    return figures


def fixed(figures: dict) -> dict:
    """The figures that do not move with the clock (an open login session grows; the period ends now)."""
    agents = [
        {k: v for k, v in a.items() if k not in ("login_seconds", "pause_seconds")} for a in figures["agents"]
    ]
    return {k: v for k, v in figures.items() if k not in ("to", "agents")} | {"agents": agents}


async def settled(daemon, offered: int) -> dict:
    """The figures once `offered` calls are in them (the projection is at most a moment behind)."""
    async with asyncio.timeout(10):
        while (await queue_figures(daemon))["offered"] < offered:
            await asyncio.sleep(0.2)
    await asyncio.sleep(1.5)  # the agents' talk comes as their calls end, a moment after they leave the queue
    return await queue_figures(daemon)


async def caller(daemon, hold_ms: int):
    result = await place_call("101", PASSWORDS["101"], "600", daemon_port(daemon), hold_ms=hold_ms)
    assert result.ok, result.stderr_tail
    return result


async def paused_for(daemon, seconds: float):
    """The agent is paused when the caller joins, and resumes after `seconds`."""
    await asyncio.sleep(seconds)
    answer = await daemon.api.post("queues/support/agents/102/resume")
    assert answer.status_code == 200, answer.text


async def test_queue_figures_from_real_calls_survive_a_daemon_kill(tmp_path, asterisk_dist):
    async with daemon_process(
        tmp_path, asterisk_dist, stats={"service_level_seconds": 3, "short_abandon_seconds": 2}
    ) as daemon:
        api = daemon.api
        assert (
            await api.put("queues/support", json={"number": "600", "wrapup": 0, "agent_timeout": 10})
        ).is_success
        assert (await api.post("queues/support/agents/102")).status_code == 201
        async with SippPhone("102", PASSWORDS["102"], daemon_port(daemon), "answer"):
            await asyncio.sleep(1)  # the agent's phone is known registered
            await caller(daemon, hold_ms=2500)  # answered fast: the agent is ready
            assert (await api.post("queues/support/agents/102/pause")).is_success
            await asyncio.gather(caller(daemon, hold_ms=7000), paused_for(daemon, 4))  # answered after ~4 s
            before = await settled(daemon, 2)

            daemon.kill()
            daemon.start()
            await daemon.wait_connected()
            assert fixed(await queue_figures(daemon)) == fixed(before)

            assert (await api.post("queues/support/agents/102/pause")).is_success
            await caller(daemon, hold_ms=1000)  # abandoned early (under the 2 s short-abandon threshold)
            await caller(daemon, hold_ms=3500)  # abandoned late
            after = await settled(daemon, 4)
    assert (before["offered"], before["answered"], before["abandoned"]) == (2, 2, 0)
    assert (after["offered"], after["answered"], after["abandoned"], after["short_abandoned"]) == (4, 2, 2, 1)
    assert (after["timed_out"], after["no_agents"], after["waiting"]) == (0, 0, 0)
    assert after["service_level"] == 0.25  # 1 of 4 offered answered within 3 s
    assert after["service_level_of_answered"] == 0.5  # 1 of 2 answered
    assert after["abandon_rate"] == 0.5 and after["abandon_rate_adjusted"] == round(1 / 3, 4)
    assert 3.5 <= after["longest_wait"] <= 5.5  # the slow answer (~4 s) waited longest
    assert 1.8 <= after["average_speed_of_answer"] <= 3.0  # (~0.1 + ~4) / 2
    (agent,) = after["agents"]
    assert (agent["agent"], agent["calls"]) == ("102", 2)
    assert 3.5 <= agent["talk_seconds"] <= 6.0  # ~2.4 s + ~3 s
    assert agent["pause_seconds"] >= 4.0 + 1.0 + 3.5 - 1.0  # paused for the slow call and both abandons
    assert agent["login_seconds"] > 10
