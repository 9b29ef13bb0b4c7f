"""Call records (one Call per CallID, one CallLeg per SubCallID), recordings and voicemail."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Call(Model):
    """A call record (CDR): one per call, identified by its CallID."""

    call_id = fields.CharField(max_length=36, primary_key=True)
    caller = fields.CharField(max_length=64)
    caller_name = fields.CharField(max_length=100, default="")
    callee = fields.CharField(max_length=64)
    direction = fields.CharField(max_length=10, default="internal")
    started_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    duration = fields.FloatField(default=0.0)  # seconds talking (answer → end)
    # when the PBX itself answered (an IVR, a queue, voicemail), and the person who answered, if any
    pbx_answered_at = fields.DatetimeField(null=True)
    answered_by = fields.CharField(max_length=64, default="", db_default="")
    wait_seconds = fields.FloatField(default=0.0, db_default=0.0)  # start → a person answered (or the end)
    talk_seconds = fields.FloatField(default=0.0, db_default=0.0)  # a person answered → the end
    # the outcome for a person: answered | missed | abandoned | voicemail
    outcome = fields.CharField(max_length=12, default="", db_default="")
    place = fields.CharField(
        max_length=100, default="", db_default=""
    )  # where it ended: group:sales, ext:102…
    disposition = fields.CharField(max_length=20, default="in_progress")
    sip_code = fields.IntField(null=True)  # what the caller was told when refused
    node = fields.CharField(max_length=100, default="")
    legs: fields.ReverseRelation[CallLeg]

    def __str__(self) -> str:
        return f"{self.call_id} {self.caller}→{self.callee} {self.disposition}"


class MissedCall(Model):
    """An inbound call no person answered: open until someone calls back (or the caller calls again) and
    is answered (`returned`), or a person marks it `handled`."""

    id = fields.IntField(primary_key=True)
    call: fields.ForeignKeyRelation[Call] = fields.ForeignKeyField(
        "pbx.Call", related_name="missed", unique=True
    )
    caller = fields.CharField(max_length=64, db_index=True)
    caller_name = fields.CharField(max_length=100, default="")
    callee = fields.CharField(max_length=64)  # the number called (a public number, a group, a queue…)
    numbers: list = fields.JSONField(default=list)  # type: ignore[assignment]  # internal numbers concerned
    ended = fields.CharField(max_length=100, default="")  # where it ended, e.g. queue:support
    reason = fields.CharField(
        max_length=20
    )  # no_answer | busy | unavailable | abandoned | voicemail | closed
    waited_seconds = fields.FloatField(default=0.0)
    at = fields.DatetimeField()  # when the call started
    voicemail_id = fields.IntField(null=True)
    status = fields.CharField(max_length=10, default="open", db_index=True)  # open | returned | handled
    resolved_by = fields.CharField(max_length=100, default="")
    resolved_at = fields.DatetimeField(null=True)
    resolved_call_id = fields.CharField(max_length=36, null=True)

    def __str__(self) -> str:
        return f"missed #{self.id} from {self.caller} {self.status}"


class CallLeg(Model):
    """One leg of a call (SubCallID): the caller's channel or a channel we dialled."""

    sub_call_id = fields.CharField(max_length=36, primary_key=True)
    call: fields.ForeignKeyRelation[Call] = fields.ForeignKeyField("pbx.Call", related_name="legs")
    role = fields.CharField(max_length=10)  # caller | callee
    channel_id = fields.CharField(max_length=100)
    endpoint = fields.CharField(max_length=100)
    started_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    disposition = fields.CharField(max_length=20, default="in_progress")
    hangup_cause = fields.IntField(null=True)

    def __str__(self) -> str:
        return f"{self.sub_call_id} {self.role} {self.endpoint}"


class Recording(Model):
    """A call recording: the file Asterisk wrote, indexed against its call."""

    id = fields.IntField(primary_key=True)
    call: fields.ForeignKeyRelation[Call] = fields.ForeignKeyField("pbx.Call", related_name="recordings")
    name = fields.CharField(max_length=100, unique=True)
    path = fields.CharField(max_length=500)
    format = fields.CharField(max_length=10, default="wav")
    duration = fields.FloatField(default=0.0)  # seconds
    size = fields.IntField(default=0)  # bytes
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name}.{self.format}"


class Voicemail(Model):
    """A message left in the voicemail box of an internal number."""

    id = fields.IntField(primary_key=True)
    mailbox = fields.CharField(max_length=4, db_index=True)  # the internal number
    call: fields.ForeignKeyRelation[Call] = fields.ForeignKeyField("pbx.Call", related_name="voicemails")
    caller = fields.CharField(max_length=64)
    path = fields.CharField(max_length=500)
    duration = fields.FloatField(default=0.0)
    size = fields.IntField(default=0)
    heard = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"voicemail for {self.mailbox} from {self.caller}"
