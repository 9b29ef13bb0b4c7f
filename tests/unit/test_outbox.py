"""The outbox and the webhook channel, against a real HTTP receiver: what is sent, signed, in which order,
retried, dead-lettered, sent again; a 410 ends the subscription."""

import asyncio
import time

import pytest

from core.events import CallerBlocked
from core.models import EventRecord, OutboxAttempt, OutboxItem, WebhookSubscription
from core.services.auth import SYSTEM
from pbxtest.webhooks import Receiver
from tests.unit.webhook_pipeline import pipeline


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


async def test_a_call_arrives_signed_in_order_with_its_fields(db, receiver):
    async with pipeline() as p:
        await p.subscribe(receiver, "dial-in,answer,hangup")
        call_id = await p.call(answer="102")
        got = await receiver.until(lambda r: len(r) == 3)
        await recorded("delivered", 3)
    assert all(r.verified for r in got)
    assert [r.data["event"] for r in got] == ["dial-in", "answer", "hangup"]
    assert [r.data["sequence"] for r in got] == [1, 2, 3]
    assert {r.data["call_id"] for r in got} == {call_id}
    assert [r.id for r in got] == [r.data["event_id"] for r in got]  # webhook-id is the event id
    hangup = got[-1].data
    assert hangup["status"] == "answered" and hangup["outcome"] == "answered"
    assert hangup["did"] == "+15557770000" and hangup["direction"] == "in"
    assert hangup["extension"] == "102" and hangup["answered_by"] == "102"
    assert hangup["caller"] == "+15551230001" and hangup["caller_name"] == "ACME"
    assert hangup["duration"] >= hangup["talk_seconds"] >= 0
    assert got[1].data["sub_call_id"] and got[1].data["status"] == "answered"
    assert await OutboxItem.filter(status="delivered").count() == 3


async def test_an_event_and_its_items_are_written_together(db, receiver):
    async with pipeline() as p:
        await p.subscribe(receiver, "caller-blocked")
        receiver.stop()  # nothing is delivered: what is written is what the publish wrote
        event = await p.bus.publish(
            CallerBlocked(call_id="c1", caller="+15550001", callee="+15557770000", reason="blacklist")
        )
        item = await OutboxItem.get(event_id=event.id)
    assert await EventRecord.exists(id=event.id)
    assert item.event_type == "caller-blocked" and item.payload["reason"] == "blacklist"


async def test_a_receiver_that_fails_gets_the_item_again_with_the_same_id(db, receiver):
    receiver.answer = 500
    async with pipeline() as p:
        await p.subscribe(receiver, "hangup")
        await p.call()
        await asyncio.sleep(0.6)
        assert receiver.received and not receiver.delivered()
        receiver.answer = 200
        got = await receiver.until(lambda r: len(r) == 1)
        await recorded("delivered", 1)
    ids = {r.id for r in receiver.received}
    assert len(ids) == 1 and got[0].id in ids  # every attempt carried the same id
    attempts = await OutboxAttempt.all().order_by("id")
    assert [a.status_code for a in attempts][-1] == 200 and 500 in [a.status_code for a in attempts]
    log = await p.services.webhooks.log(SYSTEM, (await WebhookSubscription.first()).id)
    assert log[0]["status_code"] == 200 and log[-1]["status_code"] == 500


async def test_retry_after_of_a_busy_receiver_is_honoured(db, receiver):
    receiver.answer, receiver.headers = 429, {"Retry-After": "1"}
    async with pipeline() as p:
        await p.subscribe(receiver, "hangup")
        await p.call()
        await receiver.until(lambda r: True)
        while not receiver.received:
            await asyncio.sleep(0.02)
        first = receiver.received[0].at
        receiver.answer, receiver.headers = 200, {}
        got = await receiver.until(lambda r: len(r) == 1)
    assert got[0].at - first >= 0.95  # not the 0.05 s backoff: the second the receiver asked for


async def test_items_of_one_call_never_overtake_each_other(db, receiver):
    receiver.answer = 503
    async with pipeline() as p:
        await p.subscribe(receiver, "all")
        await p.call()
        await p.call(caller="+15551230002")
        await asyncio.sleep(0.5)
        receiver.answer = 200
        got = await receiver.until(lambda r: len(r) == 6)
    for call_id in {r.data["call_id"] for r in got}:
        assert [r.data["sequence"] for r in got if r.data["call_id"] == call_id] == [1, 2, 3]


async def test_after_too_many_attempts_an_item_is_dead_and_can_be_sent_again(db, receiver):
    receiver.answer = 500
    async with pipeline(max_attempts=3) as p:
        await p.subscribe(receiver, "hangup")
        await p.call()
        deadline = time.monotonic() + 10
        while not await OutboxItem.filter(status="dead").exists():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        dead = await p.services.outbox.items(SYSTEM, "dead")
        assert len(dead) == 1 and dead[0]["attempts"] == 3 and dead[0]["last_error"] == "HTTP 500"
        receiver.answer = 200
        assert await p.services.outbox.retry(SYSTEM, dead[0]["id"]) == 1
        await receiver.until(lambda r: len(r) == 1)
        assert await p.services.outbox.retry(SYSTEM) == 0  # nothing dead any more


async def test_a_410_ends_the_subscription_and_drops_what_waited_for_it(db, receiver):
    receiver.answer = 410
    async with pipeline() as p:
        sub_id = await p.subscribe(receiver, "all")
        events = p.bus.subscribe()
        await p.call()
        deadline = time.monotonic() + 10
        while (await WebhookSubscription.get(id=sub_id)).active:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        sub = await WebhookSubscription.get(id=sub_id)
        assert "410" in sub.ended_reason
        while await OutboxItem.filter(status="pending").exists():  # one written meanwhile dies at once
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert len(receiver.received) == 1  # nothing was sent after the 410
        ended = [e async for e in _drain(events) if e.type == "WebhookChanged"]
        assert ended and ended[-1].active is False
        assert not p.outbox.wants(CallerBlocked(call_id="c", caller="1", callee="2", reason="blacklist"))


async def test_a_number_subscription_gets_only_that_numbers_calls_and_form_bodies(db, receiver):
    async with pipeline() as p:
        await p.services.extensions.add(SYSTEM, "102", "Bob")
        await p.services.extensions.add(SYSTEM, "103", "Carol")
        new = await p.services.webhooks.add(SYSTEM, receiver.url, "answer", number="103", format="form")
        receiver.secret = new.secret
        await p.channel.load()
        await p.call(answer="102")
        await p.call(answer="103")
        got = await receiver.until(lambda r: len(r) == 1)
        await asyncio.sleep(0.3)
    assert len(receiver.delivered()) == 1 and got[0].verified
    assert got[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert got[0].data["extension"] == "103" and got[0].data["event"] == "answer"


async def test_a_test_event_goes_to_its_subscription_only(db, receiver):
    other = Receiver().start()
    try:
        async with pipeline() as p:
            sub_id = await p.subscribe(receiver, "hangup")
            await p.subscribe(other, "hangup")
            event_id = await p.services.webhooks.test(SYSTEM, sub_id)
            got = await receiver.until(lambda r: len(r) == 1)
            await asyncio.sleep(0.2)
        assert got[0].data["event"] == "test" and got[0].id == str(event_id) and got[0].verified
        assert not other.received
    finally:
        other.stop()


async def recorded(status: str, count: int) -> None:
    """Until `count` items have `status`: the outbox records an answer a moment after it came."""
    deadline = time.monotonic() + 10
    while await OutboxItem.filter(status=status).count() < count:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def _drain(sub):
    while not sub.queue.empty():
        event = sub.queue.get_nowait()
        if event is None:
            return
        yield event


async def test_a_receiver_that_is_down_neither_starves_the_others_nor_is_asked_once_per_item(db, receiver):
    from datetime import UTC, datetime

    down = Receiver().start()
    down.answer = 503
    async with pipeline(backoff_base=0.3, backoff_max=0.6) as p:
        dead_id = await p.subscribe(down, "hangup")
        live_id = await p.subscribe(receiver, "hangup")
        now = datetime.now(UTC)
        rows = [  # 250 items of one call and 30 of as many calls, for the receiver that is down
            OutboxItem(
                channel="webhook", destination=str(dead_id), event_id=i, event_type="hangup",
                ordering_key="c-many" if i < 250 else f"c{i}", payload={"event_id": str(i)},
                next_attempt_at=now,
            )
            for i in range(280)
        ]  # fmt: skip
        await OutboxItem.bulk_create(rows)
        await OutboxItem.create(
            channel="webhook", destination=str(live_id), event_id=999, event_type="hangup",
            ordering_key="c-live", payload={"event_id": "999"}, next_attempt_at=now,
        )  # fmt: skip
        p.outbox.wake()
        got = await receiver.until(lambda r: len(r) == 1, timeout=5)
        await asyncio.sleep(1.0)
    down.stop()
    assert got[0].id == "999"
    # in ~1.2 s with backoff 0.3–0.6 s: one attempt at a time, a handful, not one per item
    assert 1 <= len(down.received) <= 6, len(down.received)
    assert await OutboxItem.filter(destination=str(dead_id), status="pending").count() == 280


async def test_a_queue_subscription_gets_the_calls_that_waited_in_it(db, receiver):
    from core.events import QueueCallerJoined
    from core.models import Queue
    from core.routing import Disposition

    await Queue.create(name="support", number="600")
    async with pipeline() as p:
        new = await p.services.webhooks.add(SYSTEM, receiver.url, "hangup,agent-login", queue="support")
        receiver.secret = new.secret
        await p.channel.load()
        queued = await p.log.start("+15551230001", "", "+15557770000", "inbound")
        await p.bus.publish(
            QueueCallerJoined(call_id=queued.call_id, queue="support", caller="+15551230001", position=1)
        )
        await p.log.finish(queued, Disposition.CANCELLED)
        other = await p.log.start("+15551230002", "", "+15557770000", "inbound")
        await p.log.finish(other, Disposition.NO_ANSWER)
        got = await receiver.until(lambda r: len(r) == 1)
        await asyncio.sleep(0.3)
    assert [r.data["call_id"] for r in receiver.delivered()] == [queued.call_id] and got[0].verified


async def test_a_receiver_named_by_its_host_name_gets_its_host_header(db, receiver):
    async with pipeline() as p:
        new = await p.services.webhooks.add(SYSTEM, f"http://localhost:{receiver.port}/hook", "hangup")
        receiver.secret = new.secret
        await p.channel.load()
        await p.call()
        (got,) = await receiver.until(lambda r: len(r) == 1)
    assert got.headers["host"] == f"localhost:{receiver.port}" and got.verified
