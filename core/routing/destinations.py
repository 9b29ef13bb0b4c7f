"""Destinations: where a call can be sent, written the same way everywhere (CLI, API, config, events).

ext:101  group:sales  queue:support  ivr:main  voicemail:101  external:+15551234567  schedule:office
busy  hangup
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class DestinationKind(StrEnum):
    """What kind of thing a destination names."""

    EXTENSION = "ext"
    GROUP = "group"
    QUEUE = "queue"
    IVR = "ivr"
    VOICEMAIL = "voicemail"
    EXTERNAL = "external"
    SCHEDULE = "schedule"  # business hours choose between two destinations
    BUSY = "busy"
    HANGUP = "hangup"


_TERMINAL = {DestinationKind.BUSY, DestinationKind.HANGUP}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_NUMBER_RE = re.compile(r"^[0-9]{2,4}$")


class InvalidDestination(ValueError):
    """A destination that is not written correctly; the message shows how it should be."""


@dataclass(frozen=True)
class Destination:
    """A parsed destination. `target` is empty for busy/hangup."""

    kind: DestinationKind
    target: str = ""

    def __str__(self) -> str:
        return self.kind.value if self.kind in _TERMINAL else f"{self.kind.value}:{self.target}"


def parse_destination(text: str, country: str | None = None) -> Destination:
    """Parse and normalise a destination; external numbers become E.164 (national forms are read in
    `country`, when given)."""
    raw = (text or "").strip()
    kind_text, _, target = raw.partition(":")
    try:
        kind = DestinationKind(kind_text.lower())
    except ValueError:
        raise InvalidDestination(
            f"unknown destination {raw!r}: use ext:101, group:NAME, queue:NAME, ivr:NAME, voicemail:101, "
            "external:+15551234567, schedule:NAME, busy or hangup"
        ) from None
    if kind in _TERMINAL:
        if target:
            raise InvalidDestination(f"{kind.value} takes no target (got {raw!r})")
        return Destination(kind)
    if kind in (DestinationKind.EXTENSION, DestinationKind.VOICEMAIL):
        if not _NUMBER_RE.fullmatch(target):
            raise InvalidDestination(f"{kind.value}: needs an internal number of 2 to 4 digits (got {raw!r})")
        return Destination(kind, target)
    if kind is DestinationKind.EXTERNAL:
        return Destination(kind, normalise_e164(target, country))
    target = target.lower()
    if not _NAME_RE.fullmatch(target):
        raise InvalidDestination(
            f"{kind.value}: needs a name of letters, digits, - or _ (at most 32), e.g. {kind.value}:sales"
        )
    return Destination(kind, target)


def to_e164(number: str, country: str | None) -> str | None:
    """An outside number as dialled, presented or typed (+1..., 00..., national in `country`; with no
    country only the international form) in E.164, or None when it is not a possible number."""
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_e164(number: str, country: str | None = None) -> str:
    """A public number in E.164 (+15551234567). Without `country` it must be written with its country
    code; with one (the PBX's `calls.country`, e.g. "US"), national forms (5551234567) are read there."""
    e164 = to_e164(number, country)
    if e164 is None:
        national = f" or national form of {country}" if country else ""
        raise InvalidDestination(
            f"{number!r} is not a phone number in international form{national}, e.g. +15551234567"
        )
    return e164
