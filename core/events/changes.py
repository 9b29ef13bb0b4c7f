"""Events telling that someone changed the configuration: internal numbers, forwarding, trunks, routes of
public numbers, caller lists, groups, IVR menus, queues, schedules, recording policies and users.

None carries a secret: no SIP or trunk password, digest or token, ever.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.events.base import DomainEvent


class ExtensionEvent(DomainEvent):
    """What an internal number now is (base of the extension events)."""

    number: str
    name: str = ""
    enabled: bool = True
    dnd: bool = False
    outbound: str = "national"
    external_caller_id: str | None = None
    recording: str = "never"


class ExtensionAdded(ExtensionEvent):
    """An internal number was created."""

    type: Literal["ExtensionAdded"] = "ExtensionAdded"


class ExtensionUpdated(ExtensionEvent):
    """An internal number was changed."""

    type: Literal["ExtensionUpdated"] = "ExtensionUpdated"


class ExtensionRemoved(ExtensionEvent):
    """An internal number was deleted."""

    type: Literal["ExtensionRemoved"] = "ExtensionRemoved"


class ForwardingChanged(DomainEvent):
    """The forwarding rules of an internal number changed; `rules` is the complete new set."""

    type: Literal["ForwardingChanged"] = "ForwardingChanged"
    number: str
    rules: dict[str, dict[str, str | int | None]]  # condition → {"destination", "ring_seconds"}


class QueueChanged(DomainEvent):
    """A queue's settings or agents changed, or it was removed (`removed`)."""

    type: Literal["QueueChanged"] = "QueueChanged"
    queue: str
    removed: bool = False


class ConfigChanged(DomainEvent):
    """Base of the events below: something was `added`, `updated` or `removed`, by `actor` (a user's
    name, or "system"). An added or updated thing is described as it now is; a removed one by its key."""

    action: Literal["added", "updated", "removed"]
    actor: str


class TrunkChanged(ConfigChanged):
    """A trunk to a carrier was added or removed (its password is never sent)."""

    type: Literal["TrunkChanged"] = "TrunkChanged"
    trunk: str
    host: str | None = None
    port: int | None = None
    caller_id: str | None = None
    username: str | None = None  # at the carrier
    registers: bool = False


class RouteChanged(ConfigChanged):
    """The inbound route of the public number `did` (where its calls go) was set or removed."""

    type: Literal["RouteChanged"] = "RouteChanged"
    did: str
    destination: str | None = None
    whitelist_only: bool = False


class BlacklistChanged(ConfigChanged):
    """A number, or with `prefix` every number starting so, was put on (added) or taken off (removed) the
    blacklist."""

    type: Literal["BlacklistChanged"] = "BlacklistChanged"
    pattern: str
    prefix: bool = False
    note: str = ""


class WhitelistChanged(ConfigChanged):
    """A caller was put on the whitelist (with its personal rule `destination`, if any), or taken off."""

    type: Literal["WhitelistChanged"] = "WhitelistChanged"
    number: str
    destination: str | None = None
    note: str = ""


class AnonymousPolicyChanged(ConfigChanged):
    """What happens to callers who withhold their number changed: `policy` allow, busy or a destination."""

    type: Literal["AnonymousPolicyChanged"] = "AnonymousPolicyChanged"
    policy: str


class GroupChanged(ConfigChanged):
    """A group was created, changed (settings or members, in ring order) or removed."""

    type: Literal["GroupChanged"] = "GroupChanged"
    group: str
    strategy: str | None = None
    member_timeout: int | None = None
    timeout: int | None = None
    fallback: str | None = None
    members: list[str] = Field(default_factory=list)


class IvrMenuChanged(ConfigChanged):
    """An IVR menu was created, changed (settings, an option, its prompt) or removed."""

    type: Literal["IvrMenuChanged"] = "IvrMenuChanged"
    ivr: str
    number: str | None = None  # the menu's own internal number, if any
    prompt: str | None = None
    options: dict[str, str] = Field(default_factory=dict)  # key → destination
    direct_dial: bool = False
    timeout: int | None = None
    attempts: int | None = None
    repeat_key: str | None = None
    fallback: str | None = None


class ScheduleSettingsChanged(ConfigChanged):
    """A schedule was created or changed: its timezone and destinations, hours, holidays or override
    (`ScheduleChanged` tells when it opens or closes)."""

    type: Literal["ScheduleSettingsChanged"] = "ScheduleSettingsChanged"
    schedule: str
    timezone: str | None = None
    open_destination: str | None = None
    closed_destination: str | None = None
    override: str | None = None  # open, closed, or None: by the clock
    hours: list[str] = Field(default_factory=list)  # "mon,tue 09:00-17:00"
    holidays: list[str] = Field(default_factory=list)  # "2026-12-25 Christmas"


class RecordingPolicyChanged(ConfigChanged):
    """The recording policy (never, on_demand, always) of `target` changed: ext:101, group:sales,
    queue:support or a public number."""

    type: Literal["RecordingPolicyChanged"] = "RecordingPolicyChanged"
    target: str
    policy: str


class UserChanged(ConfigChanged):
    """A user was added, changed (its role, scope, rights, linked identities, or its tokens: one created or
    revoked) or removed. The event stream checks its own user again on each: a removed user's stream, or
    one opened with a revoked token, is closed at once. Never a token or its hash."""

    type: Literal["UserChanged"] = "UserChanged"
    user: str
    role: str | None = None
    scope: str | None = None
    granted: list[str] = Field(default_factory=list)  # rights beyond the role's
    revoked: list[str] = Field(default_factory=list)  # rights of the role taken away
    tokens: int = 0  # how many named tokens it holds


class WebhookChanged(ConfigChanged):
    """A webhook subscription was added, changed (its secret rotated: `rotated`), ended by its receiver (410
    Gone: `action` updated, `active` false) or removed. Never its secret."""

    type: Literal["WebhookChanged"] = "WebhookChanged"
    webhook: int
    url: str
    events: list[str] = Field(default_factory=list)
    number: str | None = None
    group: str | None = None
    queue: str | None = None
    active: bool = True
    rotated: bool = False
    reason: str = ""
