"""Call pickup by feature code: a phone dials the group pickup code (`*8`) to answer a call ringing at a
number of its group, or the directed pickup prefix and a number (`**101`) to answer the call ringing
there. Pure: which code was dialled, and which ringing call it may take."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_NUMBER_RE = re.compile(r"^[0-9]{2,4}$")


@dataclass(frozen=True)
class Pickup:
    """A pickup asked for: of the call ringing at `number`, or (None) at any number of the group."""

    number: str | None = None


def pickup_request(dialled: str, code: str, prefix: str) -> Pickup | None:
    """The pickup `dialled` asks for, or None when it is no pickup code. The group code is matched
    first, so a prefix that begins the code (`*8` and `*`) does not shadow it."""
    if dialled == code:
        return Pickup()
    if dialled.startswith(prefix) and _NUMBER_RE.fullmatch(dialled[len(prefix) :]):
        return Pickup(dialled[len(prefix) :])
    return None


def may_pick_up(request: Pickup, picker: str, mates: Iterable[str], ringing_at: Iterable[str]) -> bool:
    """Whether a call ringing at `ringing_at` may be taken by `picker` (whose group mates are `mates`)."""
    wanted = {request.number} if request.number else set(mates)
    return bool(wanted & set(ringing_at) - {picker})
