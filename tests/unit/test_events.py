"""The event bus persists before it publishes, and events round-trip through JSON."""

import pytest

from core.events import CallEnded, CallStarted, EventBus, parse_event
from core.models import EventRecord


async def test_publish_persists_first_then_delivers(db):
    bus = EventBus()
    seen_in_db = []

    def handler(event):
        seen_in_db.append(event.id)

    bus.add_handler(handler)
    sub = bus.subscribe()
    event = await bus.publish(CallStarted(call_id="c1", caller="101", callee="102"))
    assert event.id is not None and seen_in_db == [event.id]
    row = await EventRecord.get(id=event.id)
    assert (row.type, row.call_id, row.payload["caller"]) == ("CallStarted", "c1", "101")
    assert sub.queue.get_nowait() is event


async def test_broken_handler_does_not_stop_delivery(db):
    bus = EventBus()
    bus.add_handler(lambda e: 1 / 0)
    sub = bus.subscribe()
    await bus.publish(CallEnded(call_id="c1", caller="101", callee="102", disposition="busy", sip_code=486))
    assert sub.queue.get_nowait().disposition == "busy"


async def test_slow_subscriber_is_cut_off(db):
    bus = EventBus()
    sub = bus.subscribe(maxsize=2)
    for i in range(5):
        await bus.publish(CallStarted(call_id=f"c{i}", caller="101", callee="102"))
    assert sub.overflowed
    received = [e.call_id async for e in sub]  # iteration ends: the client must resync
    assert received == ["c1"]  # what was queued before the cut, minus room for the end marker


def test_parse_event_round_trip():
    event = CallEnded(call_id="c1", caller="101", callee="102", disposition="answered", duration=3.5)
    again = parse_event(event.model_dump_json())
    assert again == event


def test_parse_event_rejects_unknown_type():
    with pytest.raises(ValueError):
        parse_event({"type": "Nope"})
