"""Validation shared by services."""

from __future__ import annotations

from collections.abc import Collection

import phonenumbers

from core.errors import Conflict, InvalidInput, NotFound
from core.models import (
    Extension,
    ForwardingRule,
    Group,
    InboundRoute,
    Ivr,
    PolicySetting,
    Queue,
    QueueAgent,
    Schedule,
    Trunk,
    WhitelistEntry,
)
from core.routing.destinations import (
    Destination,
    DestinationKind,
    InvalidDestination,
    normalise_e164,
    parse_destination,
)


def given(text: str | None, what: str, example: str) -> str:
    """`text` without surrounding blanks; an empty one is refused, naming `what` was expected."""
    value = (text or "").strip()
    if not value:
        raise InvalidInput(f"{what} is empty: give one, e.g. {example}")
    return value


def validate_e164(number: str, what: str, country: str | None = None) -> str:
    """A public number as a person types it: international (+15551234567), or national in `country`
    (the PBX's `calls.country`); stored in E.164. A clear error naming `what` it is otherwise."""
    number = given(number, what, "+15551234567")
    try:
        return normalise_e164(number, country)
    except InvalidDestination:
        national = f" or national form of {country} (e.g. {_national_example(country)})" if country else ""
        raise InvalidInput(
            f"{what} {number!r} must be a phone number in international form (e.g. +15551234567){national}"
        ) from None


def _national_example(country: str) -> str:
    example = phonenumbers.example_number(country)
    if example is None:
        return "a number without its country code"
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national.replace("(", "").replace(")", "")


async def number_owner(number: str) -> str | None:
    """What a dialled internal number reaches when it is not a phone: "ivr:NAME" or "queue:NAME"."""
    ivr = await Ivr.get_or_none(number=number)
    if ivr is not None:
        return f"ivr:{ivr.name}"
    queue = await Queue.get_or_none(number=number)
    return f"queue:{queue.name}" if queue is not None else None


async def ensure_number_free(number: str, keep: str | None = None) -> None:
    """Internal numbers are one namespace (phones, IVRs, queues): refuse one already in use, unless it is
    `keep`'s own ("ivr:main")."""
    owner = "ext" if await Extension.exists(number=number) else await number_owner(number)
    if owner is not None and owner != keep:
        used_by = "a phone" if owner == "ext" else owner
        raise Conflict(f"internal number {number} is already used by {used_by}")


def names_itself(text: str, kind: DestinationKind, name: str) -> bool:
    """Whether a destination names the thing being configured (checked before it has to exist)."""
    try:
        dest = parse_destination(text)
    except InvalidDestination:
        return False  # reported by routable_destination
    return dest.kind is kind and dest.target == name


async def routable_destination(text: str, country: str | None = None) -> Destination:
    """A destination calls can be sent to, and that exists (outside numbers may be written nationally,
    in `country`)."""
    try:
        dest = parse_destination(given(text, "destination", "ext:101"), country)
    except InvalidDestination as exc:
        raise InvalidInput(str(exc)) from None
    mailbox_or_number = dest.kind in (DestinationKind.EXTENSION, DestinationKind.VOICEMAIL)
    if mailbox_or_number and not await Extension.exists(number=dest.target):
        raise NotFound(f"internal number {dest.target} does not exist")
    if dest.kind is DestinationKind.GROUP and not await Group.exists(name=dest.target):
        raise NotFound(f"group {dest.target} does not exist")
    if dest.kind is DestinationKind.SCHEDULE and not await Schedule.exists(name=dest.target):
        raise NotFound(f"schedule {dest.target} does not exist")
    if dest.kind is DestinationKind.IVR and not await Ivr.exists(name=dest.target):
        raise NotFound(f"IVR menu {dest.target} does not exist")
    if dest.kind is DestinationKind.QUEUE and not await Queue.exists(name=dest.target):
        raise NotFound(f"queue {dest.target} does not exist")
    if dest.kind is DestinationKind.EXTERNAL and not await Trunk.exists(enabled=True):
        raise NotFound(f"no trunk can reach {dest.target}: add one first (pbx trunk add)")
    return dest


async def still_used(targets: Collection[str], owner: str | None = None) -> list[str]:
    """Where the configuration still sends calls to any of `targets` ("ivr:sales", "ext:102",
    "voicemail:102", ...), or makes them a queue agent: what deleting them would leave pointing nowhere.
    References from `owner` itself ("ext:102" its forwarding, "ivr:main" its keys) go with it and
    don't count."""
    wanted = set(targets)
    used: list[str] = []
    for rule in await ForwardingRule.filter(destination__in=wanted).prefetch_related("extension"):
        if f"ext:{rule.extension.number}" != owner:
            used.append(f"the {rule.condition} forwarding of {rule.extension.number}")
    used += [f"the route of {r.did}" for r in await InboundRoute.filter(destination__in=wanted)]
    used += [f"the fallback of group {g.name}" for g in await Group.filter(fallback__in=wanted)]
    for schedule in await Schedule.all():
        if {schedule.open_destination, schedule.closed_destination} & wanted:
            used.append(f"schedule {schedule.name}")
    for ivr in await Ivr.all():
        if f"ivr:{ivr.name}" == owner:
            continue
        used += [
            f"key {key} of IVR {ivr.name}" for key, dest in sorted(ivr.options.items()) if dest in wanted
        ]
        if ivr.fallback in wanted:
            used.append(f"the fallback of IVR {ivr.name}")
    used += [f"the overflow of queue {q.name}" for q in await Queue.filter(overflow__in=wanted)]
    used += [f"the whitelist rule of {w.number}" for w in await WhitelistEntry.filter(destination__in=wanted)]
    if await PolicySetting.filter(key="anonymous_policy", value__in=wanted).exists():
        used.append("the anonymous-caller policy")
    numbers = [t.removeprefix("ext:") for t in wanted if t.startswith("ext:")]
    agents = await QueueAgent.filter(number__in=numbers, remote=False).prefetch_related("queue")
    used += [f"queue {a.queue.name} (as an agent)" for a in agents]
    outside = [t.removeprefix("external:") for t in wanted if t.startswith("external:")]
    remote = await QueueAgent.filter(number__in=outside, remote=True).prefetch_related("queue")
    used += [f"queue {a.queue.name} (remote agent {a.number})" for a in remote]
    return used


async def external_destinations() -> set[str]:
    """Every outside number the configuration sends calls to ("external:+1..."), remote agents included
    (as "external:" of their number)."""
    outside = "external:"
    found: set[str] = set()
    for model, column in (
        (ForwardingRule, "destination"),
        (InboundRoute, "destination"),
        (Group, "fallback"),
        (Schedule, "open_destination"),
        (Schedule, "closed_destination"),
        (Ivr, "fallback"),
        (Queue, "overflow"),
        (WhitelistEntry, "destination"),
    ):
        values = await model.filter(**{f"{column}__startswith": outside}).values_list(column, flat=True)
        found |= {str(v) for v in values}
    for ivr in await Ivr.all():
        found |= {dest for dest in ivr.options.values() if dest.startswith(outside)}
    found |= {f"{outside}{n}" for n in await QueueAgent.filter(remote=True).values_list("number", flat=True)}
    return found


async def refuse_if_used(what: str, targets: Collection[str], owner: str | None = None) -> None:
    """Refuse to delete `what` while calls are still sent to it, naming where."""
    used = await still_used(targets, owner)
    if used:
        raise Conflict(f"{what} is still used by {', '.join(used)}: change those first")


MAX_ID = 2**63 - 1  # the largest row id any database here holds


def row_id(text: object) -> int | None:
    """A row id someone typed (`17`), or None when it is not one: ASCII digits only (not `²`), within
    what a database can hold."""
    raw = str(text).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None
