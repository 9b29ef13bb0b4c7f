"""Domain models (tortoise-orm). Queries live in core/services, never here."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Organisation(Model):
    """The tenant this PBX serves (one per installation for now)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(Model):
    """A person or integration acting on the PBX. API tokens are stored hashed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    role = fields.CharField(max_length=20, default="admin")  # admin | operator | viewer
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class Extension(Model):
    """An internal number: a SIP phone account (2–4 digits)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=4, unique=True)
    name = fields.CharField(max_length=100, default="")
    enabled = fields.BooleanField(default=True)
    dnd = fields.BooleanField(default=False)  # do-not-disturb: calls are treated as busy
    # how far its calls may reach outside: internal | local | national | international
    outbound = fields.CharField(max_length=16, default="national")
    external_caller_id = fields.CharField(max_length=20, null=True)  # E.164 shown on outside calls
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    # MD5 of "number:realm:password" (RFC 2617 HA1, realm SIP_REALM): Asterisk checks phones' digests
    # with it, and the password itself is never stored
    sip_digest = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)
    forwarding: fields.ReverseRelation[ForwardingRule]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


class ForwardingRule(Model):
    """Where the calls of an internal number go instead, and when (always, busy, no answer, unavailable)."""

    id = fields.IntField(primary_key=True)
    extension: fields.ForeignKeyRelation[Extension] = fields.ForeignKeyField(
        "pbx.Extension", related_name="forwarding", on_delete=fields.CASCADE
    )
    condition = fields.CharField(max_length=12)
    destination = fields.CharField(max_length=64)
    ring_seconds = fields.IntField(null=True)  # no_answer: ring this long first

    class Meta:
        unique_together = (("extension", "condition"),)

    def __str__(self) -> str:
        return f"{self.condition} → {self.destination}"


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
    disposition = fields.CharField(max_length=20, default="in_progress")
    sip_code = fields.IntField(null=True)  # what the caller was told when refused
    node = fields.CharField(max_length=100, default="")
    legs: fields.ReverseRelation[CallLeg]

    def __str__(self) -> str:
        return f"{self.call_id} {self.caller}→{self.callee} {self.disposition}"


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


class EventRecord(Model):
    """A persisted domain event: written before anyone is told of it."""

    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=50, db_index=True)
    call_id = fields.CharField(max_length=36, null=True, db_index=True)
    payload: dict = fields.JSONField()  # type: ignore[assignment]
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"#{self.id} {self.type}"


class AuditEntry(Model):
    """Who did what, from where."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.CharField(max_length=100)
    source = fields.CharField(max_length=20)  # cli | api | console | slack | telegram | system
    # the client's address: its IP for the API, "local" for the CLI without a daemon, "" for the system
    address = fields.CharField(max_length=64, default="", db_default="")  # db_default: for existing rows
    # a service action (extension.add), an API route (DELETE /api/extensions/{number}) or a CLI command
    action = fields.CharField(max_length=100)
    target = fields.CharField(max_length=100, default="")
    detail: dict = fields.JSONField(default=dict)  # type: ignore[assignment]
    ok = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.actor}@{self.source}({self.address}) {self.action} {self.target}"


class Trunk(Model):
    """A SIP trunk to a carrier: known by its address, optionally with credentials and a registration."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    host = fields.CharField(max_length=255)
    port = fields.IntField(default=5060)
    caller_id = fields.CharField(max_length=20)  # E.164 shown on outgoing calls unless the number has its own
    enabled = fields.BooleanField(default=True)
    # credentials at the carrier (answer its digest challenges), None for IP-authenticated trunks
    username = fields.CharField(max_length=64, null=True)
    password = fields.CharField(max_length=128, null=True)  # a secret: never logged nor shown
    # db_default: existing rows get it when the column is added
    register = fields.BooleanField(default=False, db_default=False)  # keep a SIP registration at the carrier
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"


class InboundRoute(Model):
    """Where calls to a public number (DID) go."""

    id = fields.IntField(primary_key=True)
    did = fields.CharField(max_length=20, unique=True)  # E.164
    destination = fields.CharField(max_length=64)
    whitelist_only = fields.BooleanField(default=False)  # callers not on the whitelist get busy
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.did} → {self.destination}"


class BlacklistEntry(Model):
    """A caller whose calls are not processed: a number (E.164) or a prefix of numbers."""

    id = fields.IntField(primary_key=True)
    pattern = fields.CharField(max_length=20, unique=True)  # +15557654321, or +1900 with is_prefix
    is_prefix = fields.BooleanField(default=False)
    note = fields.CharField(max_length=200, default="")
    hits = fields.IntField(default=0)
    last_hit_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.pattern}{'*' if self.is_prefix else ''}"


class WhitelistEntry(Model):
    """A caller handled by a rule of their own (or simply let through where only listed callers may call)."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)  # E.164
    destination = fields.CharField(max_length=64, null=True)  # the personal rule; None = route as usual
    note = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.number} → {self.destination or 'usual route'}"


class PolicySetting(Model):
    """A PBX-wide call-handling setting changed at run time (e.g. the anonymous-caller policy)."""

    key = fields.CharField(max_length=50, primary_key=True)
    value = fields.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class Group(Model):
    """An internal number group: its members ring by a strategy, with a fallback when nobody answers."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    strategy = fields.CharField(max_length=16, default="ring_all")
    member_timeout = fields.IntField(default=15)  # seconds each member rings (hunting strategies)
    timeout = fields.IntField(default=60)  # seconds the whole group may take
    fallback = fields.CharField(max_length=64, null=True)  # destination when nobody answers
    last_index = fields.IntField(default=-1)  # round robin: the member that was first last time
    recording = fields.CharField(max_length=10, default="never")  # always | never | on_demand
    members: fields.ReverseRelation[GroupMember]

    def __str__(self) -> str:
        return f"group:{self.name}"


class GroupMember(Model):
    """An internal number in a group (at most one group each), in ring order."""

    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "pbx.Group", related_name="members", on_delete=fields.CASCADE
    )
    extension: fields.OneToOneRelation[Extension] = fields.OneToOneField(
        "pbx.Extension", related_name="group_membership", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    timeout = fields.IntField(null=True)  # overrides the group's member timeout
    last_rung_at = fields.DatetimeField(null=True)  # least-recent strategy

    def __str__(self) -> str:
        return f"{self.position}. member of group {self.group_id}"  # type: ignore[attr-defined]


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


class Schedule(Model):
    """Business hours (time condition): calls go to one destination when open, another when closed."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    timezone = fields.CharField(max_length=64, default="UTC")
    open_destination = fields.CharField(max_length=64)
    closed_destination = fields.CharField(max_length=64)
    override = fields.CharField(max_length=8, null=True)  # open | closed: manual, until cleared
    windows: fields.ReverseRelation[ScheduleWindow]
    holidays: fields.ReverseRelation[ScheduleHoliday]

    def __str__(self) -> str:
        return f"schedule:{self.name}"


class ScheduleWindow(Model):
    """Opening hours on some weekdays. An end before the start runs past midnight."""

    id = fields.IntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[Schedule] = fields.ForeignKeyField(
        "pbx.Schedule", related_name="windows", on_delete=fields.CASCADE
    )
    days = fields.CharField(max_length=27)  # "mon,tue,wed"
    start = fields.CharField(max_length=5)  # "09:00"
    end = fields.CharField(max_length=5)  # "17:30"

    def __str__(self) -> str:
        return f"{self.days} {self.start}-{self.end}"


class ScheduleHoliday(Model):
    """A day the schedule stays closed."""

    id = fields.IntField(primary_key=True)
    schedule: fields.ForeignKeyRelation[Schedule] = fields.ForeignKeyField(
        "pbx.Schedule", related_name="holidays", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    name = fields.CharField(max_length=100, default="")

    class Meta:
        unique_together = (("schedule", "day"),)

    def __str__(self) -> str:
        return f"{self.day} {self.name}".strip()


class Ivr(Model):
    """An IVR menu: a prompt, then the caller chooses by DTMF (options, direct dial, repeat)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    number = fields.CharField(max_length=4, null=True, unique=True)  # an internal number that reaches it
    prompt = fields.CharField(max_length=255)  # ARI media URI, e.g. sound:NAME
    options: dict[str, str] = fields.JSONField(default=dict)  # type: ignore[assignment]  # key to destination
    direct_dial = fields.BooleanField(default=False)
    timeout = fields.IntField(default=5)  # seconds to wait for a choice after the prompt
    attempts = fields.IntField(default=3)  # plays of the menu before the fallback
    repeat_key = fields.CharField(max_length=1, null=True, default="*")
    fallback = fields.CharField(max_length=64, default="hangup")

    def __str__(self) -> str:
        return f"ivr:{self.name}"


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


class SecurityBan(Model):
    """An address Asterisk refuses (403 before authentication) until `until`, for guessing passwords.

    The row stays until Asterisk has confirmed the ban is lifted, so a ban expiring while Asterisk is
    away is still removed from it later.
    """

    id = fields.IntField(primary_key=True)
    address = fields.CharField(max_length=45, unique=True)  # canonical IPv4 or IPv6 address
    until = fields.DatetimeField()
    failures = fields.IntField()  # failed authentications that caused the ban
    numbers: list = fields.JSONField(default=list)  # type: ignore[assignment]  # the accounts it tried
    created_at = fields.DatetimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"ban {self.address} until {self.until:%Y-%m-%d %H:%M:%S}"
