"""The event latency benchmark keeps working (its figures are read, never asserted here)."""

import pytest

from bench.webhook_latency import TITLE, main

pytestmark = pytest.mark.integration

CALLS = 10
EVENTS_PER_CALL = 3  # internal, answer, hangup


async def test_webhook_latency_benchmark_measures_every_delivered_event(capsys):
    figures = await main(calls=CALLS, rate=5)
    out = capsys.readouterr().out
    assert TITLE in out
    assert figures["events"] == CALLS * EVENTS_PER_CALL
    assert figures["webhook"]["count"] == CALLS * EVENTS_PER_CALL > 0
    assert figures["websocket"]["count"] == CALLS * EVENTS_PER_CALL
