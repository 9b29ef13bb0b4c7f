"""Call queues and their agents."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Queue(Model):
    """A call queue: callers wait with music on hold until an agent of the queue answers."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    number = fields.CharField(max_length=4, null=True, unique=True)  # an internal number that reaches it
    strategy = fields.CharField(max_length=24, default="ring_all")
    agent_timeout = fields.IntField(default=15)  # seconds an agent rings
    max_wait = fields.IntField(default=300)  # seconds a caller waits before the overflow
    overflow = fields.CharField(max_length=64, default="hangup")  # after max_wait, or with no agent
    wrapup = fields.IntField(default=5)  # seconds an agent rests after a queue call
    announce_every = fields.IntField(default=30)  # seconds between position announcements (0 = never)
    music = fields.CharField(max_length=32, default="default")  # music on hold class
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    agents: fields.ReverseRelation[QueueAgent]

    def __str__(self) -> str:
        return f"queue:{self.name}"


class QueueAgent(Model):
    """An agent of a queue: an internal number (local) or an outside number dialled by trunk (remote)."""

    id = fields.IntField(primary_key=True)
    queue: fields.ForeignKeyRelation[Queue] = fields.ForeignKeyField(
        "pbx.Queue", related_name="agents", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=20)  # internal number, or E.164 for a remote agent
    remote = fields.BooleanField(default=False)
    position = fields.IntField()  # order, for top-down and sequential strategies
    timeout = fields.IntField(null=True)  # own ring time, else the queue agent timeout
    wrapup = fields.IntField(null=True)  # own wrap-up, else the queue wrap-up
    delay_busy = fields.IntField(default=10)  # seconds not offered calls after being busy
    delay_no_answer = fields.IntField(default=10)  # after not answering
    delay_reject = fields.IntField(default=30)  # after declining a call
    logged_in = fields.BooleanField(default=True)
    paused = fields.BooleanField(default=False)

    class Meta:
        unique_together = (("queue", "number"),)

    def __str__(self) -> str:
        return f"agent {self.number}"


class QueueCall(Model):
    """One caller's stay in a queue, for statistics: joined at `position`, then answered after
    `waited_seconds` by `agent` (who talked `talk_seconds`), or abandoned, timed out, left for want of
    agents (both overflow) or redirected. Written from the event log (core/services/queue_stats.py)."""

    id = fields.IntField(primary_key=True)
    queue = fields.CharField(max_length=32, db_index=True)
    call_id = fields.CharField(max_length=36, db_index=True)
    caller = fields.CharField(max_length=64, default="")
    join_event_id = fields.BigIntField(unique=True)
    joined_at = fields.DatetimeField(db_index=True)
    position = fields.IntField(default=1)
    left_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(
        max_length=12, default="waiting"
    )  # answered|abandoned|timeout|no_agents|redirected
    waited_seconds = fields.FloatField(default=0.0)
    agent = fields.CharField(max_length=64, null=True)
    talk_seconds = fields.FloatField(default=0.0)
    ended_at = fields.DatetimeField(null=True)  # the agent's part ended

    def __str__(self) -> str:
        return f"{self.call_id} in {self.queue}: {self.outcome}"


class AgentSession(Model):
    """A span an agent spent logged in, paused or wrapping up in a queue (open while `ended_at` is None)."""

    id = fields.IntField(primary_key=True)
    queue = fields.CharField(max_length=32, db_index=True)
    agent = fields.CharField(max_length=64, db_index=True)
    kind = fields.CharField(max_length=10)  # login | pause | wrapup
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    def __str__(self) -> str:
        return f"{self.agent} {self.kind} in {self.queue}"
