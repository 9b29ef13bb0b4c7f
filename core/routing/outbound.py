"""Calls to and from the outside: who may call which outside numbers, which trunk and caller ID an
outside call leaves with, and where a call to one of our public numbers goes. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

import phonenumbers

from core.routing.decisions import REFUSALS, DialExternal, Disposition, Refusal, TrunkInfo
from core.routing.destinations import Destination

if TYPE_CHECKING:  # forwarding's ExtensionInfo holds an OutboundPermission: no import cycle at run time
    from core.routing.forwarding import ExtensionInfo


class OutboundPermission(StrEnum):
    """How far an internal number may call outside, each level including the ones before it."""

    INTERNAL = "internal"
    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"

    @property
    def rank(self) -> int:
        return list(OutboundPermission).index(self)


def is_external(dialled: str) -> bool:
    """Internal numbers are 2–4 digits; anything longer, or starting with +, is an outside number."""
    return dialled.startswith("+") or (dialled.isdigit() and len(dialled) > 4)


def permission_needed(number: str, country: str, local_prefixes: Sequence[str]) -> OutboundPermission:
    """The least outbound permission that may call this E.164 number."""
    if any(number.startswith(prefix) for prefix in local_prefixes):
        return OutboundPermission.LOCAL
    # same country calling code = national (so +1 is national from anywhere in the NANP)
    home_code = phonenumbers.country_code_for_region(country)
    national = phonenumbers.parse(number, None).country_code == home_code
    return OutboundPermission.NATIONAL if national else OutboundPermission.INTERNATIONAL


def decide_outbound(
    caller: ExtensionInfo | None, number: str | None, needed: OutboundPermission, trunk: TrunkInfo | None
) -> DialExternal | Refusal:
    """An internal number calls outside: `number` is the dialled number in E.164 (None if it is not one)."""
    if number is None:
        return REFUSALS[Disposition.INVALID_NUMBER]
    if caller is None or caller.outbound.rank < needed.rank:
        return REFUSALS[Disposition.FORBIDDEN]
    if trunk is None:
        return REFUSALS[Disposition.NO_ROUTE]
    return DialExternal(number, trunk, caller.external_caller_id or trunk.caller_id)


def decide_forward_external(number: str, trunk: TrunkInfo | None) -> DialExternal | Refusal:
    """A call forwarded (or routed) to the outside number `number` (E.164) leaves by `trunk`, showing
    the trunk's caller ID. Who may send calls outside is checked when the destination is configured."""
    if trunk is None:
        return REFUSALS[Disposition.NO_ROUTE]
    return DialExternal(number, trunk, trunk.caller_id)


def inbound_destination(did: str | None, routes: Mapping[str, Destination]) -> Destination | Refusal:
    """Where a call from a trunk to the public number `did` goes (its inbound route)."""
    if did is None or did not in routes:
        return REFUSALS[Disposition.UNKNOWN_NUMBER]
    return routes[did]
