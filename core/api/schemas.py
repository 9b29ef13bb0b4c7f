"""The bodies of the API's requests (pydantic): each refuses fields it does not know."""

from pydantic import BaseModel, Field


class ExtensionIn(BaseModel):
    """Body of POST /api/extensions."""

    model_config = {"extra": "forbid"}
    number: str = Field(description="2–4 digits")
    name: str = ""
    password: str | None = Field(None, description="SIP password; generated when omitted")
    enabled: bool = True


class ExtensionPatch(BaseModel):
    """Body of PATCH /api/extensions/{number}."""

    model_config = {"extra": "forbid"}
    name: str | None = None
    enabled: bool | None = None
    password: str | None = None
    dnd: bool | None = Field(None, description="do-not-disturb")
    outbound: str | None = Field(None, description="internal, local, national or international")
    external_caller_id: str | None = Field(None, description='E.164 shown on outside calls; "" to clear')


class TrunkIn(BaseModel):
    """Body of POST /api/trunks."""

    model_config = {"extra": "forbid"}
    name: str
    host: str = Field(description="the carrier's address (calls from it are outside calls)")
    port: int = 5060
    caller_id: str = Field(description="E.164 shown on outgoing calls")
    username: str | None = Field(None, description="username at the carrier (answers its challenges)")
    password: str | None = Field(None, description="password at the carrier; never shown again")
    registers: bool = Field(False, description="keep a SIP registration at the carrier")


class RouteIn(BaseModel):
    """Body of PUT /api/routes/{did}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:101, busy, hangup")
    whitelist_only: bool = Field(False, description="only callers on the whitelist get through")


class BlacklistIn(BaseModel):
    """Body of POST /api/blacklist."""

    model_config = {"extra": "forbid"}
    number: str = Field(description="a number (+E.164 or national), or a prefix like +1900 with prefix=true")
    prefix: bool = False
    note: str = ""
    force: bool = Field(False, description="accept a prefix that blocks whole countries (+1, +44)")


class WhitelistIn(BaseModel):
    """Body of PUT /api/whitelist/{number}."""

    model_config = {"extra": "forbid"}
    destination: str | None = Field(None, description="the caller's personal rule, e.g. ext:103")
    note: str = ""


class GroupIn(BaseModel):
    """Body of PUT /api/groups/{name}."""

    model_config = {"extra": "forbid"}
    strategy: str = Field("ring_all", description="ring_all, hunt, round_robin, random or least_recent")
    member_timeout: int = Field(15, description="seconds each member rings (one-by-one strategies)")
    timeout: int = Field(60, description="seconds the whole group may take")
    fallback: str | None = Field(None, description="destination when nobody answers, e.g. ext:105")


class MembersIn(BaseModel):
    """Body of PUT /api/groups/{name}/members."""

    model_config = {"extra": "forbid"}
    members: list[str] = Field(description="internal numbers in ring order")


class IvrIn(BaseModel):
    """Body of PUT /api/ivrs/{name}: creates a menu (a prompt is needed then) or changes the fields given;
    a field left out (or null) stays as it is."""

    model_config = {"extra": "forbid"}
    prompt: str | None = Field(None, description="an Asterisk sound, e.g. sound:demo-instruct")
    number: str | None = Field(None, description='internal number reaching the menu; "" takes it away')
    direct_dial: bool | None = Field(None, description="callers may dial an internal number at the prompt")
    timeout: int | None = Field(None, description="seconds to wait for a key after the prompt (1-60)")
    attempts: int | None = Field(None, description="plays of the menu before the fallback (1-10)")
    repeat_key: str | None = Field(None, description='the key that plays the menu again; "" for none')
    fallback: str | None = Field(None, description="where callers go after the last attempt, e.g. ext:101")


class IvrOptionIn(BaseModel):
    """Body of PUT /api/ivrs/{name}/options/{key}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:102, ivr:sales, queue:support")


class QueueIn(BaseModel):
    """Body of PUT /api/queues/{name}: creates a queue or changes the fields given (agents are kept)."""

    model_config = {"extra": "forbid"}
    number: str | None = Field(None, description='internal number reaching the queue; "" takes it away')
    strategy: str | None = Field(
        None,
        description="ring_all, longest_idle, round_robin, top_down, least_talk_time, fewest_calls, "
        "sequential or random",
    )
    agent_timeout: int | None = Field(None, description="seconds an agent rings (1-300)")
    max_wait: int | None = Field(None, description="seconds a caller waits before the overflow (5-7200)")
    overflow: str | None = Field(None, description="where callers go after max_wait or with nobody logged in")
    wrapup: int | None = Field(None, description="seconds an agent rests after a queue call (0-600)")
    announce_every: int | None = Field(None, description="seconds between position announcements; 0 = never")
    music: str | None = Field(None, description="music on hold class, e.g. default")


class AgentIn(BaseModel):
    """Body of POST /api/queues/{name}/agents/{number} (optional: left out, the defaults apply)."""

    model_config = {"extra": "forbid"}
    timeout: int | None = Field(None, description="seconds this agent rings (unset: the queue's)")
    wrapup: int | None = Field(None, description="seconds this agent rests after a call (unset: the queue's)")
    delay_busy: int | None = Field(None, description="seconds before offering again after busy (10)")
    delay_no_answer: int | None = Field(
        None, description="seconds before offering again after no answer (10)"
    )
    delay_reject: int | None = Field(None, description="seconds before offering again after a reject (30)")


class RecordingPolicyIn(BaseModel):
    """Body of PUT /api/recording-policy."""

    model_config = {"extra": "forbid"}
    target: str = Field(
        description="ext:101, group:sales, queue:support, or a routed public number +15550001000"
    )
    policy: str = Field(description="always, never or on_demand")


class ScheduleIn(BaseModel):
    """Body of PUT /api/schedules/{name}."""

    model_config = {"extra": "forbid"}
    timezone: str = "UTC"
    open: str = Field(description="destination while open, e.g. group:sales")
    closed: str = Field(description="destination while closed, e.g. voicemail:101")


class HoursIn(BaseModel):
    """Body of PUT /api/schedules/{name}/hours: [["mon-fri", "09:00-17:00"], ["sat", "10:00-14:00"]]."""

    model_config = {"extra": "forbid"}
    hours: list[tuple[str, str]]


class HolidayIn(BaseModel):
    """Body of POST /api/schedules/{name}/holidays."""

    model_config = {"extra": "forbid"}
    day: str = Field(description="YYYY-MM-DD")
    name: str = ""


class OverrideIn(BaseModel):
    """Body of PUT /api/schedules/{name}/override."""

    model_config = {"extra": "forbid"}
    state: str = Field(description="open, closed or auto")


class PolicyIn(BaseModel):
    """Body of PUT /api/policy/anonymous."""

    model_config = {"extra": "forbid"}
    policy: str = Field(description="allow, busy, or a destination such as ext:101")


class ForwardingIn(BaseModel):
    """Body of PUT /api/extensions/{number}/forwarding/{condition}."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="e.g. ext:102, busy, hangup")
    ring_seconds: int | None = Field(None, description="no_answer only: ring this long first")


class TransferIn(BaseModel):
    """Body of POST /api/calls/{call_id}/transfer."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="where the party goes: ext:102, group:sales, queue:NAME, ...")
    party: str = Field("caller", description="caller or callee: who goes there (the other is released)")
    attended: bool = Field(False, description="consult the destination first: the party waits on hold")


class RedirectIn(BaseModel):
    """Body of POST /api/calls/{call_id}/redirect."""

    model_config = {"extra": "forbid"}
    destination: str = Field(description="where the ringing call goes instead, e.g. ext:103")


class HoldIn(BaseModel):
    """Body of POST /api/calls/{call_id}/hold."""

    model_config = {"extra": "forbid"}
    party: str = Field("caller", description="caller or callee: who hears music on hold")


class PlaceCallIn(BaseModel):
    """Body of POST /api/calls (click-to-call)."""

    model_config = {"extra": "forbid"}
    from_: str = Field(alias="from", description="the internal number rung first, e.g. 102")
    to: str = Field(description="what it then calls: an internal number or +15551234567")


class UserIn(BaseModel):
    """Body of POST /api/users."""

    model_config = {"extra": "forbid"}
    name: str = Field(description="letters, digits, '.', '-' or '_', e.g. alice")
    role: str = Field(description="admin, supervisor, operator, staff or viewer")
    scope: str = Field("org", description="org, group:NAME or ext:NUMBER")


class UserPatch(BaseModel):
    """Body of PATCH /api/users/{name}: the fields given change; left out (or null) they stay."""

    model_config = {"extra": "forbid"}
    role: str | None = None
    scope: str | None = Field(None, description="org, group:NAME or ext:NUMBER")
    grant: list[str] = Field(default_factory=list, description="rights to give (beyond the role: admins)")
    revoke: list[str] = Field(default_factory=list, description="rights to take away")
    slack_user_id: str | None = Field(None, description='e.g. U012AB3CD; "" unlinks')
    telegram_chat_id: str | None = Field(None, description='e.g. 123456789; "" unlinks')


class TokenIn(BaseModel):
    """Body of POST /api/tokens (all optional: the token's own user, `default`, never)."""

    model_config = {"extra": "forbid"}
    user: str | None = Field(None, description="whose token (default: the caller's own)")
    name: str | None = Field(None, description="e.g. laptop (default: default, token-2, …)")
    expires: str | None = Field(None, description="e.g. 90m, 12h, 30d, 2w, or never")


class ListenIn(BaseModel):
    """Body of POST /api/calls/{call_id}/listen."""

    model_config = {"extra": "forbid"}
    supervisor: str = Field(description="the internal number rung to listen, e.g. 105")
    mode: str = Field("listen", description="listen (unheard), whisper (to party only) or barge (join)")
    party: str = Field("callee", description="caller or callee: whom the supervisor whispers to")


class WebhookIn(BaseModel):
    """Body of POST /api/webhooks."""

    model_config = {"extra": "forbid"}
    url: str = Field(description="the receiver, e.g. https://crm.example.com/pbx-events")
    events: list[str] | str = Field(description='event types, e.g. ["hangup", "missed"], or "all"')
    number: str | None = Field(None, description="only events of this internal number")
    group: str | None = Field(None, description="only events of this group's numbers")
    queue: str | None = Field(None, description="only events of this queue")
    format: str = Field("json", description="json or form")
    secret: str | None = Field(None, description="whsec_<base64>; generated (and answered once) when omitted")


class SecretIn(BaseModel):
    """Body of POST /api/webhooks/{id}/rotate."""

    model_config = {"extra": "forbid"}
    secret: str | None = Field(None, description="the new secret; generated when omitted")


class OutboxRetryIn(BaseModel):
    """Body of POST /api/outbox/retry."""

    model_config = {"extra": "forbid"}
    id: int | None = Field(None, ge=1, le=2**63 - 1, description="one dead item")
    all: bool = Field(False, description="every dead item")
