"""Who may do what, to which numbers: permissions per feature (read and write apart), roles as named
bundles of them, and the three scopes a user acts at (the organisation, a group, one internal number).

Pure: no I/O. `core.services.auth` applies it (and looks up group membership for group scopes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidInput

#: every permission, with what it allows (README's "Users and permissions" table is built from the same words)
PERMISSIONS: dict[str, str] = {
    "extensions.read": "see internal numbers and whether their phones are registered",
    "extensions.write": "add, change and remove internal numbers (and their SIP passwords)",
    "forwarding.read": "see forwarding rules and do-not-disturb",
    "forwarding.write": "set and clear forwarding rules and do-not-disturb",
    "groups.read": "see groups and their members",
    "groups.write": "add, change and remove groups",
    "ivr.read": "see IVR menus",
    "ivr.write": "add, change and remove IVR menus and their prompts",
    "queues.read": "see queues, their agents and waiting callers",
    "queues.write": "add, change and remove queues and their agents",
    "agents.control": "log queue agents in and out, pause and resume them",
    "schedules.read": "see schedules (business hours)",
    "schedules.write": "change schedules, their hours, holidays and overrides",
    "trunks.read": "see trunks and the routes of public numbers",
    "trunks.write": "add and remove trunks, set and remove routes of public numbers",
    "blacklist.read": "see the blacklist and the anonymous-caller policy",
    "blacklist.write": "add and remove blacklist entries, set the anonymous-caller policy",
    "whitelist.read": "see the whitelist",
    "whitelist.write": "add and remove whitelist entries",
    "calls.read": "see calls in progress and the call history",
    "calls.control": "hang up, transfer, redirect, hold and place calls",
    "calls.record": "start and stop recording a call in progress",
    "calls.listen": "listen to, whisper to and barge into calls in progress",
    "recordings.read": "list and download recordings and voicemail",
    "recordings.write": "set recording policies, delete recordings and voicemail",
    "users.read": "see users and their tokens (never a token itself)",
    "users.write": "add, change and remove users, create and revoke tokens",
    "audit.read": "read the audit log",
    "security.read": "see banned addresses",
    "security.write": "lift bans of addresses that guessed SIP passwords",
    "events.read": "follow the event stream and page through the event log",
    "webhooks.read": "see webhook subscriptions and their delivery logs (never a secret)",
    "webhooks.write": "add, remove, test webhook subscriptions and rotate their secrets",
    "outbox.read": "see outgoing notifications waiting, delivered or dead-lettered",
    "outbox.write": "send dead-lettered notifications again",
    "system.read": "see the PBX's health",
}

_READS = frozenset(p for p in PERMISSIONS if p.endswith(".read"))
_FLOOR = frozenset(
    {
        "extensions.read",
        "forwarding.read",
        "forwarding.write",
        "groups.read",
        "queues.read",
        "agents.control",
        "blacklist.read",
        "blacklist.write",
        "whitelist.read",
        "calls.read",
        "calls.control",
        "calls.record",
        "recordings.read",
        "events.read",
        "system.read",
    }
)

#: roles, from the most to the least; a user's rights are its role's, narrowed or widened per user
ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    # runs the floor and the people on it: everything but the PBX's plumbing and its users
    "supervisor": _READS
    | _FLOOR
    | {
        "whitelist.write",
        "queues.write",
        "calls.listen",
        "schedules.write",
        "recordings.write",
        "webhooks.write",
    },
    # the switchboard: calls, queue agents, forwarding and the blacklist
    # (banned addresses and security alerts included: README's Security section tells operators to watch them)
    "operator": (_READS - {"users.read", "audit.read"}) | _FLOOR,
    # a person with a phone: their own number's forwarding, calls, recordings and voicemail
    "staff": frozenset(
        {
            "extensions.read",
            "forwarding.read",
            "forwarding.write",
            "agents.control",
            "blacklist.read",
            "whitelist.read",
            "calls.read",
            "calls.control",
            "recordings.read",
            "events.read",
        }
    ),
    # sees, changes nothing
    "viewer": frozenset(
        {
            "extensions.read",
            "groups.read",
            "queues.read",
            "calls.read",
            "events.read",
            "system.read",
            "security.read",  # banned addresses, as viewers saw them before rights per feature
        }
    ),
}


def role_permissions(role: str) -> frozenset[str]:
    return ROLES.get(role, frozenset())


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def check_permissions(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    unknown = [n for n in names if n not in PERMISSIONS]
    if unknown:
        raise InvalidInput(
            f"unknown permission {unknown[0]!r}: e.g. extensions.read, calls.control (see README)"
        )
    return frozenset(names)


def effective_permissions(
    role: str, granted: frozenset[str] = frozenset(), revoked: frozenset[str] = frozenset()
) -> frozenset[str]:
    """A user's rights: its role's, plus what an admin granted, minus what was taken away."""
    return (role_permissions(role) | granted) - revoked


class ScopeKind(StrEnum):
    ORG = "org"
    GROUP = "group"
    EXT = "ext"


_GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_NUMBER_RE = re.compile(r"^[0-9]{2,4}$")


@dataclass(frozen=True)
class Scope:
    """What a user acts on: the whole organisation, the numbers of one group, or one internal number."""

    kind: ScopeKind = ScopeKind.ORG
    name: str = ""

    def __str__(self) -> str:
        return "org" if self.kind is ScopeKind.ORG else f"{self.kind.value}:{self.name}"

    @property
    def whole_organisation(self) -> bool:
        return self.kind is ScopeKind.ORG


ORG = Scope()


def parse_scope(text: str) -> Scope:
    """`org`, `group:NAME` or `ext:NUMBER`."""
    raw = (text or "").strip().lower()
    if raw == "org":
        return ORG
    kind, _, name = raw.partition(":")
    if kind == "group" and _GROUP_RE.fullmatch(name):
        return Scope(ScopeKind.GROUP, name)
    if kind == "ext" and _NUMBER_RE.fullmatch(name):
        return Scope(ScopeKind.EXT, name)
    raise InvalidInput(f"unknown scope {text!r}: use org, group:NAME or ext:NUMBER (e.g. ext:101)")
